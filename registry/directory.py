"""The national list as people read it: one entry per municipality, with who to call and how current it is.

The page, the municipality page, the CSV and XLSX exports and the API all build their rows here, so
they show the same people and the same numbers — and hide the same restricted ones.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Q

from registry.models import Appointment, Phone, Role

# The order roles are shown in, everywhere.
ROLE_ORDER = [Role.CHIEF_PHYSICIAN, Role.DEPUTY, Role.INFECTION_CONTROL_PHYSICIAN]


@dataclass
class Contact:
    """A physician in one role in one municipality, with the numbers the reader may see."""

    appointment: Appointment
    phones: list = field(default_factory=list)
    # Other municipalities the same physician serves today (intermunicipal arrangements).
    shared_with: list = field(default_factory=list)

    @property
    def role(self):
        return self.appointment.role

    @property
    def role_label(self):
        return self.appointment.get_role_display()

    @property
    def physician(self):
        return self.appointment.physician

    @property
    def name(self):
        return self.appointment.physician.name

    @property
    def email(self):
        return self.appointment.physician.email

    @property
    def valid_from(self):
        return self.appointment.start_date

    @property
    def valid_to(self):
        return self.appointment.end_date

    @property
    def verified_at(self):
        return self.appointment.verified_at


@dataclass
class Entry:
    """One municipality's line in the national list."""

    municipality: object
    contacts: list
    function_phones: list
    confirmed_at: datetime.datetime | None
    is_stale: bool

    def with_role(self, role):
        return [contact for contact in self.contacts if contact.role == role]

    @cached_property
    def chief_physicians(self):
        return self.with_role(Role.CHIEF_PHYSICIAN)

    @cached_property
    def deputies(self):
        return self.with_role(Role.DEPUTY)

    @cached_property
    def infection_control_physicians(self):
        return self.with_role(Role.INFECTION_CONTROL_PHYSICIAN)

    @property
    def has_chief_physician(self):
        """No chief physician is a vacancy (MunicipalityQuerySet.holds: the rule, once)."""
        return self.municipality.has_chief_physician

    @property
    def county(self):
        return self.municipality.county

    @property
    def county_governor(self):
        return self.municipality.county.county_governor

    @property
    def role_email(self):
        return self.municipality.role_email


def build_entries(municipalities, *, include_restricted, today=None):
    """Return an Entry for each municipality, in the order given.

    `municipalities` must come from `Municipality.objects.for_directory()`, which annotates the rules the
    entry shows (vacancy, confirmation) in the same query. Costs three queries whatever
    the number of municipalities: the physicians serving them, the published appointments (with those
    of the same physicians elsewhere), and the phone numbers the reader may see.
    """
    municipalities = list(municipalities)
    if not municipalities:
        return []
    if not hasattr(municipalities[0], "confirmed_lately"):
        raise TypeError("build_entries needs municipalities from Municipality.objects.for_directory()")
    ids = [municipality.pk for municipality in municipalities]
    published = Appointment.objects.published()
    # The physicians first, in a query of their own: as a subquery, PostgreSQL misjudges how many
    # appointments match and scans all of them and every physician (25 ms instead of 0.5 ms for one
    # municipality among 100,000 appointments; make bench-search).
    physicians = set(published.filter(municipality_id__in=ids).values_list("physician_id", flat=True))
    # Every appointment shown is one of these physicians', so this also finds where else they serve.
    appointments = list(
        published.filter(physician_id__in=physicians).order_by("municipality__number", "start_date", "pk")
    )
    wanted = set(ids)
    shown = [appointment for appointment in appointments if appointment.municipality_id in wanted]
    phones = Phone.objects.visible(include_restricted=include_restricted).filter(
        Q(municipality_id__in=ids)
        | Q(appointment_id__in=[appointment.pk for appointment in shown])
        | Q(physician_id__in={appointment.physician_id for appointment in shown})
    )
    phones_of = defaultdict(list)
    for phone in phones:
        if phone.municipality_id:
            phones_of["municipality", phone.municipality_id].append(phone)
        elif phone.appointment_id:
            phones_of["appointment", phone.appointment_id].append(phone)
        else:
            phones_of["physician", phone.physician_id].append(phone)

    serving = defaultdict(list)
    for appointment in appointments:
        if appointment.municipality not in serving[appointment.physician_id]:
            serving[appointment.physician_id].append(appointment.municipality)
    contacts_of = defaultdict(list)
    for appointment in sorted(shown, key=lambda a: (ROLE_ORDER.index(a.role), a.start_date, a.pk)):
        contacts_of[appointment.municipality_id].append(
            Contact(
                appointment=appointment,
                # Numbers of this appointment (a post's own phone) first, then the physician's own.
                phones=phones_of["appointment", appointment.pk] + phones_of["physician", appointment.physician_id],
                shared_with=[m for m in serving[appointment.physician_id] if m.pk != appointment.municipality_id],
            )
        )

    entries = []
    for municipality in municipalities:
        entries.append(
            Entry(
                municipality=municipality,
                contacts=contacts_of[municipality.pk],
                function_phones=phones_of["municipality", municipality.pk],
                confirmed_at=municipality.entry_confirmed_at,
                is_stale=not municipality.confirmed_lately,
            )
        )
    return entries
