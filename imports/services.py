"""Importing and exporting contact sheets: the functions the admin views and the commands call.

An import is read → plan → apply (see imports.planning): `run_import` reads and normalises the sheet,
makes the plan against the registry as it is now, reports it, and — when it is not a dry run, every
row is valid (or the valid rows were asked for) and the plan is the one the user previewed — applies
exactly that plan through registry.services, in one transaction. It never raises for anything in the
file: every problem ends up in the ImportReport, with the row number and column the user sees in
their spreadsheet.
"""

import contextlib
import csv
import datetime
import gc
import io
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field

import openpyxl
from django.conf import settings
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import access
from imports.apply import apply_plan
from imports.models import ImportLog, PendingImport, checksum
from imports.normalise import (
    ARRANGEMENT,
    DISTRICT,
    ERROR_HEADER,
    EXPORT_EXTRA_HEADERS,
    EXPORT_HEADERS,
    LEGEVAKT_NAME,
    LEGEVAKT_PHONE,
    MAILBOX_FIELDS,
    MUNICIPALITY_NAME,
    MUNICIPALITY_NUMBER,
    ROLE,
    ROLE_HEADER,
    SOURCE_ROW_HEADER,
    CellError,
    cell_text,
    clear_caches,
    find_layout,
    format_phone_entry,
    person_column,
)
from imports.planning import (
    ADD_MEMBERSHIP,
    CREATE_ARRANGEMENT,
    CREATE_LEGEVAKT,
    ROLE_SLOTS,
    Snapshot,
    describe_appointment,
    end_operations,
    make_plan,
    phone_cell,
    read_rows,
)
from imports.resources import ContactResource, ContactRow
from imports.sheets import Sheet, SheetError, display_name, read_sheet
from registry import services as registry_services
from registry.models import (
    Appointment,
    Arrangement,
    ContactKind,
    District,
    FunctionContact,
    Legevakt,
    Membership,
    Municipality,
    Phone,
    Physician,
)
from registry.spreadsheets import neutralise, write_text_row

logger = logging.getLogger(__name__)


def _permission(code):
    return f"{ImportLog._meta.app_label}.{get_permission_codename(code, ImportLog._meta)}"


# The permissions import and export need, named by django-import-export's settings ("import", "export").
IMPORT_PERMISSION = _permission(settings.IMPORT_EXPORT_IMPORT_PERMISSION_CODE)
EXPORT_PERMISSION = _permission(settings.IMPORT_EXPORT_EXPORT_PERMISSION_CODE)

KINDS = ("new", "updated", "unchanged", "skipped", "error")
# What the preview lists on its own, above the rows: the organisation an import creates.
ORGANISATION_ACTIONS = (CREATE_ARRANGEMENT, ADD_MEMBERSHIP, CREATE_LEGEVAKT)


@dataclass
class Problem:
    column: str  # "C «Telefon»", as the user finds it in the sheet
    value: str
    message: str


@dataclass
class Step:
    """One operation of the plan as the preview shows it."""

    action: str
    column: str
    old: object
    new: object
    reason: str


@dataclass
class RowReport:
    number: int
    kind: str  # one of KINDS
    municipality: str = ""
    changes: list = field(default_factory=list)  # [(column, old, new)]
    steps: list = field(default_factory=list)  # [Step]: what the import does, and why
    notes: list = field(default_factory=list)  # what was inferred, or left as another office keeps it
    problems: list = field(default_factory=list)  # [Problem]
    reason: str = ""


