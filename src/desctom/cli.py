"""``desctom``: every Django management command, plus ``up``, ``down`` and ``status``.

    desctom up [--detach] [--demo ...] [--sql-replica]  start PostgreSQL, Kafka, the web server and
                              the workers (--demo: and a simulated campaign; --sql-replica: and a read
                              replica for users' SQL; see `desctom up --help`)
    desctom down              stop what `up` started
    desctom status [--json]   each component: running or not, address, health
    desctom backup PATH       consistent backup (database dump, query results, manifest); works while up
    desctom restore PATH      restore a backup into an empty data dir (DESCTOM_HOME), verified
    desctom broker-account add NAME [--password-file F] [--broker NAME ...]
                              a broker account (group elasticc_broker) and the broker names it may post
                              as; prints its API token (also bind|unbind|list; = broker_account)
    desctom user add NAME [--password-file F] [--group G ...] [--superuser]
                              a plain account without the admin pages; prints its API token
                              (also passwd|token|list)
    desctom <command> ...     any management command (migrate, createsuperuser, shell, ...)
"""

from __future__ import annotations

import argparse
import json
import os
import sys

STACK_COMMANDS = ("up", "down", "status")
BACKUP_COMMANDS = ("backup", "restore")
#: Hyphenated spellings of management commands (issue 19: ``desctom broker-account add NAME``).
HYPHENATED = {"broker-account": "broker_account"}


def _stack_main(argv: list[str]) -> int:
    from desctom.core import config
    from desctom.core.demo import DemoOptions
    from desctom.localstack.procs import StackError
    from desctom.localstack.stack import AlreadyRunning, SystemStack, exit_with, format_status

    parser = argparse.ArgumentParser(prog=f"desctom {argv[0]}")
    if argv[0] == "up":
        parser.add_argument("--detach", "-d", action="store_true",
                            help="run in the background and return once everything answers")
        demo = DemoOptions()
        parser.add_argument("--demo", action="store_true",
                            help="run a simulated campaign: data on an empty database, the fake broker, "
                                 "one night of alerts every --night-seconds")
        parser.add_argument("--demo-objects", type=int, default=demo.objects, metavar="N",
                            help=f"objects of the demo's synthetic survey (default {demo.objects})")
        parser.add_argument("--demo-seed", type=int, default=demo.seed, metavar="S",
                            help=f"its random seed (default {demo.seed})")
        parser.add_argument("--snana", action="extend", nargs="+", default=[], metavar="PATH",
                            help="demo with this SNANA output (directories or .tar.bz2 files) instead")
        parser.add_argument("--night-seconds", type=float, default=demo.night_seconds, metavar="S",
                            help=f"real seconds per simulated night (default {demo.night_seconds:g})")
        parser.add_argument("--sql-replica", action="store_true",
                            help="also run a hot standby of the embedded PostgreSQL (on "
                                 "DESCTOM_PG_REPLICA_PORT) and run users' SQL there (docs/operations.md)")
    if argv[0] == "status":
        parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv[1:])
    demo_options = None
    if argv[0] == "up" and args.demo:
        if args.demo_objects < 1 or args.demo_seed < 0 or args.night_seconds <= 0:
            return exit_with("--demo-objects must be positive, --demo-seed not negative, --night-seconds "
                             "positive", 2)
        missing = [p for p in args.snana if not os.path.exists(p)]
        if missing:
            return exit_with(f"--snana: no such file or directory: {', '.join(missing)}", 2)
        demo_options = DemoOptions(objects=args.demo_objects, seed=args.demo_seed,
                                   snana=[os.path.abspath(p) for p in args.snana],
                                   night_seconds=args.night_seconds)
    elif argv[0] == "up" and args.snana:
        return exit_with("--snana needs --demo", 2)
    try:
        cfg = config.load()
    except config.ConfigError as exc:
        return exit_with(str(exc), 2)
    stack = SystemStack(cfg, demo_options, sql_replica=argv[0] == "up" and args.sql_replica)
    try:
        if argv[0] == "up":
            return stack.start_detached() if args.detach else stack.run()
        if argv[0] == "down":
            stopped = stack.down()
            print("stopped: " + ", ".join(stopped) if stopped else "DESC TOM is not running")
            return 0
        status = stack.status()
        print(json.dumps(status, indent=2) if args.json else format_status(status))
        return 0 if status["running"] and status["healthy"] else 3
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
    if argv and argv[0] in BACKUP_COMMANDS:
        from desctom.localstack.backup import main as backup_main

        return backup_main(argv)
    if argv and argv[0] in HYPHENATED:
        argv[0] = HYPHENATED[argv[0]]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "desctom.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["desctom", *argv])
    return 0


if __name__ == "__main__":
    sys.exit(main())
