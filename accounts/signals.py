"""Keep office permissions in step with the reference data, however it changes."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts import services
from registry.models import Municipality


def ensure_roles_after_migrate(sender, **kwargs):
    # Permissions are created by post_migrate too; run after them, for our app only.
    if sender.name == "accounts":
        services.ensure_roles()


@receiver(post_save, sender=Municipality, dispatch_uid="accounts_municipality_office")
def grant_office_permissions(sender, instance, raw=False, **kwargs):
    """A new municipality, or one moved to another county, belongs to its (new) office's editors."""
    if not raw:
        services.sync_office_permissions([instance])