@dataclass
class ImportReport:
    file_name: str
    dry_run: bool
    file_format: str = ""
    error: str = ""  # the file as a whole could not be imported
    unreadable: bool = False  # the error is that the file could not be read at all
    rows: list = field(default_factory=list)
    notices: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    ended: list = field(default_factory=list)
    # What the import creates beyond people: [(row, what, value)] for arrangements, memberships and legevakter.
    organisation: list = field(default_factory=list)
    end_blocked: bool = False
    saved: bool = False
    # No phone column was recognised: shown at the top of the preview, and the import waits for a yes.
    no_phone_columns: bool = False
    # The registry changed after the preview, so the plan differs from the one the user saw.
    plan_changed: bool = False
    digest: str = ""  # of the plan, for the confirm to check
    header_cells: list = field(default_factory=list)
    rejected_cells: dict = field(default_factory=dict)  # row number → original cells
    sheet: object = None  # the Sheet as read, for a confirm to reuse
    log: object = None

    @property
    def counts(self):
        counts = dict.fromkeys(KINDS, 0)
        for row in self.rows:
            counts[row.kind] += 1
        return counts

    @property
    def rejected(self):
        return [row for row in self.rows if row.kind == "error"]

    @property
    def has_errors(self):
        return bool(self.error or self.rejected)

    def summary_line(self):
        counts = self.counts
        return (
            f"new: {counts['new']}, updated: {counts['updated']}, unchanged: {counts['unchanged']}, "
            f"skipped: {counts['skipped']}, errors: {counts['error'] + (1 if self.error else 0)}"
        )

    def rows_of(self, kind):
        return [row for row in self.rows if row.kind == kind]


def _column_label(layout, key):
    column = layout.first_column(key)
    if column is not None:
        return str(column)
    return ROLE_HEADER if key == ROLE else EXPORT_HEADERS.get(key) or EXPORT_EXTRA_HEADERS.get(key, key)


def _value(layout, cells, key):
    value = layout.values(cells, key)
    if isinstance(value, list):
        return " / ".join(filter(None, (cell_text(cell) for cell, _kind in value)))
    return cell_text(value)


@dataclass
class ImportScope:
    """What an importer may write: the municipalities (None: all), the physicians whose person they may
    change (None: all), and who keeps the others (physician id → office names); the same for legevakter.
    From accounts.access, so the import asks the ownership rule the write path enforces."""

    municipality_ids: object = None
    changeable_physicians: object = None
    keepers_of_others: dict = field(default_factory=dict)
    changeable_legevakter: object = None
    legevakt_keepers: dict = field(default_factory=dict)


def _changeable(model, user):
    """(ids of `model`'s rows `user` may change, {id: who keeps each of the others}). A fixed number of queries."""
    changeable = set(access.editable(model, user).values_list("pk", flat=True))
    keepers = {
        pk: access.kept_by_text(offices) for pk, offices in access.keepers(model).items() if pk not in changeable
    }
    return changeable, keepers


def import_scope(user):
    """The ImportScope of `user` (None: national administrator rights). A fixed number of queries."""
    if user is None or access.is_national_admin(user):
        return ImportScope()
    physicians, physician_keepers = _changeable(Physician, user)
    legevakter, legevakt_keepers = _changeable(Legevakt, user)
    return ImportScope(
        municipality_ids=set(access.municipalities_for(user).values_list("pk", flat=True)),
        changeable_physicians=physicians,
        keepers_of_others=physician_keepers,
        changeable_legevakter=legevakter,
        legevakt_keepers=legevakt_keepers,
    )


