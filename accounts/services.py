"""Setting up roles, office groups and their permissions, and the accounts that belong to them."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from accounts import roles
from accounts.models import MunicipalityGroupObjectPermission, OfficeEditors
from registry.models import CountyGovernor, Municipality


def _permissions(pairs):
    query = Q()
    for app_label, codename in pairs:
        query |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(query))


def municipality_permission():
    """The permission office groups hold on their municipalities, or None before `migrate` has created it.

    Looked up through a join rather than ContentType's in-process cache, which can outlive the rows
    it describes (a flushed or restored database).
    """
    return Permission.objects.filter(
        content_type__app_label=Municipality._meta.app_label,
        content_type__model=Municipality._meta.model_name,
        codename=roles.MUNICIPALITY_PERMISSION,
    ).first()


@transaction.atomic
def ensure_roles():
    """Create the national groups and one editors group per office, with their permissions.

    Grants each office group the object permission on every municipality of its counties and
    removes grants that no longer match (a municipality moved to another county). Idempotent;
    runs after every `migrate` and costs a fixed number of queries.
    """
    national_admins, _created = Group.objects.get_or_create(name=roles.NATIONAL_ADMINS)
    national_admins.permissions.set(_permissions(roles.NATIONAL_ADMIN_PERMISSIONS))
    readers, _created = Group.objects.get_or_create(name=roles.NATIONAL_READERS)
    readers.permissions.set(_permissions(roles.READER_PERMISSIONS))
    editor_permissions = _permissions(roles.EDITOR_PERMISSIONS)
    existing = {office.county_governor_id: office.group for office in OfficeEditors.objects.select_related("group")}
    for office in CountyGovernor.objects.all():
        group = existing.get(office.pk)
        if group is None:
            group, _created = Group.objects.get_or_create(name=roles.EDITORS_PREFIX + office.name)
            OfficeEditors.objects.create(county_governor=office, group=group)
        group.permissions.set(editor_permissions)
    sync_office_permissions()


def sync_office_permissions(municipalities=None):
    """Make the object permissions match the counties: each municipality's office group, and only it.

    `municipalities` limits the work to some rows (a saved municipality); default all.
    """
    permission = municipality_permission()
    if permission is None:
        return  # Permissions come with post_migrate, which runs ensure_roles() and grants everything then.
    office_group = dict(OfficeEditors.objects.values_list("county_governor_id", "group_id"))
    targets = (
        Municipality.objects.all()
        if municipalities is None
        else Municipality.objects.filter(pk__in=[m.pk for m in municipalities])
    )
    wanted = {
        (municipality_id, office_group[office_id])
        for municipality_id, office_id in targets.values_list("pk", "county__county_governor_id")
        if office_id in office_group
    }
    grants = MunicipalityGroupObjectPermission.objects.filter(
        permission=permission, content_object__in=targets, group_id__in=office_group.values()
    )
    have = set(grants.values_list("content_object_id", "group_id"))
    stale = have - wanted
    if stale:
        stale_query = Q()
        for municipality_id, group_id in stale:
            stale_query |= Q(content_object_id=municipality_id, group_id=group_id)
        grants.filter(stale_query).delete()
    MunicipalityGroupObjectPermission.objects.bulk_create(
        [
            MunicipalityGroupObjectPermission(content_object_id=m, group_id=g, permission=permission)
            for m, g in sorted(wanted - have)
        ]
    )


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
