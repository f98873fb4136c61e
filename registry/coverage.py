"""How complete the national list is, per office: where Helsedirektoratet must ask for entries."""

from dataclasses import dataclass

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef

from registry.models import Appointment, District, FunctionContact, LinkOutcome, Municipality, Role


@dataclass
class Coverage:
    """Counts for one office (or the whole country when `office` is None)."""

    office: object
    total: int = 0
    with_chief_physician: int = 0
    with_deputy: int = 0
    with_emergency_number: int = 0
    confirmed: int = 0
    # Of `confirmed`: entries whose confirmation was the physician's, through the confirmation link.
    confirmed_through_link: int = 0

    @property
    def confirmed_by_office(self):
        return self.confirmed - self.confirmed_through_link

    @property
    def confirmed_share(self):
        """The share of entries confirmed within the period, in whole per cent."""
        return round(100 * self.confirmed / self.total) if self.total else 0

    @property
    def without_chief_physician(self):
        return self.total - self.with_chief_physician

    @property
    def without_deputy(self):
        return self.total - self.with_deputy

    @property
    def without_emergency_number(self):
        return self.total - self.with_emergency_number

    @property
    def not_confirmed(self):
        return self.total - self.confirmed

    @property
    def is_complete(self):
        return self.total == self.with_chief_physician == self.with_deputy == self.confirmed


def through_link(on=None):
    """An EXISTS telling whether the outer municipality's entry is as recent as it is thanks to its physician.

    An entry counts as confirmed when its oldest part was (MunicipalityQuerySet.with_confirmation); that
    confirmation was the physician's when a confirmation link was used to confirm, at that very moment, an
    appointment serving the municipality (AppointmentQuerySet.serving: its own, or its arrangement's) or one
    of its function contacts (a role mailbox, confirmed by whoever reads it); registry.services.
    confirm_through_link writes the entry's confirmation and the link's use with one timestamp.
    """
    by_link = {
        "confirmation_links__outcome": LinkOutcome.CONFIRMED,
        "confirmation_links__used_at": OuterRef("entry_confirmed_at"),
    }
    contacts = FunctionContact.objects.of_the_function().filter(municipality=OuterRef("pk"))
    return ExpressionWrapper(
        Appointment.objects.any_serving(OuterRef("pk"), on=on, **by_link) | Exists(contacts.filter(**by_link)),
        output_field=BooleanField(),
    )


def coverage_by_office(today=None):
    """Return (one Coverage per office, by name; the national Coverage). One query."""
    municipalities = (
        Municipality.objects.active(on=today).for_directory(on=today).annotate(by_link=through_link(on=today))
    )
    offices = {}
    national = Coverage(office=None)
    for municipality in municipalities:
        office = municipality.county.county_governor
        row = offices.setdefault(office.pk, Coverage(office=office))
        for counts in (row, national):
            counts.total += 1
            counts.with_chief_physician += municipality.has_chief_physician
            counts.with_deputy += municipality.has_deputy
            counts.with_emergency_number += municipality.has_emergency_number
            counts.confirmed += municipality.confirmed_lately
            counts.confirmed_through_link += municipality.confirmed_lately and municipality.by_link
    return sorted(offices.values(), key=lambda row: row.office.name), national


def districts_without_chief_physician(today=None):
    """The districts that run health services of their own and have no district chief physician. One query."""
    return list(
        District.objects.with_health_services()
        .without_current(Role.CHIEF_PHYSICIAN, on=today)
        .select_related("municipality")
        .order_by("number")
    )
