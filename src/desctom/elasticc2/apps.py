from django.apps import AppConfig


class Elasticc2Config(AppConfig):
    """ELAsTiCC2: the simulated PPDB, truth, taxonomy, broker messages, follow-up tables."""

    name = "desctom.elasticc2"
    label = "elasticc2"  # table names elasticc2_* are part of the public contract
    verbose_name = "ELAsTiCC2"

    def target_detail_buttons(self):
        """TOM Toolkit hook: a button on a target's page back to its ELAsTiCC2 object page."""
        return [{"partial": "elasticc2/_target_button.html",
                 "context": "desctom.elasticc2.http.pages.objects.target_button_context"}]