@contextlib.contextmanager
def collection_paused():
    """Pause Python's cyclic garbage collector while a sheet is read and planned.

    An import allocates hundreds of thousands of small objects that live until it ends; the
    collector would walk them all again and again (a quarter of a 10,000-row preview). Nothing
    is lost: reference counting still frees what is dropped, and collection resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_import(
    *,
    data=None,
    sheet=None,
    file_name,
    user,
    dry_run=True,
    skip_invalid=False,
    end_missing=False,
    accept_no_phones=False,
    expected_digest=None,
    source=None,
):
    """Import the contact sheet in `data` (bytes) as `user` (None: national administrator); return an ImportReport.

    A dry run only plans and reports. Otherwise the plan is applied in one transaction: all of it, or
    nothing when a row has an error, unless `skip_invalid` (then the valid rows' operations, and the
    report lists the rest). `end_missing` ends the office's open appointments that the sheet leaves out.
    `expected_digest` is the digest of the plan the user previewed: if the registry changed since, the
    plan differs and nothing is written (`plan_changed`). A sheet without a recognised phone column is
    written only with `accept_no_phones`. A real run is logged as an ImportLog when `source` is given.
    `sheet` is the Sheet an earlier run read from `data` (report.sheet), so a confirm does not parse again.
    """
    report = ImportReport(file_name=display_name(file_name), dry_run=dry_run)
    try:
        with collection_paused():
            _import(
                report,
                data,
                sheet,
                file_name,
                user,
                dry_run,
                skip_invalid,
                end_missing,
                accept_no_phones,
                expected_digest,
            )
    except SheetError as error:
        report.error = str(error)
    except Exception:
        # A bug must not become a 500 or a half-written import: the transaction is gone, say so.
        logger.exception("Import of %s failed", report.file_name)
        report.error = _("The import failed unexpectedly and nothing was saved. Try again, or tell the administrator.")
        report.saved = False
    if source and not dry_run:
        report.log = _log(report, user, source, skip_invalid, end_missing)
    return report


def _import(
    report, data, sheet, file_name, user, dry_run, skip_invalid, end_missing, accept_no_phones, expected_digest
):
    clear_caches()
    if sheet is None:
        try:
            sheet = read_sheet(data, file_name)
        except SheetError:
            report.unreadable = True
            raise
    report.sheet = sheet
    report.file_format = sheet.format
    try:
        layout = find_layout(sheet.rows)
    except CellError as error:
        raise SheetError(str(error)) from None
    report.header_cells = [cell_text(cell) for cell in layout.header_cells]
    report.no_phone_columns = not layout.has_phone_columns
    for column in layout.unknown:
        report.notices.append(
            _("Column %(column)s is not part of the layout and was not imported.") % {"column": column}
        )
    for ignored, used in layout.duplicates:
        report.notices.append(
            _("Column %(ignored)s means the same as column %(used)s; only %(used)s was read.")
            % {"ignored": ignored, "used": used}
        )
    rows, skipped = read_rows(sheet, layout)
    snapshot = Snapshot(today=timezone.localdate(), scope=import_scope(user))
    plan = make_plan(rows, layout=layout, snapshot=snapshot, skipped=skipped)
    report.digest = plan.digest()
    _describe(report, plan, layout)
    ending = end_operations(plan, snapshot.today) if end_missing and not plan.unresolved else []
    report.ended = [describe_appointment(op.target) for op in ending]
    report.end_blocked = bool(end_missing and plan.missing and plan.unresolved)
    if dry_run:
        return
    if expected_digest is not None and expected_digest != report.digest:
        report.plan_changed = True
        return
    if report.no_phone_columns and not accept_no_phones:
        return
    if plan.has_errors and not skip_invalid:
        return
    by = registry_services.SYSTEM if user is None else user
    reason = _("import of %(file)s") % {"file": report.file_name}
    try:
        apply_plan(plan.operations + ending, by=by, reason=reason)
    except PermissionDenied as error:
        # The plan checks the region row by row; the write path checks again, and has the last word.
        report.error = _("Nothing was saved: %(error)s") % {"error": error}
        return
    report.saved = True


def _describe(report, plan, layout):
    for number, reason in plan.skipped:
        report.rows.append(RowReport(number=number, kind="skipped", reason=reason))
    for row in plan.rows:
        municipality = row.municipality
        entry = RowReport(
            number=row.number,
            kind=row.kind,
            municipality=f"{municipality.number} {municipality.name}"
            if municipality is not None
            else " ".join(
                filter(
                    None,
                    (_value(layout, row.cells, MUNICIPALITY_NUMBER), _value(layout, row.cells, MUNICIPALITY_NAME)),
                )
            ),
            notes=list(row.notes),
            reason=row.reason,
        )
        for problem in row.problems:
            entry.problems.append(
                Problem(
                    _column_label(layout, problem.column),
                    _value(layout, row.cells, problem.column)[:200],
                    problem.message,
                )
            )
        for op in row.operations:
            label = _column_label(layout, op.column) if op.column else ""
            entry.steps.append(Step(op.describe(), label, op.old, op.new, op.reason))
            if op.action in ORGANISATION_ACTIONS and not row.problems:
                report.organisation.append((row.number, op.describe(), op.new))
            if op.column:
                entry.changes.append((label, op.old, op.new))
        if entry.kind == "error":
            report.rejected_cells[row.number] = row.cells
        report.rows.append(entry)
    report.rows.sort(key=lambda r: r.number)
    report.missing = [describe_appointment(a) for a in plan.missing]


def _log(report, user, source, skip_invalid, end_missing):
    counts = report.counts
    return ImportLog.objects.create(
        user=user,
        source=source,
        file_name=report.file_name,
        file_format=report.file_format,
        saved=report.saved,
        skip_invalid=skip_invalid,
        end_missing=end_missing,
        rows_new=counts["new"],
        rows_updated=counts["updated"],
        rows_unchanged=counts["unchanged"],
        rows_skipped=counts["skipped"],
        rows_rejected=counts["error"],
        appointments_missing=len(report.missing),
        appointments_ended=len(report.ended) if report.saved else 0,
    )


def rejects_workbook(report):
    """Return the rejected rows as .xlsx bytes: the sheet's own header and cells, the row number and the errors."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Avviste rader"
    write_text_row(sheet, [*report.header_cells, SOURCE_ROW_HEADER, ERROR_HEADER])
    width = len(report.header_cells)
    for row in report.rejected:
        cells = [cell_text(c) for c in report.rejected_cells.get(row.number, [])][:width]
        cells += [""] * (width - len(cells))
        errors = " ".join(
            f"{problem.column}: {problem.message}" if problem.column else problem.message for problem in row.problems
        )
        write_text_row(sheet, [*cells, str(row.number), errors])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# Export.


