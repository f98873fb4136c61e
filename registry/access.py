"""The access rule, as the registry asks it.

The rule belongs to `accounts` (people and permissions; accounts.access). The registry's write path
(registry.services) and its public pages must ask it, but the registry imports nothing from accounts:
dependencies point towards the registry. So accounts installs its rule here when Django starts
(AccountsConfig.ready), and every question below goes to it.
"""

from django.core.exceptions import ImproperlyConfigured

_rule = None


def install(rule):
    """Called once, by AccountsConfig.ready, with the module that holds the rule (accounts.access)."""
    global _rule
    _rule = rule


def _ask(question, *args):
    if _rule is None:
        raise ImproperlyConfigured("The access rule is not installed: `accounts` must be in INSTALLED_APPS.")
    return getattr(_rule, question)(*args)


def sees_restricted_numbers(user):
    """True when `user` may see numbers marked "authorities only"."""
    return _ask("sees_restricted_numbers", user)


def may_view_list(user):
    """True when `user` may read the national list, its exports and its API."""
    return _ask("may_view_list", user)


def is_national_admin(user):
    return _ask("is_national_admin", user)


def office_ids_for(user):
    """The ids of the offices `user` edits for (all of them for national administrators)."""
    return _ask("office_ids_for", user)


def check_may_change(user, objects):
    """Raise PermissionDenied unless `user` may change every object, as stored and as it would be saved."""
    return _ask("check_may_change", user, objects)


def check_may_appoint(user, appointments):
    """Raise PermissionDenied unless `user` may make or change each appointment (HPR rule for others' physicians)."""
    return _ask("check_may_appoint", user, appointments)


def check_national(user, what):
    """Raise PermissionDenied unless `user` is a national administrator."""
    return _ask("check_national", user, what)


def keepers(model, pks):
    """{pk: [offices that keep it]} for rows `pks` of `model`, by the ownership rule (two queries)."""
    return _ask("keepers", model, pks)


def kept_by_text(offices):
    """Who may change a row kept by `offices`, by name ("the national administrators" when none)."""
    return _ask("kept_by_text", offices)
