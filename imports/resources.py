"""The contact sheet as a django-import-export Resource: its columns, how each cell is read, how a row is applied.

One sheet row holds a municipality with its chief physician, deputy and infection control physician
(or, with a "Rolle" column, one person in the role that column names). The library runs the rows
(`import_data`: dry run, transaction, per-row results and validation errors); the widgets read the
cells with the functions in `imports.normalise`; `imports.planning` matches and applies each valid row
in memory, and the whole plan is written in bulk after the last row (`after_import`), or not at all.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.results import RowResult

from imports import normalise
from imports.normalise import (
    EXPORT_HEADERS,
    MUNICIPALITY_NAME,
    MUNICIPALITY_NUMBER,
    NOTE,
    ROLE,
    ROLE_HEADER,
    person_column,
)
from imports.planning import ROLE_SLOTS, Person

_MISSING = object()
# The dataset column carrying each row's number in the user's sheet (not a field: never imported).
ROW_NUMBER = "_row"


class CellWidget(widgets.Widget):
    """Reads a cell with one of the `imports.normalise` functions; writes text as is."""

    def __init__(self, reader):
        super().__init__(coerce_to_string=True)
        self.reader = reader

    def clean(self, value, row=None, **kwargs):
        return self.reader(value)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


READERS = {
    MUNICIPALITY_NUMBER: normalise.clean_municipality_number,
    MUNICIPALITY_NAME: normalise.cell_text,
    ROLE: normalise.clean_role,
    NOTE: normalise.clean_note,
    "name": normalise.clean_name,
    "phone": normalise.split_phones,
    "email": normalise.clean_email,
    "hpr": normalise.clean_hpr,
}


def _field(key):
    part = key.rsplit("_", 1)[-1] if key.split("_", 1)[0] in ROLE_SLOTS else key
    header = ROLE_HEADER if key == ROLE else EXPORT_HEADERS[key]
    return fields.Field(attribute=key, column_name=header, widget=CellWidget(READERS[part]))


class ContactRow:
    """What one sheet row says. Import fills it from cells; export from the registry (as text)."""

    def __init__(self, row_number=None, **values):
        self.row_number = row_number
        for key in (*EXPORT_HEADERS, ROLE):
            setattr(self, key, "")
        for key, value in values.items():
            setattr(self, key, value)
        self.municipality = None
        self.people = []
        self.outcome = None


class NoInstanceLoader:
    """Rows are matched by `imports.planning`, not looked up one query at a time."""

    def __init__(self, resource, dataset=None):
        pass


class ContactResource(resources.Resource):
    municipality_number = _field(MUNICIPALITY_NUMBER)
    municipality_name = _field(MUNICIPALITY_NAME)
    chief_name = _field("chief_name")
    chief_phone = _field("chief_phone")
    chief_email = _field("chief_email")
    chief_hpr = _field("chief_hpr")
    deputy_name = _field("deputy_name")
    deputy_phone = _field("deputy_phone")
    deputy_email = _field("deputy_email")
    deputy_hpr = _field("deputy_hpr")
    infection_name = _field("infection_name")
    infection_phone = _field("infection_phone")
    infection_email = _field("infection_email")
    infection_hpr = _field("infection_hpr")
    note = _field(NOTE)
    role = _field(ROLE)

    class Meta:
        instance_loader_class = NoInstanceLoader
        import_id_fields = []
        # Rows only plan; `after_import` writes everything in bulk. This also spares a savepoint per row.
        use_bulk = True
        skip_diff = True
        store_instance = True
        report_skipped = True
        clean_model_instances = False

    def __init__(self, *, state=None, index=None, layout=None, user=None, skip_invalid=False, end_missing=False):
        super().__init__()
        self.state = state
        self.index = index
        self.layout = layout
        self.user = user
        self.skip_invalid = skip_invalid
        self.end_missing = end_missing
        self.sheet_offices = set()
        self.valid_municipalities = {}
        self.rejected_municipalities = set()
        self.unresolved_rows = []
        self.missing = []
        self.ended = []
        self.written = False
        self._import_fields = self.get_import_fields()

    # Export: the role column is for sheets that list one person per row; the export lists municipalities.

    def get_export_fields(self, selected_fields=None):
        return [f for f in super().get_export_fields(selected_fields) if f.attribute != ROLE]

    # Import.

    def before_import(self, dataset, **kwargs):
        """Find the offices the sheet is about, so that a shared name (Herøy, Våler) can be settled."""

        def column(key):
            header = EXPORT_HEADERS[key]
            return dataset[header] if header in dataset.headers else [None] * len(dataset)

        for number, name in zip(column(MUNICIPALITY_NUMBER), column(MUNICIPALITY_NAME), strict=True):
            try:
                number = normalise.clean_municipality_number(number)
            except normalise.CellError:
                continue
            resolution = self.index.resolve(number=number, name=normalise.cell_text(name))
            if resolution.municipality is not None:
                self.sheet_offices.add(resolution.municipality.county.county_governor_id)

    def import_instance(self, instance, row, **kwargs):
        """Read each cell with its widget, collecting one error per column, as Resource.import_instance does.

        The same contract (a ValueError from a widget becomes that field's ValidationError), without
        the generic per-field layers, which took a third of the time of a 10,000-row preview.
        """
        errors = {}
        for field in self._import_fields:
            value = row.get(field.column_name, _MISSING)
            if value is _MISSING:
                continue
            try:
                setattr(instance, field.attribute, field.widget.clean(value, row=row))
            except ValueError as error:
                errors[field.attribute] = ValidationError(str(error), code="invalid")
        if errors:
            raise ValidationError(errors)

    def get_or_init_instance(self, instance_loader, row):
        return ContactRow(row_number=row.get(ROW_NUMBER)), True

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        """Check what the cells cannot show alone: the municipality, the region, who each person is."""
        errors = {key: ValidationError(e).messages for key, e in (import_validation_errors or {}).items()}

        def add(key, message):
            errors.setdefault(key, []).append(str(message))

        municipality = None
        if MUNICIPALITY_NUMBER not in errors:
            resolution = self.index.resolve(
                number=instance.municipality_number,
                name=instance.municipality_name,
                prefer=self.state.allowed_ids or (),
                prefer_offices=self.sheet_offices,
            )
            if resolution.error:
                add(resolution.column, resolution.error)
                self.unresolved_rows.append(instance.row_number)
            elif not self.state.may_edit(resolution.municipality):
                column = MUNICIPALITY_NUMBER if instance.municipality_number else MUNICIPALITY_NAME
                add(
                    column,
                    _(
                        "%(municipality)s is outside your region: you can import only for the municipalities "
                        "your office keeps. Remove the row, or ask that office to import it."
                    )
                    % {"municipality": normalise.describe(resolution.municipality)},
                )
            else:
                municipality = resolution.municipality
        else:
            self.unresolved_rows.append(instance.row_number)

        people = []
        for slot, role in ROLE_SLOTS.items():
            if any(person_column(slot, part) in errors for part in normalise.PERSON_FIELDS):
                continue
            person = Person(
                slot=slot,
                role=(instance.role or role) if slot == "chief" else role,
                name=getattr(instance, person_column(slot, "name")),
                phones=getattr(instance, person_column(slot, "phone")),
                email=getattr(instance, person_column(slot, "email")),
                hpr=getattr(instance, person_column(slot, "hpr")),
            )
            if not (person.name or person.phones or person.email or person.hpr):
                continue
            if not person.name:
                add(
                    person.column("name"),
                    _(
                        "There is a phone number, e-mail or HPR number here but no name. Add the physician's name, "
                        "or clear the cells if the post is vacant."
                    ),
                )
                continue
            twin = next((p for p in people if normalise.name_key(p.name) == normalise.name_key(person.name)), None)
            if twin is not None and not (person.has_contact or person.hpr):
                # "Smittevernoverlege: Kari Nordmann" on Kari's own row: the same person.
                person.same_as = twin
            elif municipality is not None:
                person.physician = self.state.match(person, municipality)
                if not self.state.contacts_after(person, person.physician):
                    add(
                        person.column("phone"),
                        _(
                            "%(name)s has no phone number or e-mail. Add at least one, so that the physician "
                            "can be reached."
                        )
                        % {"name": person.name},
                    )
                    continue
            people.append(person)

        if errors:
            if municipality is not None:
                self.rejected_municipalities.add(municipality.pk)
            raise ValidationError(errors)
        instance.municipality = municipality
        instance.people = people

    def save_instance(self, instance, is_create, row, **kwargs):
        self.valid_municipalities[instance.municipality.pk] = instance.municipality
        instance.outcome = self.state.apply(
            row_number=instance.row_number,
            municipality=instance.municipality,
            people=instance.people,
            note=instance.note,
        )

    def after_import_row(self, row, row_result, **kwargs):
        outcome = row_result.instance.outcome if row_result.instance is not None else None
        if outcome is not None:
            row_result.import_type = {
                "new": RowResult.IMPORT_TYPE_NEW,
                "updated": RowResult.IMPORT_TYPE_UPDATE,
            }.get(outcome.kind, RowResult.IMPORT_TYPE_SKIP)

    def after_import(self, dataset, result, **kwargs):
        """Report the office's appointments the sheet left out, end them if asked, and write the plan."""
        offices = {m.county.county_governor_id for m in self.valid_municipalities.values()}
        scope = [
            m
            for m in self.state.municipalities
            if m.county.county_governor_id in offices
            and m.is_active(on=self.state.today)
            and self.state.may_edit(m)
            and m.pk not in self.rejected_municipalities
        ]
        self.missing = self.state.missing(municipalities=scope, roles=sorted(self.layout.roles))
        # A row whose municipality could not be read might be the one that names a "missing" physician.
        if self.end_missing and not self.unresolved_rows:
            self.state.end(self.missing)
            self.ended = list(self.missing)
        if kwargs.get("dry_run") or result.has_errors():
            return
        if result.has_validation_errors() and not self.skip_invalid:
            return
        self.state.write(self.user)
        self.written = True
