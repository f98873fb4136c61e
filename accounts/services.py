"""Setting up roles, office groups and their permissions, and the accounts that belong to them."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from accounts import roles
from accounts.models import CountyGovernorGroupObjectPermission, OfficeEditors
from registry.models import CountyGovernor


def _permissions(pairs):
    query = Q()
    for app_label, codename in pairs:
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(query))


@transaction.atomic
def ensure_roles():
    """Create the national groups and one editors group per office, with their permissions.

    Grants each office group the object permission `registry.edit_region` on its own office: that is the
    whole grant, since the office's region is read from its counties when access is asked for
    (accounts.access), so no grant follows a county or municipality that moves. Idempotent; runs after
    every `migrate`.
    """
    national_admins, _created = Group.objects.get_or_create(name=roles.NATIONAL_ADMINS)
    national_admins.permissions.set(_permissions(roles.NATIONAL_ADMIN_PERMISSIONS))
    readers, _created = Group.objects.get_or_create(name=roles.NATIONAL_READERS)
    readers.permissions.set(_permissions(roles.READER_PERMISSIONS))
    editor_permissions = _permissions(roles.EDITOR_PERMISSIONS)
    if not _permissions([("registry", roles.OFFICE_PERMISSION)]):
        return  # post_migrate has not created the registry's permissions yet; it runs this again after.
    existing = {office.county_governor_id: office.group for office in OfficeEditors.objects.select_related("group")}
    for office in CountyGovernor.objects.all():
        group = existing.get(office.pk)
        if group is None:
            group, _created = Group.objects.get_or_create(name=roles.EDITORS_PREFIX + office.name)
            OfficeEditors.objects.create(county_governor=office, group=group)
        group.permissions.set(editor_permissions)
        grant_office(office, group)


def grant_office(office, group):
    """Give `group` the right to edit the region of `office`; nothing if it has it already."""
    permission = f"registry.{roles.OFFICE_PERMISSION}"
    if not CountyGovernorGroupObjectPermission.objects.filter(
        group=group, content_object=office, permission__codename=roles.OFFICE_PERMISSION
    ).exists():
        assign_perm(permission, group, office)


def office_by_code(code):
    try:
        return CountyGovernor.objects.get(code=code)
    except CountyGovernor.DoesNotExist:
        codes = ", ".join(CountyGovernor.objects.values_list("code", flat=True))
        raise ValidationError(
            _("There is no office with the code %(code)r. Use one of: %(codes)s.") % {"code": code, "codes": codes}
        ) from None


def _account(username, email, reset_password=False):
    """Return (user, initial password or None): a new user (or a reset one) gets a random password to hand over."""
    user, created = get_user_model().objects.get_or_create(username=username)
    password = None
    if created or reset_password:
        password = secrets.token_urlsafe(12)
        user.set_password(password)
    if email:
        user.email = email
    user.is_active = True
    return user, password


@transaction.atomic
def add_editor(*, username, office_code, email=None, reset_password=False):
    """Create or update an editor of the office with `office_code`; return (user, initial password or None)."""
    office = office_by_code(office_code)
    ensure_roles()
    user, password = _account(username, email, reset_password)
    user.is_staff = True
    user.save()
    user.groups.add(office.editors.group)
    return user, password


@transaction.atomic
def add_reader(*, username, email=None, reset_password=False):
    """Create or update a national reader (FHI, Helsedirektoratet); return (user, initial password or None)."""
    ensure_roles()
    user, password = _account(username, email, reset_password)
    user.save()
    user.groups.add(Group.objects.get(name=roles.NATIONAL_READERS))
    return user, password


@transaction.atomic
def add_national_admin(*, username, email=None, reset_password=False):
    """Create or update a national administrator (Helsedirektoratet); return (user, initial password or None)."""
    ensure_roles()
    user, password = _account(username, email, reset_password)
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name=roles.NATIONAL_ADMINS))
    return user, password
