"""Actions across several models, or with side effects. Each takes keyword arguments."""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from registry.models import County, Municipality
from registry.reference import municipality_fields
from registry.validators import validate_municipality_number
from registry.versioning import note_data_changed

REQUIRED_COLUMNS = ("kommunenummer", "navn", "fylkesnummer")
# Optional column naming the numbers a new municipality replaces ("1507" or "1507 1508").
PREDECESSOR_COLUMN = "tidligere_kommunenummer"


@dataclass
class SyncReport:
    created: list = field(default_factory=list)
    renamed: list = field(default_factory=list)
    moved: list = field(default_factory=list)
    ceased: list = field(default_factory=list)
    reactivated: list = field(default_factory=list)
    linked: list = field(default_factory=list)
    # Appointments still open in a municipality that ceased: someone must move or end them.
    open_appointments: list = field(default_factory=list)

    @property
    def changed(self):
        return any([self.created, self.renamed, self.moved, self.ceased, self.reactivated, self.linked])

    def lines(self):
        out = []
        out += [_("New: %(m)s") % {"m": m} for m in self.created]
        out += [_("Renamed: %(old)s → %(new)s") % {"old": old, "new": new} for old, new in self.renamed]
        out += [
            _("Moved: %(m)s from county %(old)s to %(new)s") % {"m": m, "old": o, "new": n} for m, o, n in self.moved
        ]
        out += [_("Ceased: %(m)s (kept with its history)") % {"m": m} for m in self.ceased]
        out += [_("Active again: %(m)s") % {"m": m} for m in self.reactivated]
        out += [_("Succession: %(old)s → %(new)s") % {"old": old, "new": new} for old, new in self.linked]
        out += [
            _("Check: %(a)s is still open in ceased %(m)s; move or end it.") % {"a": a, "m": a.municipality}
            for a in self.open_appointments
        ]
        return out


def _validate_rows(rows):
    """Return the rows keyed by number, or raise ValidationError listing every bad row."""
    errors = []
    if rows and any(column not in rows[0] for column in REQUIRED_COLUMNS):
        raise ValidationError(
            _("The file must have the columns %(columns)s, as in SSB's municipality list.")
            % {"columns": ", ".join(REQUIRED_COLUMNS)}
        )
    if not rows:
        raise ValidationError(_("The file has no municipalities. Give the full SSB list, not only the changes."))
    counties = set(County.objects.values_list("number", flat=True))
    by_number = {}
    for line, row in enumerate(rows, start=2):
        number = row["kommunenummer"].zfill(4)
        try:
            validate_municipality_number(number)
        except ValidationError:
            errors.append(_("Line %(line)s: %(value)r is not a municipality number.") % {"line": line, "value": number})
            continue
        if row["fylkesnummer"].zfill(2) not in counties:
            errors.append(
                _("Line %(line)s: county %(county)s does not exist in the registry.")
                % {"line": line, "county": row["fylkesnummer"]}
            )
        if not row["navn"]:
            errors.append(_("Line %(line)s: municipality %(number)s has no name.") % {"line": line, "number": number})
        if number in by_number:
            errors.append(_("Line %(line)s: %(number)s appears twice.") % {"line": line, "number": number})
        by_number[number] = row
    if errors:
        raise ValidationError(errors)
    return by_number


@transaction.atomic
def sync_municipalities(*, rows, on=None, dry_run=False):
    """Apply a complete SSB municipality list valid from `on` (default today); return a SyncReport.

    Renames and county moves update the municipality in place. A number missing from the list
    ceases on the day before `on`: it is never deleted, so its appointments and history remain.
    New numbers start on `on`; the optional `tidligere_kommunenummer` column links them to the
    municipalities they replace (mergers, splits, renumbering). Running the same list twice changes nothing.
    """
    day = on or timezone.localdate()
    by_number = _validate_rows(rows)
    counties = {county.number: county for county in County.objects.all()}
    existing = {m.number: m for m in Municipality.objects.select_related("county")}
    report = SyncReport()

    for number, row in by_number.items():
        fields = municipality_fields(row)
        county = counties[row["fylkesnummer"].zfill(2)]
        municipality = existing.get(number)
        if municipality is None:
            municipality = Municipality.objects.create(number=number, county=county, valid_from=day, **fields)
            existing[number] = municipality
            report.created.append(municipality)
            continue
        changed = []
        if (municipality.name, municipality.parallel_names) != (fields["name"], fields["parallel_names"]):
            report.renamed.append((str(municipality), f"{number} {fields['name']}"))
            municipality.name, municipality.parallel_names = fields["name"], fields["parallel_names"]
            changed += ["name", "parallel_names"]
        if municipality.county_id != county.pk:
            report.moved.append((municipality, municipality.county.number, county.number))
            municipality.county = county
            changed.append("county")
        if municipality.valid_to is not None:
            municipality.valid_to = None
            report.reactivated.append(municipality)
            changed.append("valid_to")
        if changed:
            # save() rather than update() so that signals (office permissions, history) see the change.
            municipality.save(update_fields=[*changed, "updated_at"])

    last_day = day - datetime.timedelta(days=1)
    for number, municipality in existing.items():
        if number in by_number or municipality.valid_to is not None:
            continue
        municipality.valid_to = max(last_day, municipality.valid_from or last_day)
        municipality.save(update_fields=["valid_to", "updated_at"])
        report.ceased.append(municipality)
        report.open_appointments += list(
            municipality.appointments.filter(end_date__isnull=True).select_related("physician", "municipality")
        )

    for number, row in by_number.items():
        successor = existing[number]
        for old_number in row.get(PREDECESSOR_COLUMN, "").replace(",", " ").split():
            predecessor = existing.get(old_number.zfill(4))
            if predecessor is None or predecessor == successor:
                continue
            if not predecessor.successors.filter(pk=successor.pk).exists():
                predecessor.successors.add(successor)
                report.linked.append((predecessor, successor))

    # Bulk updates send no signals; a dry run rolls back, and with it this note.
    note_data_changed()
    if dry_run:
        transaction.set_rollback(True)
    return report


def confirm_entries(*, entries, by, now=None):
    """Mark `entries` (rows of one TrackedModel) as confirmed correct by `by`; return how many.

    Confirming is not a change of content, so "last changed" stays; the history records who
    confirmed and when. One bulk update and one bulk insert into the history, whatever the number.
    """
    entries = list(entries)
    if not entries:
        return 0
    moment = now or timezone.now()
    for entry in entries:
        entry.verified_at, entry.verified_by = moment, by
    bulk_update_with_history(
        entries,
        type(entries[0]),
        ["verified_at", "verified_by"],
        default_user=by,
        default_change_reason=_("Confirmed as correct"),
        default_date=moment,
    )
    note_data_changed()  # the list shows when each entry was confirmed
    return len(entries)
