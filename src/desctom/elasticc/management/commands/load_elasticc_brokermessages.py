"""``desctom load_elasticc_brokermessages FILE...``: store v0.9 broker classification messages (JSON)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from desctom.elasticc.loaders.brokermessages import MessageError, load_messages


def read_messages(path: Path) -> list:
    """A JSON list of messages, one JSON message, or JSON lines (one message per line)."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: cannot read ({exc})") from None
    try:
        data = json.loads(text)
        return data if isinstance(data, list) else [data]
    except ValueError:
        pass
    messages = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                messages.append(json.loads(line))
            except ValueError as exc:
                raise CommandError(f"{path}: line {lineno} is not JSON ({exc})") from None
    return messages


class Command(BaseCommand):
    help = ("Store ELAsTiCC 1 (v0.9) brokerClassification messages from JSON files: one row per message "
            "in elasticc_brokermessage, one per (message, classifier, class) in "
            "elasticc_brokerclassification. Reloading a file adds nothing (messages are keyed by topic "
            "and position).")

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--topic", help="topicName to record (default: file:<file name>)")

    def handle(self, *args, **opts):
        for path in opts["files"]:
            messages = read_messages(path)
            try:
                result = load_messages(messages, topic=opts["topic"] or f"file:{path.name}")
            except MessageError as exc:
                raise CommandError(f"{path}: {exc}; nothing from this file was stored") from None
            self.stdout.write(f"{path.name}: {result.messages} messages, {result.classifications} "
                              f"classifications, {result.duplicates} already stored, "
                              f"{result.new_classifiers} new classifiers")
