from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users, groups and the JSON side of authentication."""

    name = "desctom.accounts"
    label = "desctom_accounts"

    def ready(self):
        from desctom.accounts.http import signals, throttle  # noqa: F401  (connects the receivers)
