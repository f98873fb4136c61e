"""The access rule, written once. The admin, the import, the API, the public pages and the registry's write
path (registry.services, through registry.access) all ask these helpers; none decides access itself.

Who edits what (README, "Who edits what"):

- An office keeps the municipalities of its counties today, their appointments, and the numbers they own.
  The office's editors group holds guardian's object permission `registry.edit_region` on the office
  itself (accounts.services.ensure_roles); which municipalities that covers is read from the counties
  when access is asked for, so a county moved to another office moves the edit rights with it.
- A physician belongs to the offices where they hold a current or future appointment; with none, to the
  office that registered them; with none of those, to national administrators
  (`registry.models.PhysicianQuerySet.kept_by`). Only the physician's own offices change the person:
  name, e-mail, HPR number, phone numbers and their visibility. Another office may appoint an existing
  physician when it gives their exact HPR number; that changes nothing about the person.
- National administrators and superusers keep every region.
"""

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from guardian.shortcuts import get_objects_for_user

from accounts.roles import NATIONAL_ADMINS, OFFICE_PERMISSION
from registry.models import (
    Appointment,
    Arrangement,
    County,
    CountyGovernor,
    District,
    FormerNumber,
    FunctionContact,
    Legevakt,
    Membership,
    Municipality,
    Phone,
    Physician,
)

RESTRICTED_NUMBERS_PERMISSION = "registry.view_authorities_only"


def _active(user):
    return bool(user and user.is_authenticated and user.is_active)


def sees_restricted_numbers(user):
    """Return True when `user` may see phone numbers marked "authorities only".

    National readers, editors and administrators hold the permission through their groups;
    anonymous visitors never do. One query, remembered on the user for the request: user.has_perm()
    reads the user's and the groups' permissions in two, and the national list has a budget of ten.
    """
    if not _active(user):
        return False
    cached = getattr(user, "_registry_sees_restricted", None)
    if cached is None:
        app_label, codename = RESTRICTED_NUMBERS_PERMISSION.split(".")
        cached = user.is_superuser or (
            Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            .filter(Q(user=user) | Q(group__user=user))
            .exists()
        )
        user._registry_sees_restricted = cached
    return cached


def may_view_list(user):
    """Return True when `user` may read the national list, its exports and its API.

    Open to everyone unless the deployment sets REGISTRY_LIST_REQUIRES_LOGIN; then only to logged-in users.
    """
    if not settings.REGISTRY_LIST_REQUIRES_LOGIN:
        return True
    return _active(user)


def is_national_admin(user):
    """Superusers and members of the national administrators group keep every region.

    Remembered on the user object for the rest of the request (one query at most).
    """
    if not _active(user):
        return False
    cached = getattr(user, "_registry_is_national_admin", None)
    if cached is None:
        cached = user.is_superuser or user.groups.filter(name=NATIONAL_ADMINS).exists()
        user._registry_is_national_admin = cached
    return cached


def offices_for(user):
    """The offices `user` edits for, as a queryset: all for national administrators, none for anonymous users.

    Guardian's object permissions decide (held through the office's editors group, or given to one user);
    global permissions are not accepted, so a model-level permission never widens an editor's region.
    """
    if not _active(user):
        return CountyGovernor.objects.none()
    if is_national_admin(user):
        return CountyGovernor.objects.all()
    return get_objects_for_user(
        user, f"registry.{OFFICE_PERMISSION}", klass=CountyGovernor, accept_global_perms=False, with_superuser=False
    )


def office_ids_for(user):
    """The ids of the offices `user` edits for, remembered on the user object for the rest of the request."""
    cached = getattr(user, "_registry_office_ids", None)
    if cached is None:
        cached = frozenset(offices_for(user).values_list("pk", flat=True))
        if user is not None:
            try:
                user._registry_office_ids = cached
            except AttributeError:  # AnonymousUser and friends
                pass
    return cached


def municipalities_for(user):
    """The municipalities `user` may edit (function contacts, confirmation, appointments in them)."""
    if is_national_admin(user):
        return Municipality.objects.all()
    return Municipality.objects.kept_by(offices_for(user))


def editable(model, user, queryset=None):
    """The rows of `model` (or of `queryset`) that `user` may change."""
    queryset = model._default_manager.all() if queryset is None else queryset
    if is_national_admin(user):
        return queryset
    if model in (County, CountyGovernor, FormerNumber):
        return queryset.none()  # reference data: national administrators only
    return queryset.kept_by(offices_for(user))


def editable_arrangements(user):
    return editable(Arrangement, user)


def editable_physicians(user):
    return editable(Physician, user)


def editable_appointments(user):
    return editable(Appointment, user)


def editable_phones(user):
    return editable(Phone, user)


def editable_municipalities(user):
    return editable(Municipality, user)


def keepers(model, pks=None):
    """Return {pk: [offices that keep it]} for the rows `pks` (None: every row) of `model`.

    Two queries: the offices, then one row per object asking, for each office, the ownership rule
    itself (the model's `kept_by`) as a correlated EXISTS. So a physician, an appointment to an
    arrangement across a border, or a proposal is kept by exactly the offices the rule says.
    """
    if pks is not None:
        pks = list(pks)
        if not pks:
            return {}
    offices = list(CountyGovernor.objects.all())
    queryset = model.objects.all() if pks is None else model.objects.filter(pk__in=pks)
    asks = {
        f"kept_by_{office.pk}": Exists(model.objects.filter(pk=OuterRef("pk")).kept_by([office.pk]))
        for office in offices
    }
    return {
        pk: [office for office, kept in zip(offices, flags, strict=True) if kept]
        for pk, *flags in queryset.annotate(**asks).values_list("pk", *asks).order_by()
    }