@dataclass
class _Group:
    """What the export writes on the rows of one place of a municipality: the municipality itself, a district,
    or an arrangement it is a member of."""

    district: str = ""
    arrangement: str = ""
    holders: dict = field(default_factory=lambda: defaultdict(list))  # role → [Appointment]
    mailboxes: dict = field(default_factory=lambda: defaultdict(list))  # role ("" the function's) → [contact]
    numbers: dict = field(default_factory=lambda: defaultdict(list))  # ContactKind → [contact]
    legevakter: list = field(default_factory=list)  # [Legevakt]

    @property
    def is_empty(self):
        return not (self.holders or self.mailboxes or self.numbers or self.legevakter)

    def lines(self):
        return max([len(v) for v in (*self.holders.values(), *self.mailboxes.values())] + [len(self.legevakter), 1])


def _contact_cell(contact):
    if contact.email:
        return f"{contact.email} ({contact.opening_hours})" if contact.opening_hours else contact.email
    return format_phone_entry(contact.number, contact.opening_hours)


def export_rows(user):
    """Return the ContactRows of every active municipality `user` may edit (None: all), in the import layout.

    A municipality's own people come first, then each district's (those that run health services, or have
    people or contacts) with «Bydel», then each arrangement it is a member of today with «Interkommunal
    ordning»: on every member's rows, as the import reads them back (one appointment to the arrangement).
    A place with two people in one role, two mailboxes for one role or two legevakter gets a second row.
    Numbers and contacts for authorities only are included only for users who may see them. Costs a fixed
    number of queries.
    """
    today = timezone.localdate()
    municipalities = (Municipality.objects.all() if user is None else access.municipalities_for(user)).active()
    include_restricted = user is None or access.sees_restricted_numbers(user)
    phones = Phone.objects.visible(include_restricted=include_restricted).order_by("pk")
    members = defaultdict(list)  # arrangement id → [municipality id]
    for arrangement_id, municipality_id in (
        Membership.objects.on(today)
        .filter(municipality__in=municipalities)
        .values_list("arrangement_id", "municipality_id")
    ):
        members[arrangement_id].append(municipality_id)
    with translation.override("nb"):
        # The layout is Norwegian: the kind in brackets as the import reads it back.
        arrangements = {a.pk: a.label() for a in Arrangement.objects.filter(pk__in=list(members))}
    districts = defaultdict(list)  # municipality id → [District]
    district_of = {}
    for district in District.objects.filter(municipality__in=municipalities).order_by("number"):
        districts[district.municipality_id].append(district)
        district_of[district.pk] = district
    groups = defaultdict(dict)  # municipality id → {place key: _Group}

    def group(municipality_id, key):
        found = groups[municipality_id].get(key)
        if found is None:
            found = groups[municipality_id][key] = _Group()
            if key[0] == "d":
                found.district = district_of[key[1]].name
            elif key[0] == "a":
                found.arrangement = arrangements[key[1]]
        return found

    def places(obj):
        """[(municipality id, place key)] where the export writes `obj` (an appointment or a function contact)."""
        if obj.arrangement_id:
            return [(m, ("a", obj.arrangement_id)) for m in members[obj.arrangement_id]]
        if obj.district_id:
            return [(district_of[obj.district_id].municipality_id, ("d", obj.district_id))]
        return [(obj.municipality_id, ("m", obj.municipality_id))]

    appointments = (
        Appointment.objects.published()
        .filter(
            Q(municipality__in=municipalities) | Q(arrangement_id__in=list(members)),
        )
        .order_by("start_date", "pk")
        .prefetch_related(Prefetch("physician__phones", queryset=phones), Prefetch("phones", queryset=phones))
    )
    for appointment in appointments:
        for municipality_id, key in places(appointment):
            group(municipality_id, key).holders[appointment.role].append(appointment)
    contacts = (
        FunctionContact.objects.visible(include_restricted=include_restricted)
        .filter(
            Q(municipality__in=municipalities)
            | Q(district__municipality__in=municipalities)
            | Q(arrangement_id__in=list(members))
        )
        .select_related("legevakt")
        .order_by("kind", "role", "pk")
    )
    for contact in contacts:
        for municipality_id, key in places(contact):
            found = group(municipality_id, key)
            if contact.kind == ContactKind.ROLE_MAILBOX:
                found.mailboxes[contact.role].append(contact)
            elif contact.kind == ContactKind.LEGEVAKT:
                found.legevakter.append(contact.legevakt)
            else:
                found.numbers[contact.kind].append(contact)
    rows = []
    for municipality in municipalities.order_by("number"):
        mine = groups.get(municipality.pk, {})
        keys = [("m", municipality.pk)]
        keys += [
            ("d", d.pk) for d in districts.get(municipality.pk, []) if d.runs_health_services or ("d", d.pk) in mine
        ]
        keys += sorted((key for key in mine if key[0] == "a"), key=lambda key: arrangements[key[1]])
        for key in keys:
            place = mine.get(key) or group(municipality.pk, key)
            if key[0] == "m" and place.is_empty and any(other[0] == "a" for other in keys):
                continue  # nothing of its own: the rows of its arrangements say who holds its roles
            rows += _group_rows(municipality, place)
    return rows


