from django.apps import AppConfig


class Elasticc2Config(AppConfig):
    """ELAsTiCC2: the simulated PPDB, truth, taxonomy, broker messages, follow-up tables."""

    name = "desctom.elasticc2"
    label = "elasticc2"  # table names elasticc2_* are part of the public contract
    verbose_name = "ELAsTiCC2"
