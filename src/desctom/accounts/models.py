"""Broker identity: which broker names an account of ``elasticc_broker`` may post messages as."""

from django.conf import settings
from django.db import models


class BrokerBinding(models.Model):
    """One broker name an account may post as (``PUT /elasticc2/brokermessage/``); admin-managed.

    An account may have several; a broker name may be bound to several accounts (e.g. a new key
    while the old one is retired). Names compare exactly, as ``brokerName`` is stored.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="broker_bindings")
    broker_name = models.CharField(max_length=100, help_text="brokerName this account may post messages as")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "broker_name"], name="brokerbinding_unique")]
        ordering = ["user__username", "broker_name"]

    def __str__(self) -> str:
        return f"{self.user.get_username()} → {self.broker_name}"
