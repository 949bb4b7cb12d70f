"""``desctom demo reset [--yes]``: empty the campaign's tables (users and accounts stay)."""

from __future__ import annotations

import sys

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

#: Apps whose tables hold campaign data.
CAMPAIGN_APPS = ("elasticc2", "elasticc", "metrics")
#: Tables filled by migrations (taxonomy), kept by a reset.
KEEP_SUFFIXES = ("gentypeofclassid", "classidofgentype")


def campaign_tables() -> list[str]:
    """The campaign's data tables present in this installation."""
    tables = []
    for label in CAMPAIGN_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            table = model._meta.db_table
            if model._meta.managed and not table.endswith(KEEP_SUFFIXES):
                tables.append(table)
    existing = set(connection.introspection.table_names())
    return sorted(t for t in tables if t in existing)


class Command(BaseCommand):
    help = "Demo campaign tools. `reset`: empty every campaign table (alerts, objects, messages, ...)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["reset"])
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, **opts):
        tables = campaign_tables()
        db = connection.settings_dict
        where = f"database {db['NAME']} on {db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
        if not opts["yes"]:
            if not sys.stdin.isatty():
                raise CommandError("refusing to reset without confirmation: add --yes")
            self.stdout.write(f"This deletes every row of {len(tables)} campaign tables in {where} "
                              "(alerts, objects, broker messages, spectra, metrics). Users stay.")
            if input("Type 'reset' to go on: ").strip() != "reset":
                raise CommandError("not reset")
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables)
                        + " RESTART IDENTITY CASCADE")
        self.stdout.write(f"reset: emptied {len(tables)} campaign tables in {where}; a running "
                          "`desctom up --demo` starts a new campaign at its next night")
