"""The access rules, written once. Views, admin classes and imports call these; they never decide access themselves."""

from django.conf import settings
from guardian.shortcuts import get_objects_for_user

from accounts.roles import MUNICIPALITY_PERMISSION, NATIONAL_ADMINS
from registry.models import Municipality

RESTRICTED_NUMBERS_PERMISSION = "registry.view_authorities_only"


def sees_restricted_numbers(user):
    """Return True when `user` may see phone numbers marked "authorities only".

    National readers, editors and administrators hold the permission through their groups;
    anonymous visitors never do.
    """
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(RESTRICTED_NUMBERS_PERMISSION))


def is_national_admin(user):
    """Superusers and members of the national administrators group see and manage every region."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.groups.filter(name=NATIONAL_ADMINS).exists()


def municipalities_for(user):
    """Return the municipalities `user` may edit: all for national administrators, else their offices' own.

    Guardian's object permissions decide (held by the office's editors group); global permissions
    are not accepted, so a model-level "change municipality" never widens an editor's region.
    """
    if not (user and user.is_authenticated and user.is_active):
        return Municipality.objects.none()
    if is_national_admin(user):
        return Municipality.objects.all()
    return get_objects_for_user(
        user, f"registry.{MUNICIPALITY_PERMISSION}", klass=Municipality, accept_global_perms=False, with_superuser=False
    )


def may_view_list(user):
    """Return True when `user` may read the national list, its exports and its API.

    Open to everyone unless the deployment sets REGISTRY_LIST_REQUIRES_LOGIN; then only to logged-in users.
    """
    if not settings.REGISTRY_LIST_REQUIRES_LOGIN:
        return True
    return bool(user and user.is_authenticated and user.is_active)
