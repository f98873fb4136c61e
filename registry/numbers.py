"""What a municipality number means today: the rule for current, former and ceased numbers, written once.

Sheets from the pandemic carry the 2020–2023 numbers (3005 Drammen, 3024 Bærum), links and API clients
keep old numbers, and reforms merge and split municipalities. A number leads to:

- the active municipality with that number;
- else the municipality that had it before a renumbering (FormerNumber; 3005 → 3301 Drammen), or the
  municipalities it went to when it was split (1507 Ålesund → 1508 Ålesund and 1580 Haram): then there
  is more than one candidate, and the caller must ask, not pick;
- else, for a ceased municipality, its successors in the same way.

The import's municipality index and the API both ask `NumberIndex.meaning`.
"""

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from registry.models import FormerNumber, Municipality

# Successors of successors: a reform of a reform. More than this is a loop in the data.
MAX_STEPS = 5


@dataclass
class NumberMeaning:
    number: str
    municipality: object = None  # the one active municipality the number leads to, or None
    candidates: list = field(default_factory=list)  # active municipalities, when it leads to several
    ceased: object = None  # the ceased municipality with this number, if any
    note: str = ""  # how an old number was read, for the preview; "" for a current number

    @property
    def is_current(self):
        return self.municipality is not None and self.municipality.number == self.number

    @property
    def is_unknown(self):
        return self.municipality is None and not self.candidates and self.ceased is None


class NumberIndex:
    """Municipalities by number, former numbers included; built from rows the caller loaded (or `load()`)."""

    def __init__(self, municipalities, former_numbers, *, today):
        self.today = today
        self.by_number = {municipality.number: municipality for municipality in municipalities}
        self.by_pk = {municipality.pk: municipality for municipality in municipalities}
        self.former = {}
        for former in former_numbers:
            self.former.setdefault(former.number, []).append(former)

    @classmethod
    def load(cls, *, today):
        """Build the index from the database: two queries."""
        municipalities = list(Municipality.objects.with_office().prefetch_related("successors"))
        return cls(municipalities, FormerNumber.objects.all(), today=today)

    def _active_successors(self, municipality, steps=0):
        found = []
        for successor in municipality.successors.all():
            successor = self.by_pk.get(successor.pk, successor)
            if successor.is_active(on=self.today):
                found.append(successor)
            elif steps < MAX_STEPS:
                found += self._active_successors(successor, steps + 1)
        return list({m.pk: m for m in found}.values())

    def meaning(self, number):
        """Return the NumberMeaning of a four-digit municipality number."""
        municipality = self.by_number.get(number)
        if municipality is not None and municipality.is_active(on=self.today):
            return NumberMeaning(number=number, municipality=municipality)
        formers = self.former.get(number, [])
        if formers:
            targets = [self.by_pk.get(f.municipality_id, f.municipality) for f in formers]
            active = [m for m in targets if m.is_active(on=self.today)]
            if len(active) == 1:
                return NumberMeaning(
                    number=number,
                    municipality=active[0],
                    note=_("%(old)s was %(name)s's number until %(year)s: written to %(new)s.")
                    % {
                        "old": number,
                        "name": active[0].name,
                        "year": formers[0].valid_to.year,
                        "new": f"{active[0].number} {active[0].name}",
                    },
                )
            return NumberMeaning(number=number, candidates=active)
        if municipality is None:
            return NumberMeaning(number=number)
        successors = self._active_successors(municipality)
        if len(successors) == 1:
            return NumberMeaning(
                number=number,
                municipality=successors[0],
                ceased=municipality,
                note=_("%(old)s ceased on %(date)s: written to its successor %(new)s.")
                % {
                    "old": f"{municipality.number} {municipality.name}",
                    "date": municipality.valid_to,
                    "new": f"{successors[0].number} {successors[0].name}",
                },
            )
        return NumberMeaning(number=number, candidates=successors, ceased=municipality)


def current_number(number, *, today=None):
    """The number a former municipality number (or a ceased one with one successor) leads to today, or None.

    For links and API calls that use an old number; two queries, made only when the number is not current.
    """
    if not (len(number) == 4 and number.isascii() and number.isdigit()):
        return None
    meaning = NumberIndex.load(today=today or timezone.localdate()).meaning(number)
    return meaning.municipality.number if meaning.municipality is not None else None