def keepers_of(physicians):
    """Return {physician id: [offices that keep them]} for `physicians` (ids; None: every physician)."""
    return keepers(Physician, physicians)


def kept_by_text(offices):
    """ "Statsforvalteren i Vestland" or "national administrators": who may change a row kept by `offices`."""
    return _(" and ").join(office.name for office in offices) or _("the national administrators")


# Checks for the write path. Each raises PermissionDenied with a message for the user, or returns None.


def _owners(obj):
    """[(model, pk)] of the rows whose office keeps `obj` as it would be saved (new rows included)."""
    if isinstance(obj, (Appointment, FunctionContact)):
        if obj.district_id:
            return [(District, obj.district_id)]
        if obj.municipality_id:
            return [(Municipality, obj.municipality_id)]
        return [(Arrangement, obj.arrangement_id)]
    if isinstance(obj, Phone):
        if obj.physician_id:
            return [(Physician, obj.physician_id)]
        return [(Appointment, obj.appointment_id)]
    if isinstance(obj, Membership):
        # A municipality joins an arrangement by its own office's hand.
        return [(Municipality, obj.municipality_id)]
    if isinstance(obj, District):
        return [(Municipality, obj.municipality_id)]
    if isinstance(obj, (Physician, Arrangement, Legevakt)):
        # A new one is registered by the user; a stored one is checked as stored. An arrangement is kept
        # through its members, a legevakt through the municipalities it serves (see registry.services).
        return []
    return [(type(obj), obj.pk)]


def outside_region(user, objects):
    """The objects in `objects` that `user` may not change, as stored or as they would be saved.

    A row is checked where it is stored (an editor cannot take over another region's row by moving it)
    and as it would be saved (nor move their own row into another region). A fixed number of queries
    per model, however many objects.
    """
    if is_national_admin(user):
        return []
    objects = list(objects)
    if not _active(user):
        return objects
    by_model = {}
    for obj in objects:
        by_model.setdefault(type(obj), []).append(obj)
    refused = {}
    for model, rows in by_model.items():
        stored = {row.pk for row in rows if row.pk is not None}
        if stored:
            kept = set(editable(model, user).filter(pk__in=stored).values_list("pk", flat=True))
            refused.update({id(row): row for row in rows if row.pk is not None and row.pk not in kept})
    owners = {}
    for obj in objects:
        for model, pk in _owners(obj):
            owners.setdefault(model, set()).add(pk)
    kept = {
        model: set(editable(model, user).filter(pk__in=ids).values_list("pk", flat=True))
        for model, ids in owners.items()
    }
    for obj in objects:
        if any(pk not in kept[model] for model, pk in _owners(obj)):
            refused[id(obj)] = obj
    return list(refused.values())


def check_may_change(user, objects):
    """Refuse (PermissionDenied, saying what and who keeps it) unless `user` may change every object."""
    refused = outside_region(user, objects)
    if not refused:
        return
    if not _active(user):
        raise PermissionDenied(_("Log in to change the registry."))
    obj = refused[0]
    if isinstance(obj, Physician) and obj.pk is not None:
        raise PermissionDenied(
            _("You cannot change %(entry)s: the person is kept by %(offices)s.")
            % {"entry": _describe(obj), "offices": kept_by_text(keepers_of([obj.pk])[obj.pk])}
        )
    raise PermissionDenied(
        _("You cannot change %(entry)s: it belongs to another office's region.") % {"entry": _describe(obj)}
    )


def _describe(obj):
    return f"{obj._meta.verbose_name} «{obj}»"


def check_may_appoint(user, appointments):
    """Refuse (PermissionDenied) unless `user` may make or change each appointment.

    The municipality must be the user's. When an appointment gets a physician (a new appointment, or
    another physician), the physician must be one the user keeps, or be given by their exact HPR number
    (`appointment.hpr_confirmation`, set by the form or the import that read it): an office may appoint
    another office's physician that way, which changes nothing about the person. A fixed number of queries.
    """
    appointments = list(appointments)
    check_may_change(user, appointments)
    if is_national_admin(user):
        return
    stored = dict(
        Appointment._base_manager.filter(pk__in=[a.pk for a in appointments if a.pk is not None]).values_list(
            "pk", "physician_id"
        )
    )
    getting = [a for a in appointments if a.pk is None or stored.get(a.pk) != a.physician_id]
    own = set(editable(Physician, user).filter(pk__in={a.physician_id for a in getting}).values_list("pk", flat=True))
    for appointment in getting:
        if appointment.physician_id in own:
            continue
        physician = appointment.physician
        given = getattr(appointment, "hpr_confirmation", None)
        if not (physician.hpr_number and given and given == physician.hpr_number):
            raise PermissionDenied(
                _(
                    "%(physician)s is kept by %(offices)s. To appoint them in your municipality, give their "
                    "exact HPR number."
                )
                % {"physician": physician.name, "offices": kept_by_text(keepers_of([physician.pk])[physician.pk])}
            )


def check_national(user, what):
    """Refuse unless `user` is a national administrator; `what` names the change for the message."""
    if not is_national_admin(user):
        raise PermissionDenied(_("Only national administrators may change %(what)s.") % {"what": what})


def get_editable_appointment(user, pk):
    """Return the appointment `pk` if `user` may edit it; 404 when it does not exist, 403 when it is not theirs."""
    from django.shortcuts import get_object_or_404

    appointment = get_object_or_404(Appointment.objects.select_related("municipality", "physician"), pk=pk)
    if not editable(Appointment, user).filter(pk=pk).exists():
        raise PermissionDenied
    return appointment
