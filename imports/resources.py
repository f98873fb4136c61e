"""The contact sheet's export as a django-import-export Resource: its columns, in the layout the import reads.

django-import-export serves the export here (the columns declared once, tablib's formats) and the
import/export permissions. The import does not run through its Resource.import_data: that pipeline
saves per row (or per instance in bulk) and keeps its own diff, while an import here is a plan of
operations applied through registry.services (imports.planning); README, "Importing", says why.
"""

from import_export import fields, resources, widgets

from imports.normalise import EXPORT_EXTRA_HEADERS, EXPORT_HEADERS

COLUMNS = {**EXPORT_HEADERS, **EXPORT_EXTRA_HEADERS}


class TextWidget(widgets.Widget):
    """Writes text as is (the registry's values are already formatted for the sheet)."""

    def __init__(self):
        super().__init__(coerce_to_string=True)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else str(value)


class ContactRow:
    """What one exported sheet row says, as text."""

    def __init__(self, **values):
        for key in COLUMNS:
            setattr(self, key, "")
        for key, value in values.items():
            setattr(self, key, value)


class ContactResource(resources.Resource):
    class Meta:
        # Only the columns declared below, in their order.
        fields = tuple(COLUMNS)
        export_order = tuple(COLUMNS)

    def __init__(self):
        super().__init__()
        for key, header in COLUMNS.items():
            self.fields[key] = fields.Field(attribute=key, column_name=header, widget=TextWidget())
