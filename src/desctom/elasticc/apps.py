from django.apps import AppConfig


class ElasticcConfig(AppConfig):
    """ELAsTiCC (1), the first campaign (2022-23): legacy tables and read-mostly API."""

    name = "desctom.elasticc"
    label = "elasticc"
    verbose_name = "ELAsTiCC"
