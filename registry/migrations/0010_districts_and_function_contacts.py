"""Load SSB's districts, and make the municipalities' role mailboxes and function phones function contacts.

Until now a municipality had one role mailbox field and phone numbers of its own (one "on call" kind, no
confirmation date of its own). Each becomes a FunctionContact, confirmed when the municipality was.
"""

from django.db import migrations

from registry.reference import load_districts

# The phone kinds a municipality's own numbers had, as function contact kinds.
KIND_OF_PHONE = {"on_call": "emergency", "switchboard": "switchboard", "mobile": "emergency", "office": "switchboard"}


def load(apps, schema_editor):
    load_districts(apps.get_model("registry", "District"), apps.get_model("registry", "Municipality"))


def to_function_contacts(apps, schema_editor):
    Municipality = apps.get_model("registry", "Municipality")
    Phone = apps.get_model("registry", "Phone")
    FunctionContact = apps.get_model("registry", "FunctionContact")
    contacts = []
    for municipality in Municipality.objects.exclude(role_email=""):
        contacts.append(
            FunctionContact(
                municipality=municipality,
                kind="role_mailbox",
                email=municipality.role_email,
                visibility="public",
                verified_at=municipality.verified_at,
                verified_by=municipality.verified_by,
            )
        )
    phones = Phone.objects.filter(municipality__isnull=False).select_related("municipality")
    for phone in phones:
        contacts.append(
            FunctionContact(
                municipality=phone.municipality,
                kind=KIND_OF_PHONE.get(phone.kind, "switchboard"),
                number=phone.number,
                visibility=phone.visibility,
                opening_hours=phone.note,
                verified_at=phone.municipality.verified_at,
                verified_by=phone.municipality.verified_by,
            )
        )
    FunctionContact.objects.bulk_create(contacts)
    phones.delete()


def to_municipality_fields(apps, schema_editor):
    FunctionContact = apps.get_model("registry", "FunctionContact")
    Phone = apps.get_model("registry", "Phone")
    for contact in FunctionContact.objects.filter(municipality__isnull=False):
        if contact.kind == "role_mailbox":
            municipality = contact.municipality
            municipality.role_email = contact.email
            municipality.save(update_fields=["role_email"])
        else:
            Phone.objects.create(
                municipality=contact.municipality,
                number=contact.number,
                kind="on_call" if contact.kind == "emergency" else "switchboard",
                visibility=contact.visibility,
                note=contact.opening_hours,
            )
    FunctionContact.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0009_arrangements_districts_function_contacts")]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
        migrations.RunPython(to_function_contacts, to_municipality_fields),
    ]
