"""The national list as people read it: one entry per municipality, with who to call and how current it is.

The page, the municipality page, the CSV and XLSX exports and the API all build their rows here, so
they show the same people, the same arrangements and the same numbers — and hide the same restricted ones.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Q
from django.utils import timezone

from registry.models import (
    Appointment,
    Arrangement,
    ContactKind,
    FunctionContact,
    Membership,
    Phone,
    Role,
)

# Up to this many municipalities, the physicians are looked up in a query of their own (see build_entries).
FEW = 50
# The order roles are shown in, everywhere.
ROLE_ORDER = [Role.CHIEF_PHYSICIAN, Role.DEPUTY, Role.INFECTION_CONTROL_PHYSICIAN]
CONTACT_ORDER = [ContactKind.EMERGENCY, ContactKind.SWITCHBOARD, ContactKind.ROLE_MAILBOX]


@dataclass
class Through:
    """An arrangement as an entry shows it: "Indre Namdal legetjeneste (kommunalt oppgavefellesskap): Grong, …"."""

    arrangement: object
    members: list  # the municipalities that are members on the day, by number

    @property
    def label(self):
        return self.arrangement.label()

    @property
    def member_names(self):
        return ", ".join(municipality.name for municipality in self.members)

    def __str__(self):
        return f"{self.label}: {self.member_names}"


@dataclass
class Contact:
    """A physician in one role for one municipality, with the numbers the reader may see."""

    appointment: Appointment
    phones: list = field(default_factory=list)
    # Other municipalities the same physician serves today on appointments of their own.
    shared_with: list = field(default_factory=list)
    # The arrangement the role is held through, or None for the municipality's own appointment.
    through: Through | None = None

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
    function_contacts: list  # the municipality's own, then its arrangements', that the reader may see
    legevakter: list  # the out-of-hours clinics that serve it, that the reader may see
    arrangements: list  # [Through] it is a member of on the day
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
    def has_emergency_number(self):
        """Whether the municipality has a 24/7 number, whoever may see it (MunicipalityQuerySet.reachable)."""
        return self.municipality.has_emergency_number

    @property
    def county(self):
        return self.municipality.county

    @property
    def county_governor(self):
        return self.municipality.county.county_governor

    def contacts_of_kind(self, kind):
        return [contact for contact in self.function_contacts if contact.kind == kind]

    @property
    def role_mailboxes(self):
        return self.contacts_of_kind(ContactKind.ROLE_MAILBOX)

    @property
    def emergency_numbers(self):
        return self.contacts_of_kind(ContactKind.EMERGENCY)

    @property
    def switchboards(self):
        return self.contacts_of_kind(ContactKind.SWITCHBOARD)


def _sorted_contacts(contacts):
    return sorted(
        contacts, key=lambda c: (CONTACT_ORDER.index(c.kind), ROLE_ORDER.index(c.role) if c.role else -1, c.pk)
    )


def build_entries(municipalities, *, include_restricted, today=None):
    """Return an Entry for each municipality, in the order given, as it stands on `today` (default today).

    `municipalities` must come from `Municipality.objects.for_directory(on=today)`, which annotates the
    rules the entry shows (vacancy, confirmation) in the same query. Costs four or five queries whatever
    the number of municipalities: the arrangements and their members on the day, the physicians serving
    them (for a few municipalities only, see below), the published appointments (with those of the same
    physicians elsewhere), the phone numbers, and the function contacts (out-of-hours clinics included)
    the reader may see.
    """
    municipalities = list(municipalities)
    if not municipalities:
        return []
    if not hasattr(municipalities[0], "confirmed_lately"):
        raise TypeError("build_entries needs municipalities from Municipality.objects.for_directory()")
    day = today or timezone.localdate()
    ids = [municipality.pk for municipality in municipalities]
    wanted = set(ids)

    # Every member, on the day, of every arrangement one of these municipalities is a member of.
    members_of, arrangements_of, arrangements = defaultdict(list), defaultdict(list), {}
    involved = Membership.objects.on(day).filter(municipality_id__in=ids).values("arrangement")
    for membership in (
        Membership.objects.on(day)
        .filter(arrangement__in=involved)
        .select_related("arrangement", "municipality")
        .order_by("municipality__name")
    ):
        arrangements[membership.arrangement_id] = membership.arrangement
        members_of[membership.arrangement_id].append(membership.municipality)
        if membership.municipality_id in wanted:
            arrangements_of[membership.municipality_id].append(membership.arrangement_id)
    through = {pk: Through(arrangement, members_of[pk]) for pk, arrangement in arrangements.items()}

    published = Appointment.objects.published(on=day)
    serving_here = Q(municipality_id__in=ids, district__isnull=True) | Q(arrangement_id__in=list(arrangements))
    if len(ids) <= FEW:
        # The physicians first, in a query of their own: as a subquery, PostgreSQL misjudges how many
        # appointments match and scans all of them and every physician (25 ms instead of 0.5 ms for one
        # municipality among 100,000 appointments; make bench-search).
        physicians = set(published.filter(serving_here).values_list("physician_id", flat=True))
    else:
        # For many municipalities the scan is what is wanted anyway, and a query fewer keeps the whole
        # list within its budget.
        physicians = published.filter(serving_here).values("physician_id")
    # Every appointment shown is one of these physicians', so this also finds where else they serve.
    appointments = list(published.filter(physician_id__in=physicians).order_by("start_date", "pk"))
    shown = [
        a
        for a in appointments
        if (a.municipality_id in wanted and a.district_id is None) or a.arrangement_id in arrangements
    ]
    phones_of = defaultdict(list)
    for phone in Phone.objects.visible(include_restricted=include_restricted).filter(
        Q(appointment_id__in=[a.pk for a in shown]) | Q(physician_id__in={a.physician_id for a in shown})
    ):
        phones_of[
            ("appointment", phone.appointment_id) if phone.appointment_id else ("physician", phone.physician_id)
        ].append(phone)

    own_places = defaultdict(list)  # physician → municipalities they serve on appointments of their own
    for appointment in appointments:
        if appointment.municipality_id and appointment.district_id is None:
            if appointment.municipality not in own_places[appointment.physician_id]:
                own_places[appointment.physician_id].append(appointment.municipality)
    contacts_of = defaultdict(list)
    for appointment in sorted(shown, key=lambda a: (ROLE_ORDER.index(a.role), a.start_date, a.pk)):
        # Numbers of this appointment (a post's own phone) first, then the physician's own.
        phones = phones_of["appointment", appointment.pk] + phones_of["physician", appointment.physician_id]
        if appointment.arrangement_id:
            members = members_of[appointment.arrangement_id]
            for municipality_id in [m.pk for m in members if m.pk in wanted]:
                contacts_of[municipality_id].append(
                    Contact(
                        appointment=appointment,
                        phones=phones,
                        shared_with=[m for m in members if m.pk != municipality_id],
                        through=through[appointment.arrangement_id],
                    )
                )
        else:
            others = [m for m in own_places[appointment.physician_id] if m.pk != appointment.municipality_id]
            contacts_of[appointment.municipality_id].append(
                Contact(appointment=appointment, phones=phones, shared_with=others)
            )

    function_contacts_of, legevakter_of = defaultdict(list), defaultdict(list)
    for contact in (
        FunctionContact.objects.visible(include_restricted=include_restricted)
        .filter(Q(municipality_id__in=ids) | Q(arrangement_id__in=list(arrangements)))
        .select_related("legevakt")
    ):
        if contact.kind == ContactKind.LEGEVAKT:
            legevakter_of[contact.municipality_id].append(contact.legevakt)
        elif contact.arrangement_id:
            contact.through = through[contact.arrangement_id]
            for member in members_of[contact.arrangement_id]:
                if member.pk in wanted:
                    function_contacts_of[member.pk].append(contact)
        else:
            contact.through = None
            function_contacts_of[contact.municipality_id].append(contact)

    return [
        Entry(
            municipality=municipality,
            contacts=contacts_of[municipality.pk],
            function_contacts=_sorted_contacts(function_contacts_of[municipality.pk]),
            legevakter=sorted(legevakter_of[municipality.pk], key=lambda legevakt: legevakt.name),
            arrangements=[through[pk] for pk in arrangements_of[municipality.pk]],
            confirmed_at=municipality.entry_confirmed_at,
            is_stale=not municipality.confirmed_lately,
        )
        for municipality in municipalities
    ]


@dataclass
class DistrictEntry:
    """A district as its municipality's page shows it: its people and its function contacts."""

    district: object
    contacts: list
    function_contacts: list

    def with_role(self, role):
        return [contact for contact in self.contacts if contact.role == role]

    @property
    def chief_physicians(self):
        return self.with_role(Role.CHIEF_PHYSICIAN)

    @property
    def others(self):
        return [contact for contact in self.contacts if contact.role != Role.CHIEF_PHYSICIAN]


