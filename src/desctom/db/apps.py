from django.apps import AppConfig


class DbConfig(AppConfig):
    """Raw SQL over HTTP, run as a read-only PostgreSQL role; the queue of long queries."""

    name = "desctom.db"
    label = "db"  # table db_queryqueue is part of the public contract
    verbose_name = "SQL queries"

    def ready(self):
        from django.db.models.signals import post_migrate

        from desctom.db.workers.roles import setup_after_migrate

        post_migrate.connect(setup_after_migrate, sender=self, dispatch_uid="desctom_db_readonly_role")
