"""The ELAsTiCC2 front page, the classifier registry and the admin summary."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.views.generic import TemplateView

from desctom.core.permissions import is_admin
from desctom.elasticc2.queries import overview
from desctom.elasticc2.queries.classifiers import classifier_table
from desctom.elasticc2.queries.clock import simulation_clock as sim_clock
from desctom.survey.mjd import mjd_to_date


class Elasticc2Page(LoginRequiredMixin, TemplateView):
    """A logged-in page; POST renders like GET, as in the original."""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "is_admin": is_admin(self.request.user)}

    def post(self, request, *args, **kwargs):
        return self.get(request, *args, **kwargs)


class FrontPageView(Elasticc2Page):
    """``/elasticc2/``: live counts, the simulation clock, streaming and poller status, links."""

    template_name = "elasticc2/index.html"

    def get_context_data(self, **kwargs):
        clock = sim_clock()
        return {**super().get_context_data(**kwargs), "counts": overview.campaign_counts(),
                "clock": clock, "clock_date": mjd_to_date(clock) if clock is not None else None,
                "last_night": overview.last_night(), **overview.streaming_status()}


class ClassifiersView(Elasticc2Page):
    """``/elasticc2/classifiers``: the classifier registry with message counts."""

    template_name = "elasticc2/classifiers.html"

    def get_context_data(self, **kwargs):
        classifiers, estimated = classifier_table()
        return {**super().get_context_data(**kwargs), "classifiers": classifiers, "estimated": estimated}


class AdminSummaryView(UserPassesTestMixin, Elasticc2Page):
    """``/elasticc2/adminsummary``: table sizes and known objects per true class (admins only)."""

    template_name = "elasticc2/adminsummary.html"
    def test_func(self):
        return is_admin(self.request.user)

    def get_context_data(self, **kwargs):
        types, sampled = overview.objects_per_true_class()
        tables = overview.admin_table_counts()
        return {**super().get_context_data(**kwargs), "tables": tables, "types": types, "sampled": sampled,
                "clock": sim_clock()}
