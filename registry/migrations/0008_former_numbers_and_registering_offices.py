"""Load the 2020–2023 municipality numbers the 2024 reform changed, and record which office registered each physician."""

from django.conf import settings
from django.db import migrations

from registry.reference import load_former_numbers


def load_numbers(apps, schema_editor):
    load_former_numbers(
        apps.get_model("registry", "FormerNumber"),
        apps.get_model("registry", "Municipality"),
        apps.get_model("registry", "County"),
    )


def record_registering_offices(apps, schema_editor):
    """The office of the editor who created each physician, read from the history as the old rule did.

    Until now the registering office was derived from the creating history entry's user and their office
    group at the time access was asked; it is now recorded once, so that a user changing office changes nothing.
    """
    Physician = apps.get_model("registry", "Physician")
    HistoricalPhysician = apps.get_model("registry", "HistoricalPhysician")
    OfficeEditors = apps.get_model("accounts", "OfficeEditors")
    office_of_group = dict(OfficeEditors.objects.values_list("group_id", "county_governor_id"))
    if not office_of_group:
        return
    User = apps.get_model(settings.AUTH_USER_MODEL)
    offices_of_user = {}
    for user_id, group_id in User.groups.through.objects.filter(group_id__in=office_of_group).values_list(
        "user_id", "group_id"
    ):
        offices_of_user.setdefault(user_id, set()).add(office_of_group[group_id])
    for physician_id, user_id in HistoricalPhysician.objects.filter(history_type="+", history_user__isnull=False).values_list(
        "id", "history_user_id"
    ):
        offices = offices_of_user.get(user_id, set())
        if len(offices) == 1:
            Physician.objects.filter(pk=physician_id, registered_by__isnull=True).update(registered_by_id=offices.pop())


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0007_office_region_and_former_numbers"),
        ("accounts", "0002_grants_on_offices"),
    ]

    # Reversing leaves the rows: reloading is idempotent, and the field goes with 0007.
    operations = [
        migrations.RunPython(load_numbers, migrations.RunPython.noop),
        migrations.RunPython(record_registering_offices, migrations.RunPython.noop),
    ]
