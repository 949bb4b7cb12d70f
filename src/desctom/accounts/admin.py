"""Django admin: broker bindings (docs/authorization.md)."""

from django.contrib import admin

from desctom.accounts.models import BrokerBinding


@admin.register(BrokerBinding)
class BrokerBindingAdmin(admin.ModelAdmin):
    list_display = ("user", "broker_name", "created")
    list_filter = ("broker_name",)
    search_fields = ("user__username", "broker_name")
    autocomplete_fields = ("user",)
