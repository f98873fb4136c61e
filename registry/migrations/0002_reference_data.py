"""Load all offices, counties and municipalities, so that a fresh `migrate` gives the whole country."""

from django.db import migrations

from registry.reference import load_reference_data


def load(apps, schema_editor):
    load_reference_data(
        apps.get_model("registry", "CountyGovernor"),
        apps.get_model("registry", "County"),
        apps.get_model("registry", "Municipality"),
    )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    # Reversing leaves the rows: appointments may point at them, and reloading is idempotent.
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
