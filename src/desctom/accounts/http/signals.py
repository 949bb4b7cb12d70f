"""Every new user joins the default group (``Public``), as the original TOM expected."""

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(post_save, sender=User, dispatch_uid="desctom_join_default_group")
def join_default_group(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        group, _ = Group.objects.get_or_create(name=settings.DESCTOM_DEFAULT_GROUP)
        instance.groups.add(group)