def _group_rows(municipality, group):
    rows = []
    for line in range(group.lines()):
        values = {
            MUNICIPALITY_NUMBER: municipality.number,
            MUNICIPALITY_NAME: municipality.name,
            DISTRICT: group.district,
            ARRANGEMENT: group.arrangement,
            "note": "",
        }
        # The note column belongs to the first person on the row, as the import reads it.
        note_taken = False
        for slot, role in ROLE_SLOTS.items():
            holders = group.holders.get(role, [])
            if line >= len(holders):
                continue
            appointment = holders[line]
            physician = appointment.physician
            numbers = {}
            for phone in [*physician.phones.all(), *appointment.phones.all()]:
                numbers.setdefault(phone.number.as_e164, phone)
            values[person_column(slot, "name")] = physician.name
            values[person_column(slot, "phone")] = phone_cell(numbers.values())
            values[person_column(slot, "email")] = physician.email
            values[person_column(slot, "hpr")] = physician.hpr_number or ""
            if not note_taken:
                values["note"] = appointment.note
                note_taken = True
        for role, field_name in MAILBOX_FIELDS.items():
            mailboxes = group.mailboxes.get(role, [])
            if line < len(mailboxes):
                values[field_name] = _contact_cell(mailboxes[line])
        if line == 0:
            values["emergency_phone"] = " / ".join(
                _contact_cell(c) for c in group.numbers.get(ContactKind.EMERGENCY, [])
            )
            values["switchboard_phone"] = " / ".join(
                _contact_cell(c) for c in group.numbers.get(ContactKind.SWITCHBOARD, [])
            )
        if line < len(group.legevakter):
            legevakt = group.legevakter[line]
            values[LEGEVAKT_NAME] = legevakt.name
            values[LEGEVAKT_PHONE] = format_phone_entry(legevakt.number, legevakt.opening_hours)
        rows.append(ContactRow(**values))
    return rows


def export_dataset(user):
    return ContactResource().export(export_rows(user))


