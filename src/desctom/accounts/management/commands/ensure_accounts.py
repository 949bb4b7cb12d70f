"""``desctom ensure_accounts``: create the standard groups and, if no superuser exists, the admin."""

import os

from django.core.management.base import BaseCommand

from desctom.accounts.workers.setup import ensure_admin, ensure_groups
from desctom.core import config


class Command(BaseCommand):
    help = ("Create the groups Public, elasticc_admin, elasticc_broker if missing, and an admin account "
            "($DESCTOM_ADMIN_USER, password $DESCTOM_ADMIN_PASSWORD or generated) if no superuser exists.")

    def add_arguments(self, parser):
        parser.add_argument("--no-print-password", action="store_true",
                            help="do not print a generated password (it is still written to the data dir)")

    def handle(self, *args, **options):
        cfg = config.load()
        for name in ensure_groups():
            self.stdout.write(f"created group {name}")
        given = os.environ.get("DESCTOM_ADMIN_PASSWORD") or None
        created, password = ensure_admin(cfg.admin_user, given)
        if not created:
            return
        if given:
            cfg.admin_password_file.unlink(missing_ok=True)
            self.stdout.write(f"created admin account {cfg.admin_user!r} "
                              "(password from DESCTOM_ADMIN_PASSWORD)")
            return
        config.write_private(cfg.admin_password_file, password + "\n")
        if options["no_print_password"]:
            self.stdout.write(f"created admin account {cfg.admin_user!r}; "
                              f"password in {cfg.admin_password_file}")
            return
        self.stdout.write(
            f"created admin account {cfg.admin_user!r} with password {password}\n"
            f"  (shown once; also kept, readable by you only, in {cfg.admin_password_file})"
        )
