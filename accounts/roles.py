"""The registry's roles and the model-level permissions each holds.

Model-level permissions let a role into the admin; which rows an editor sees and changes comes from
the object permission on their office (see `accounts.access`).
"""

from django.utils.translation import gettext_lazy as _

# Group names are stable identifiers (setup scripts and tests refer to them); they are shown as is.
NATIONAL_ADMINS = "Nasjonale administratorer"
NATIONAL_READERS = "Nasjonale lesere"
EDITORS_PREFIX = "Redaktører: "

# The object permission an office's editors group holds on its own office (registry.CountyGovernor).
OFFICE_PERMISSION = "edit_region"

REGISTRY_MODELS = (
    "countygovernor",
    "county",
    "municipality",
    "formernumber",
    "district",
    "arrangement",
    "membership",
    "physician",
    "appointment",
    "phone",
    "functioncontact",
    "legevakt",
)

# Spreadsheet import and export (the imports app); which rows an import may touch is still the region.
IMPORT_EXPORT_PERMISSIONS = [
    ("imports", "view_importlog"),
    ("imports", "import_importlog"),
    ("imports", "export_importlog"),
]

# The office's queue (proposals, error reports: decided on their change page) and the confirmation e-mails.
UPKEEP_PERMISSIONS = [
    ("registry", "view_proposal"),
    ("registry", "change_proposal"),
    ("registry", "view_errorreport"),
    ("registry", "change_errorreport"),
    ("registry", "view_confirmationrequest"),
]

EDITOR_PERMISSIONS = [
    ("registry", "view_countygovernor"),
    ("registry", "view_county"),
    ("registry", "view_formernumber"),
    ("registry", "view_municipality"),
    ("registry", "change_municipality"),
    ("registry", "view_district"),
    ("registry", "change_district"),
    *[
        ("registry", f"{action}_{model}")
        for model in ("physician", "appointment", "phone", "functioncontact", "arrangement", "membership", "legevakt")
        for action in ("view", "add", "change", "delete")
    ],
    ("registry", "view_authorities_only"),
    *IMPORT_EXPORT_PERMISSIONS,
    *UPKEEP_PERMISSIONS,
]

READER_PERMISSIONS = [("registry", "view_authorities_only")]

NATIONAL_ADMIN_PERMISSIONS = [
    *[("registry", f"{action}_{model}") for model in REGISTRY_MODELS for action in ("view", "add", "change", "delete")],
    ("registry", "view_authorities_only"),
    *[("auth", f"{action}_{model}") for model in ("user", "group") for action in ("view", "add", "change", "delete")],
    *[("accounts", f"{action}_officeeditors") for action in ("view", "add", "change", "delete")],
    *IMPORT_EXPORT_PERMISSIONS,
    *UPKEEP_PERMISSIONS,
]

ROLE_DESCRIPTIONS = {
    NATIONAL_ADMINS: _("All regions; manages users and office membership."),
    NATIONAL_READERS: _("Sees numbers for authorities only in the national list; edits nothing."),
}