def export_file(user, file_format):
    """Return (bytes, content type) of the export as "xlsx" or "csv". Cells are never run as formulas."""
    dataset = export_dataset(user)
    if file_format == "csv":
        out = io.StringIO()
        # Semicolons and a BOM: what a Norwegian Excel opens with the columns split and æøå intact.
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow([neutralise(h) for h in dataset.headers])
        for row in dataset:
            writer.writerow([neutralise(value) for value in row])
        return ("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Kommuneoverleger"
    write_text_row(sheet, dataset.headers)
    for row in dataset:
        write_text_row(sheet, row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_file_name(file_format):
    return f"kommuneoverleger-{timezone.localdate():%Y-%m-%d}.{file_format}"


# Pending uploads: stored in the database (any app server can confirm), tied to the user.


def purge_expired():
    """Delete uploads and rejected-row files older than their lifetime; they hold personal data."""
    PendingImport.objects.expired().delete()


def store_upload(*, user, file_name, data):
    """Keep an upload until its preview is confirmed or cancelled; return the PendingImport."""
    purge_expired()
    return PendingImport.objects.create(
        user=user, file_name=display_name(file_name), data=data, sha256=checksum(data), kind=PendingImport.Kind.UPLOAD
    )


def pending_for(*, user, pk, kind=PendingImport.Kind.UPLOAD, sha256=None):
    """Return the user's own pending file `pk`, refusing another user's, an expired one or a changed one."""
    pending = PendingImport.objects.exclude(pk__in=PendingImport.objects.expired().values("pk")).filter(
        pk=pk, kind=kind
    )
    pending = pending.first()
    if pending is None or pending.user_id != user.pk:
        raise PermissionDenied(_("This upload does not exist, has expired, or belongs to someone else."))
    if not pending.is_intact() or (sha256 is not None and sha256 != pending.sha256):
        raise ValidationError(_("The uploaded file has changed since the preview. Upload it again."))
    return pending


def sheet_to_json(sheet):
    """Return a Sheet as JSON the database keeps: dates as ISO text, as the import reads them anyway."""

    def value(cell):
        if isinstance(cell, float) and not math.isfinite(cell):
            return None
        if isinstance(cell, (datetime.date, datetime.time)):
            return cell.isoformat()
        return cell

    return {
        "format": sheet.format,
        "name": sheet.sheet_name,
        "rows": [[number, [value(cell) for cell in cells]] for number, cells in sheet.rows],
    }


def sheet_from_json(stored):
    return Sheet(format=stored["format"], sheet_name=stored["name"], rows=[(n, cells) for n, cells in stored["rows"]])


def _unreadable_report(pending, *, dry_run):
    return ImportReport(file_name=pending.file_name, dry_run=dry_run, error=pending.read_error, unreadable=True)


def preview_pending(*, pending, user):
    """Return the dry-run report of `pending`, keeping its rows with it: the confirm reads those, not the file.

    A file that could not be read keeps the reason instead, and is not parsed again.
    """
    if pending.read_error:
        return _unreadable_report(pending, dry_run=True)
    stored = sheet_from_json(pending.sheet) if pending.sheet else None
    report = run_import(data=bytes(pending.data), sheet=stored, file_name=pending.file_name, user=user)
    if stored is None and report.sheet is not None:
        pending.sheet = sheet_to_json(report.sheet)
        pending.save(update_fields=["sheet"])
    elif report.unreadable:
        pending.read_error = report.error
        pending.save(update_fields=["read_error"])
    return report


def confirm_import(*, pending, user, skip_invalid, end_missing, accept_no_phones=False, expected_digest=None):
    """Run the confirmed import of `pending`, if its plan is still `expected_digest` (the one previewed);
    delete the upload; keep the rejected rows for download if any."""
    if pending.read_error:
        return _unreadable_report(pending, dry_run=False)
    report = run_import(
        sheet=sheet_from_json(pending.sheet) if pending.sheet else None,
        data=bytes(pending.data),
        file_name=pending.file_name,
        user=user,
        dry_run=False,
        skip_invalid=skip_invalid,
        end_missing=end_missing,
        accept_no_phones=accept_no_phones,
        expected_digest=expected_digest,
        source=ImportLog.Source.ADMIN,
    )
    with transaction.atomic():
        if report.saved and report.rejected:
            rejects = rejects_workbook(report)
            pending.kind = PendingImport.Kind.REJECTS
            pending.data = rejects
            pending.sha256 = checksum(rejects)
            pending.file_name = "avviste-rader.xlsx"
            pending.sheet = None
            pending.log = report.log
            pending.created_at = timezone.now()
            pending.save()
        elif report.saved:
            pending.delete()
    return report
