"""HTML pages of the ELAsTiCC 1 app: front page, summary, admin summary (counts from
:mod:`desctom.elasticc.queries.overview`)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.views.generic import TemplateView

from desctom.core.permissions import is_admin
from desctom.elasticc.queries.overview import admin_counts, summary_counts


class FrontPageView(LoginRequiredMixin, TemplateView):
    """``/elasticc/``: links to the pages and the API."""

    template_name = "elasticc/index.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "is_admin": is_admin(self.request.user)}

    post = TemplateView.get


class SummaryView(LoginRequiredMixin, TemplateView):
    """``/elasticc/summary``: what the campaign holds."""

    template_name = "elasticc/summary.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **summary_counts()}

    post = TemplateView.get


class AdminSummaryView(LoginRequiredMixin, UserPassesTestMixin, TemplateView):
    """``/elasticc/adminsummary``: table sizes and object types (ELAsTiCC admins only)."""

    template_name = "elasticc/adminsummary.html"

    def test_func(self):
        return is_admin(self.request.user)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **admin_counts()}

    post = TemplateView.get
