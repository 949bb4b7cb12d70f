"""``desctom``: every Django management command, plus ``up``, ``down`` and ``status``.

    desctom up [--detach]     start PostgreSQL, Kafka, the web server and the workers
    desctom down              stop what `up` started
    desctom status [--json]   each component: running or not, address, health
    desctom <command> ...     any management command (migrate, createsuperuser, shell, ...)
"""

from __future__ import annotations

import argparse
import json
import os
import sys

STACK_COMMANDS = ("up", "down", "status")


def _stack_main(argv: list[str]) -> int:
    from desctom import config
    from desctom.localstack.procs import StackError
    from desctom.localstack.stack import AlreadyRunning, SystemStack, exit_with, format_status

    parser = argparse.ArgumentParser(prog=f"desctom {argv[0]}")
    if argv[0] == "up":
        parser.add_argument("--detach", "-d", action="store_true",
                            help="run in the background and return once everything answers")
    if argv[0] == "status":
        parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv[1:])
    try:
        cfg = config.load()
    except config.ConfigError as exc:
        return exit_with(str(exc), 2)
    stack = SystemStack(cfg)
    try:
        if argv[0] == "up":
            return stack.start_detached() if args.detach else stack.run()
        if argv[0] == "down":
            stopped = stack.down()
            print("stopped: " + ", ".join(stopped) if stopped else "DESC TOM is not running")
            return 0
        status = stack.status()
        print(json.dumps(status, indent=2) if args.json else format_status(status))
        return 0 if status["running"] else 3
    except AlreadyRunning as exc:
        return exit_with(str(exc), 1)
    except StackError as exc:
        return exit_with(f"error: {exc}", 1)
    except KeyboardInterrupt:
        return exit_with("interrupted", 130)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in STACK_COMMANDS:
        return _stack_main(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desctom.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["desctom", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
