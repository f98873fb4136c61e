"""Fill a registry with every kind of row a backup must keep, and read back every table for comparison."""

import datetime

from axes.models import AccessAttempt
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.management import create_contenttypes
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone, translation
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.shortcuts import assign_perm

from registry import services
from registry.demo import load_demo_data
from registry.models import ContactKind, CountyGovernor, FunctionContact, Municipality, Physician
from tests.factories import UserFactory

# Tables whose rows a restore does not copy: sessions end, and migrate writes its own log. The data
# version is copied and then moved on by the restore, so that caches learn of it (compared on its own).
NOT_COMPARED = {"django_session", "django_migrations", "registry_dataversion"}
# Tables fill_registry() must have put rows in, or the comparison would prove little.
MUST_HAVE_ROWS = [
    "auth_user",
    "auth_group",
    "auth_group_permissions",
    "auth_user_groups",
    "auth_user_user_permissions",
    "accounts_countygovernoruserobjectpermission",
    "accounts_countygovernorgroupobjectpermission",
    "accounts_officeeditors",
    "otp_totp_totpdevice",
    "registry_physician",
    "registry_appointment",
    "registry_phone",
    "registry_historicalphysician",
    "registry_historicalmunicipality",
    "registry_municipality_successors",
]
# Tables fill_registry() fills that a backup leaves out (see registry.backup): a restore empties them.
LEFT_OUT = [
    "django_admin_log",
    "axes_accessattempt",
    "guardian_userobjectpermission",
    "guardian_groupobjectpermission",
]


def fill_registry():
    """Create entries, history, users, groups, object permissions, a TOTP device, and rows a backup leaves out."""
    # Give the phone model new content type and permission ids, as in a database that has lived a while:
    # a restore must map them by name, not by number.
    ContentType.objects.filter(app_label="registry", model="phone").delete()
    with translation.override(None):  # as `migrate` does, which names permissions in English
        create_contenttypes(apps.get_app_config("registry"), verbosity=0)
        create_permissions(apps.get_app_config("registry"), verbosity=0)

    load_demo_data()
    editor = UserFactory(username="kari.trondelag", is_staff=True)
    former = UserFactory(username="tidligere.ansatt", is_staff=True, is_superuser=True)
    office = Group.objects.create(name="Statsforvalteren i Trøndelag – redaktører")
    office.permissions.add(*Permission.objects.filter(codename__in=["change_municipality", "view_authorities_only"]))
    editor.groups.add(office)
    editor.user_permissions.add(Permission.objects.get(codename="view_physician"))
    grong = Municipality.objects.get(number="5045")
    assign_perm("registry.edit_region", office, CountyGovernor.objects.get(code="trondelag"))
    assign_perm("registry.edit_region", editor, CountyGovernor.objects.get(code="nordland"))
    # Office grants live in accounts' direct tables; grants on other models would use guardian's generic
    # ones, which the registry does not use and a backup leaves out.
    someone = Physician.objects.order_by("pk").last()
    assign_perm("registry.change_physician", office, someone)
    assign_perm("registry.change_physician", editor, someone)
    TOTPDevice.objects.create(user=editor, name="Telefon", confirmed=True)

    # History written by someone whose account is later deleted: the history keeps their id.
    physician = Physician.objects.order_by("pk").first()
    physician.name += " (endret)"
    services.save_entries([physician], by=former, reason="test")
    grong.parallel_names = "Gråante"
    services.save_entries([grong], by=services.SYSTEM, reason="test")
    services.save_entries(
        [FunctionContact(municipality=grong, kind=ContactKind.ROLE_MAILBOX, email="kommuneoverlege@grong.example.no")],
        by=services.SYSTEM,
        reason="test",
    )
    services.set_successors(Municipality.objects.get(number="5042"), [grong], by=services.SYSTEM, reason="test")
    LogEntry.objects.create(
        user=editor,
        content_type=ContentType.objects.get_for_model(Municipality),
        object_id=str(grong.pk),
        object_repr=str(grong),
        action_flag=ADDITION,
        change_message="[]",
    )
    AccessAttempt.objects.create(
        username="kari.trondelag",
        ip_address="192.0.2.1",
        user_agent="test",
        failures_since_start=2,
        attempt_time=timezone.now() - datetime.timedelta(minutes=3),
    )
    former.delete()


def snapshot(conn):
    """Return {table: sorted rows} for every table, with content type and permission ids replaced by names."""
    with conn.cursor() as cursor:
        cursor.execute("SELECT id, app_label, model FROM django_content_type")
        content_types = {pk: (app, model) for pk, app, model in cursor.fetchall()}
        cursor.execute("SELECT id, codename, content_type_id FROM auth_permission")
        permissions = {pk: (codename, content_types[ct]) for pk, codename, ct in cursor.fetchall()}
        names = {"django_content_type": content_types, "auth_permission": permissions}
        tables = {}
        for table in sorted(set(conn.introspection.table_names(cursor)) - NOT_COMPARED):
            columns = [column.name for column in conn.introspection.get_table_description(cursor, table)]
            relations = conn.introspection.get_relations(cursor, table)
            cursor.execute(f"SELECT * FROM {conn.ops.quote_name(table)}")
            rows = []
            for row in cursor.fetchall():
                record = []
                for column, value in zip(columns, row, strict=True):
                    if table in names and column == "id":
                        continue  # recreated by migrate with its own numbering
                    target = relations.get(column, (None, None))[1]
                    if target in names and value is not None:
                        value = names[target][value]
                    record.append((column, value))
                rows.append(tuple(record))
            tables[table] = sorted(rows, key=repr)
    return tables


def differences(before, after, limit=3):
    """Describe, table by table, rows only in `before` (-) or only in `after` (+): for assertion messages."""
    lines = []
    for table in sorted(set(before) | set(after)):
        old, new = set(before.get(table, [])), set(after.get(table, []))
        if old != new:
            lines.append(f"{table}: {len(old)} rows before, {len(new)} after")
            lines += [f"  - {row}" for row in sorted(old - new, key=repr)[:limit]]
            lines += [f"  + {row}" for row in sorted(new - old, key=repr)[:limit]]
    return "\n".join(lines)