def build_district_entries(districts, *, include_restricted, today=None):
    """Return a DistrictEntry for each district, in the order given. Three queries."""
    districts = list(districts)
    if not districts:
        return []
    day = today or timezone.localdate()
    ids = [district.pk for district in districts]
    appointments = list(
        Appointment.objects.on(day).filter(district_id__in=ids).select_related("physician").order_by("start_date", "pk")
    )
    phones_of = defaultdict(list)
    for phone in Phone.objects.visible(include_restricted=include_restricted).filter(
        Q(appointment_id__in=[a.pk for a in appointments]) | Q(physician_id__in={a.physician_id for a in appointments})
    ):
        phones_of[
            ("appointment", phone.appointment_id) if phone.appointment_id else ("physician", phone.physician_id)
        ].append(phone)
    contacts_of = defaultdict(list)
    for appointment in sorted(appointments, key=lambda a: (ROLE_ORDER.index(a.role), a.start_date, a.pk)):
        contacts_of[appointment.district_id].append(
            Contact(
                appointment=appointment,
                phones=phones_of["appointment", appointment.pk] + phones_of["physician", appointment.physician_id],
            )
        )
    function_contacts_of = defaultdict(list)
    for contact in FunctionContact.objects.visible(include_restricted=include_restricted).filter(district_id__in=ids):
        function_contacts_of[contact.district_id].append(contact)
    return [
        DistrictEntry(
            district=district,
            contacts=contacts_of[district.pk],
            function_contacts=_sorted_contacts(function_contacts_of[district.pk]),
        )
        for district in districts
    ]


@dataclass
class ArrangementEntry:
    """An intermunicipal arrangement as its page and the office's queue show it."""

    arrangement: Arrangement
    memberships: list
    contacts: list
    function_contacts: list


def build_arrangement_entry(arrangement, *, include_restricted, today=None):
    """The arrangement's members (with their dates), who holds each role through it on `today`, with the
    numbers the reader may see, and its function contacts. Four queries."""
    day = today or timezone.localdate()
    memberships = list(arrangement.memberships.select_related("municipality").order_by("municipality__number"))
    appointments = list(arrangement.appointments.on(day).select_related("physician").order_by("role", "start_date"))
    phones_of = defaultdict(list)
    for phone in Phone.objects.visible(include_restricted=include_restricted).filter(
        physician_id__in={appointment.physician_id for appointment in appointments}
    ):
        phones_of[phone.physician_id].append(phone)
    return ArrangementEntry(
        arrangement=arrangement,
        memberships=memberships,
        contacts=[Contact(appointment=a, phones=phones_of.get(a.physician_id, [])) for a in appointments],
        function_contacts=list(arrangement.function_contacts.visible(include_restricted=include_restricted)),
    )
