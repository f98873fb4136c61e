"""The access rules, written once. Views, admin classes and imports call these; they never decide access themselves."""

from django.conf import settings

RESTRICTED_NUMBERS_PERMISSION = "registry.view_authorities_only"


def sees_restricted_numbers(user):
    """Return True when `user` may see phone numbers marked "authorities only".

    National readers, editors and administrators hold the permission through their groups;
    anonymous visitors never do.
    """
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(RESTRICTED_NUMBERS_PERMISSION))


def may_view_list(user):
    """Return True when `user` may read the national list, its exports and its API.

    Open to everyone unless the deployment sets REGISTRY_LIST_REQUIRES_LOGIN; then only to logged-in users.
    """
    if not settings.REGISTRY_LIST_REQUIRES_LOGIN:
        return True
    return bool(user and user.is_authenticated and user.is_active)
