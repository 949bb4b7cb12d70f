"""``desctom user``: plain accounts without the admin pages.

    desctom user add NAME [--password-file F] [--group G ...] [--superuser]
    desctom user passwd NAME --password-file F
    desctom user token NAME [--renew]
    desctom user list
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from desctom.accounts.queries import users


class Command(BaseCommand):
    help = ("Manage user accounts without the admin pages: create one (prints its API token), set its "
            "password, show or renew its token, list accounts. Broker accounts: `desctom broker-account`.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create an account and print its API token")
        add.add_argument("user")
        add.add_argument("--password-file", type=Path, metavar="F",
                         help="file whose first line is the password (default: no password, token only)")
        add.add_argument("--group", action="append", default=[], metavar="G",
                         help="existing group to join, besides Public (repeatable), e.g. elasticc_admin")
        add.add_argument("--superuser", action="store_true", help="make it a superuser (and staff)")
        passwd = sub.add_parser("passwd", help="set an account's password from a file")
        passwd.add_argument("user")
        passwd.add_argument("--password-file", type=Path, metavar="F", required=True,
                            help="file whose first line is the new password")
        token = sub.add_parser("token", help="print an account's API token (made if it has none)")
        token.add_argument("user")
        token.add_argument("--renew", action="store_true", help="replace it: the old token stops working")
        sub.add_parser("list", help="one line per account: name, groups, flags")

    def handle(self, *args, action, **options):
        try:
            return getattr(self, f"do_{action}")(**options)
        except users.AccountError as exc:
            raise CommandError(str(exc)) from None

    def do_add(self, user, password_file=None, group=(), superuser=False, **_):
        password = users.read_password_file(password_file) if password_file is not None else None
        account, token = users.add_user(user, password, group, superuser=superuser)
        joined = ", ".join(sorted(account.groups.values_list("name", flat=True))) or "none"
        kind = "superuser" if superuser else "account"
        how = "password from the file or token" if password else "token only (no password)"
        self.stdout.write(f"created {kind} {account.get_username()!r}; groups: {joined}; signs in by {how}")
        self.stdout.write(f"API token: {token}")

    def do_passwd(self, user, password_file, **_):
        users.set_password(user, users.read_password_file(password_file))
        self.stdout.write(f"{user}: password changed")

    def do_token(self, user, renew=False, **_):
        key = users.renew_token(user) if renew else users.api_token(users.find(user))
        self.stdout.write(f"API token: {key}")

    def do_list(self, **_):
        for row in users.described():
            flags = [name for name in ("is_superuser", "is_staff") if row[name]]
            flags += [] if row["password"] else ["token-only"]
            flags += [] if row["active"] else ["inactive"]
            self.stdout.write("\t".join([row["username"], ",".join(row["groups"]) or "-",
                                         ",".join(f.removeprefix("is_") for f in flags) or "-"]))
