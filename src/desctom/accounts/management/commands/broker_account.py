"""``desctom broker_account`` (also ``desctom broker-account``): broker accounts and their broker names.

    desctom broker_account add USER [--password-file F] [--broker NAME ...]
    desctom broker_account bind USER BROKERNAME...
    desctom broker_account unbind USER [BROKERNAME...]     (all of the account's names if none given)
    desctom broker_account list [USER]
"""

from pathlib import Path

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from desctom.accounts.models import BrokerBinding
from desctom.accounts.queries import brokers, users


def _user(name: str) -> User:
    try:
        return User.objects.get(username=name)
    except User.DoesNotExist:
        raise CommandError(f"no account named {name!r}") from None


class Command(BaseCommand):
    help = ("Manage broker accounts: create one (group elasticc_broker, prints its API token), and bind or "
            "unbind the broker names (brokerName) it may PUT messages as.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create an account in elasticc_broker and print its API token")
        add.add_argument("user")
        add.add_argument("--password-file", type=Path, metavar="F",
                         help="file whose first line is the password (default: no password, token only)")
        add.add_argument("--broker", action="append", default=[], metavar="NAME",
                         help="broker name to bind at once (repeatable)")
        bind = sub.add_parser("bind", help="let USER post as these broker names")
        bind.add_argument("user")
        bind.add_argument("names", nargs="+", metavar="BROKERNAME")
        unbind = sub.add_parser("unbind", help="take broker names away from USER (all if none given)")
        unbind.add_argument("user")
        unbind.add_argument("names", nargs="*", metavar="BROKERNAME")
        listing = sub.add_parser("list", help="list bindings (of USER, or all)")
        listing.add_argument("user", nargs="?")

    def handle(self, *args, action, **options):
        return getattr(self, f"do_{action}")(**options)

    def do_add(self, user, password_file=None, broker=(), **_):
        if User.objects.filter(username=user).exists():
            raise CommandError(f"an account named {user!r} exists already; "
                               "use `bind` to give it broker names")
        try:
            password = users.read_password_file(password_file) if password_file is not None else None
        except users.AccountError as exc:
            raise CommandError(str(exc)) from None
        for name in broker:
            self._check_name(name)
        try:
            account, token = brokers.add_broker_account(user, password, broker)
        except users.AccountError as exc:
            raise CommandError(str(exc)) from None
        names = ", ".join(broker) if broker else "none yet (use `bind`)"
        self.stdout.write(f"created broker account {user!r} in group {brokers.BROKER_GROUP}; "
                          f"broker names: {names}")
        self.stdout.write(f"API token: {token}")

    def do_bind(self, user, names, **_):
        account = _user(user)
        for name in names:
            self._check_name(name)
        added = brokers.bind(account, names)
        if not brokers.may_push(account):
            self.stderr.write(f"warning: {user!r} is not in group {brokers.BROKER_GROUP} and is no "
                              "superuser: it may not PUT broker messages until it is")
        self.stdout.write(f"{user}: bound {', '.join(added) if added else 'nothing new'}; "
                          f"may post as {', '.join(brokers.bound_names(account))}")

    def do_unbind(self, user, names, **_):
        account = _user(user)
        removed = brokers.unbind(account, names or None)
        left = brokers.bound_names(account)
        may = ", ".join(left) if left else "nothing"
        self.stdout.write(f"{user}: removed {removed} binding(s); may post as {may}")

    def do_list(self, user=None, **_):
        rows = BrokerBinding.objects.select_related("user")
        if user:
            rows = rows.filter(user=_user(user))
        for row in rows:
            self.stdout.write(f"{row.user.get_username()}\t{row.broker_name}")

    @staticmethod
    def _check_name(name: str) -> None:
        if not name or len(name) > 100:
            raise CommandError(f"a broker name must be 1 to 100 characters long, not {len(name)}")
