"""Every way an editor of one office might reach another office's entries in the admin, refused.

The Trøndelag editor is the one trying; Bergen (Vestland) is the foreign municipality.
"""

import datetime

import pytest
from django.urls import reverse

from registry.models import Appointment, FunctionContact, Municipality, Phone, Physician
from tests.accounts.conftest import BERGEN, TRONDHEIM, appointment_form
from tests.factories import AppointmentFactory, PhysicianFactory, municipality, remove, write

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"admin:registry_{name}", args=args)


def listed(response):
    return set(response.context["cl"].result_list)


# Changelists and search


def test_editor_lists_only_their_own_appointments(trondelag_client, own, foreign):
    response = trondelag_client.get(url("appointment_changelist"))
    assert response.status_code == 200
    assert listed(response) == {own["appointment"]}


def test_editor_lists_only_their_own_municipalities(trondelag_client):
    response = trondelag_client.get(url("municipality_changelist") + "?all=")
    numbers = {m.number for m in listed(response)}
    assert len(numbers) == 38 and TRONDHEIM in numbers and BERGEN not in numbers


def test_editor_lists_only_physicians_and_numbers_of_their_region(trondelag_client, own, foreign):
    assert listed(trondelag_client.get(url("physician_changelist"))) == {own["physician"]}
    phones = listed(trondelag_client.get(url("phone_changelist")))
    assert phones == {own["physician_phone"], own["appointment_phone"]}
    contacts = listed(trondelag_client.get(url("functioncontact_changelist")))
    assert contacts == {own["municipality_contact"]}


def test_editor_finds_nothing_of_another_region_by_search(trondelag_client, own, foreign):
    response = trondelag_client.get(url("appointment_changelist") + "?q=Bergen")
    assert listed(response) == set()
    response = trondelag_client.get(url("physician_changelist") + "?q=Vestlending")
    assert listed(response) == set()
    response = trondelag_client.get(url("phone_changelist") + f"?q={foreign['physician_phone'].number.national_number}")
    assert listed(response) == set()


def filter_choices(client, name):
    response = client.get(url(name))
    return {
        str(label)
        for spec in response.context["cl"].filter_specs
        if hasattr(spec, "lookup_choices")
        for _pk, label in spec.lookup_choices
    }


@pytest.mark.parametrize("name", ["appointment_changelist", "municipality_changelist"])
def test_editor_filters_offer_no_other_office_or_county(trondelag_client, national_client, own, foreign, name):
    # With a single office and county of their own, Django hides those filters for the editor altogether.
    assert not any(
        "Vestland" in label or "Statsforvalteren i" in label for label in filter_choices(trondelag_client, name)
    )
    everything = filter_choices(national_client, name)
    assert {"Statsforvalteren i Trøndelag", "Statsforvaltaren i Vestland", "46 Vestland"} <= everything


def test_filtering_by_a_foreign_office_shows_nothing(trondelag_client, own, foreign):
    office = foreign["municipality"].county.county_governor
    response = trondelag_client.get(
        url("appointment_changelist") + f"?municipality__county__county_governor__id__exact={office.pk}"
    )
    assert foreign["appointment"] not in listed(response)


def test_raw_id_popup_lists_only_own_municipalities(trondelag_client):
    response = trondelag_client.get(url("municipality_changelist") + "?_popup=1&_to_field=id&all=")
    numbers = {m.number for m in listed(response)}
    assert BERGEN not in numbers and TRONDHEIM in numbers


# Changing the id in the URL


@pytest.mark.parametrize("kind", ["appointment", "physician", "municipality"])
@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_editor_cannot_open_a_foreign_entry_by_its_id(trondelag_client, foreign, own, kind, view):
    response = trondelag_client.get(url(f"{kind}_{view}", foreign[kind].pk))
    assert response.status_code in (302, 403, 404)
    if response.status_code == 302:
        assert response.url == reverse("admin:index")
    # The own entry opens, so the refusal is about the region, not the page (editors never delete municipalities).
    if (kind, view) != ("municipality", "delete"):
        assert trondelag_client.get(url(f"{kind}_{view}", own[kind].pk)).status_code == 200


@pytest.mark.parametrize("kind", ["physician_phone", "appointment_phone", "municipality_contact"])
def test_editor_cannot_open_a_foreign_phone_number(trondelag_client, foreign, own, kind):
    name = "functioncontact_change" if kind == "municipality_contact" else "phone_change"
    assert trondelag_client.get(url(name, foreign[kind].pk)).status_code == 302
    assert trondelag_client.get(url(name, own[kind].pk)).status_code == 200


def test_editor_cannot_end_a_foreign_appointment_by_posting_to_its_url(trondelag_client, foreign):
    appointment = foreign["appointment"]
    response = trondelag_client.post(
        url("appointment_change", appointment.pk), appointment_form(appointment, end_date="2025-06-30")
    )
    assert response.status_code == 302 and response.url == reverse("admin:index")
    appointment.refresh_from_db()
    assert appointment.end_date is None


def test_editor_cannot_delete_a_foreign_appointment_by_posting_to_its_url(trondelag_client, foreign):
    response = trondelag_client.post(url("appointment_delete", foreign["appointment"].pk), {"post": "yes"})
    assert response.status_code == 302
    assert Appointment.objects.filter(pk=foreign["appointment"].pk).exists()


def test_editor_cannot_confirm_a_foreign_appointment_by_posting_to_its_url(trondelag_client, foreign):
    appointment = foreign["appointment"]
    trondelag_client.post(url("appointment_change", appointment.pk), {**appointment_form(appointment), "_confirm": "1"})
    appointment.refresh_from_db()
    assert appointment.verified_at is None


def test_editor_cannot_change_a_foreign_municipalitys_function_contacts(trondelag_client, foreign):
    bergen = foreign["municipality"]
    contact = foreign["municipality_contact"]
    data = {"kind": "role_mailbox", "role": "", "email": "hacked@example.no", "visibility": "public"}
    trondelag_client.post(url("functioncontact_change", contact.pk), {**data, "municipality": bergen.pk})
    data = {
        "function_contacts-TOTAL_FORMS": "1",
        "function_contacts-INITIAL_FORMS": "0",
        "function_contacts-0-kind": "role_mailbox",
        "function_contacts-0-email": "hacked@example.no",
        "function_contacts-0-visibility": "public",
        "appointments-TOTAL_FORMS": "0",
        "appointments-INITIAL_FORMS": "0",
    }
    trondelag_client.post(url("municipality_change", bergen.pk), data)
    assert not bergen.function_contacts.filter(email="hacked@example.no").exists()


# Posting a foreign municipality id in a form


def test_editor_cannot_add_an_appointment_for_a_foreign_municipality(trondelag_client, own):
    data = appointment_form(municipality=municipality(BERGEN).pk, physician=own["physician"].pk)
    response = trondelag_client.post(url("appointment_add"), data)
    assert response.status_code == 200 and "municipality" in response.context["adminform"].form.errors
    assert not Appointment.objects.filter(municipality__number=BERGEN).exists()


def test_editor_adds_an_appointment_for_their_own_municipality(trondelag_client, own):
    data = appointment_form(municipality=municipality("5045").pk, physician=own["physician"].pk)
    response = trondelag_client.post(url("appointment_add"), data)
    assert response.status_code == 302
    assert Appointment.objects.filter(municipality__number="5045", physician=own["physician"]).exists()


def test_editor_cannot_move_their_appointment_to_a_foreign_municipality(trondelag_client, own):
    appointment = own["appointment"]
    response = trondelag_client.post(
        url("appointment_change", appointment.pk), appointment_form(appointment, municipality=municipality(BERGEN).pk)
    )
    assert response.status_code == 200 and "municipality" in response.context["adminform"].form.errors
    appointment.refresh_from_db()
    assert appointment.municipality.number == TRONDHEIM


def physician_form(physician=None, appointments=(), **changes):
    """POST data for the physician admin form with appointment inline rows (dicts of field values)."""
    data = {
        "name": physician.name if physician else "Ny Lege",
        "email": physician.email if physician else "ny.lege@example.no",
        "hpr_number": (physician.hpr_number or "") if physician else "",
        "phones-TOTAL_FORMS": "0",
        "phones-INITIAL_FORMS": "0",
        "appointments-TOTAL_FORMS": str(len(appointments)),
        "appointments-INITIAL_FORMS": str(sum(1 for row in appointments if row.get("id"))),
    }
    for index, row in enumerate(appointments):
        for key, value in row.items():
            data[f"appointments-{index}-{key}"] = str(value)
    data.update(changes)
    return data


def inline_row(municipality_id, **extra):
    return {
        "municipality": municipality_id,
        "role": "deputy",
        "start_date": "2025-01-01",
        "end_date": "",
        "note": "",
        **extra,
    }


def test_editor_cannot_add_a_foreign_appointment_inside_the_physician_inline(trondelag_client):
    data = physician_form(appointments=[inline_row(municipality(BERGEN).pk)])
    response = trondelag_client.post(url("physician_add"), data)
    assert response.status_code == 200
    assert not Physician.objects.filter(name="Ny Lege").exists()
    assert not Appointment.objects.filter(municipality__number=BERGEN).exists()


def test_editor_cannot_change_a_foreign_appointment_of_a_shared_physician_through_the_inline(trondelag_client, own):
    shared = own["physician"]
    bergen = AppointmentFactory(physician=shared, municipality=municipality(BERGEN), role="deputy")
    rows = [
        inline_row(
            own["municipality"].pk,
            id=own["appointment"].pk,
            physician=shared.pk,
            role="chief_physician",
            start_date="2024-01-01",
        ),
        inline_row(
            municipality(BERGEN).pk, id=bergen.pk, physician=shared.pk, end_date="2025-06-30", start_date="2024-01-01"
        ),
    ]
    trondelag_client.post(url("physician_change", shared.pk), physician_form(shared, appointments=rows))
    bergen.refresh_from_db()
    assert bergen.end_date is None


def test_the_physician_inline_shows_only_appointments_of_the_editors_region(trondelag_client, own):
    shared = own["physician"]
    AppointmentFactory(physician=shared, municipality=municipality(BERGEN), role="deputy")
    response = trondelag_client.get(url("physician_change", shared.pk))
    inline = next(f for f in response.context["inline_admin_formsets"] if f.opts.model is Appointment)
    assert [form.instance.municipality.number for form in inline.formset.initial_forms] == [TRONDHEIM]


def test_editor_cannot_give_a_phone_number_to_a_foreign_owner(trondelag_client, foreign):
    for owner in ("physician", "appointment"):
        data = {"number": "+4741234567", "kind": "mobile", "visibility": "public", "note": "", owner: foreign[owner].pk}
        response = trondelag_client.post(url("phone_add"), data)
        assert response.status_code == 200 and owner in response.context["adminform"].form.errors
    assert not Phone.objects.filter(number="+4741234567").exists()
    data = {
        "kind": "switchboard",
        "number": "+4741234567",
        "visibility": "public",
        "municipality": foreign["municipality"].pk,
    }
    response = trondelag_client.post(url("functioncontact_add"), data)
    assert response.status_code == 200 and "municipality" in response.context["adminform"].form.errors
    assert not FunctionContact.objects.filter(number="+4741234567").exists()


def test_municipality_form_offers_only_own_municipalities(trondelag_client):
    response = trondelag_client.get(url("appointment_add"))
    field = response.context["adminform"].form.fields["municipality"]
    numbers = set(field.queryset.values_list("number", flat=True))
    assert TRONDHEIM in numbers and BERGEN not in numbers


# Bulk actions


def test_editor_cannot_delete_foreign_appointments_in_bulk(trondelag_client, own, foreign):
    ids = [own["appointment"].pk, foreign["appointment"].pk]
    data = {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    trondelag_client.post(url("appointment_changelist"), data)
    assert Appointment.objects.filter(pk=foreign["appointment"].pk).exists()
    assert not Appointment.objects.filter(pk=own["appointment"].pk).exists()


def test_editor_cannot_confirm_foreign_appointments_in_bulk(trondelag_client, editor_trondelag, own, foreign):
    ids = [own["appointment"].pk, foreign["appointment"].pk]
    trondelag_client.post(url("appointment_changelist"), {"action": "confirm_selected", "_selected_action": ids})
    own["appointment"].refresh_from_db()
    foreign["appointment"].refresh_from_db()
    assert own["appointment"].verified_by == editor_trondelag and own["appointment"].verified_at
    assert foreign["appointment"].verified_at is None


# Autocomplete


def autocomplete(client, field_name, term, model_name="appointment"):
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "registry", "model_name": model_name, "field_name": field_name, "term": term},
    )
    assert response.status_code == 200
    return [item["text"] for item in response.json()["results"]]


def test_municipality_autocomplete_offers_only_own_municipalities(trondelag_client):
    assert autocomplete(trondelag_client, "municipality", "Bergen") == []
    assert autocomplete(trondelag_client, "municipality", "4601") == []
    assert autocomplete(trondelag_client, "municipality", "Trondheim") == ["5001 Trondheim"]


def test_municipality_autocomplete_in_the_phone_and_physician_forms_is_scoped_too(trondelag_client):
    assert autocomplete(trondelag_client, "municipality", "Bergen", model_name="functioncontact") == []
    assert autocomplete(trondelag_client, "municipality", "Trondheim", model_name="functioncontact") == [
        "5001 Trondheim"
    ]


def test_appointment_autocomplete_offers_only_own_appointments(trondelag_client, own, foreign):
    assert autocomplete(trondelag_client, "appointment", "Vestlending", model_name="phone") == []
    assert len(autocomplete(trondelag_client, "appointment", "Trøndersk", model_name="phone")) == 1


def test_physician_autocomplete_never_offers_another_offices_physician(trondelag_client, own, foreign):
    physician = foreign["physician"]
    assert autocomplete(trondelag_client, "physician", "Vestlending") == []
    assert str(physician) not in autocomplete(trondelag_client, "physician", physician.hpr_number[:4])
    # Not even by the exact HPR number: that goes in the form's own HPR field, checked on the server.
    assert autocomplete(trondelag_client, "physician", physician.hpr_number) == []
    assert autocomplete(trondelag_client, "physician", physician.hpr_number, model_name="phone") == []
    assert autocomplete(trondelag_client, "physician", "Trøndersk") == [str(own["physician"])]


# History and restore


def test_editor_reads_the_history_of_own_entries_with_who_and_old_and_new_values(
    trondelag_client, editor_trondelag, own
):
    appointment = own["appointment"]
    trondelag_client.post(url("appointment_change", appointment.pk), appointment_form(appointment, note="Ny merknad"))
    latest = appointment.history.latest()
    assert latest.history_user == editor_trondelag
    response = trondelag_client.get(url("appointment_history", appointment.pk))
    assert response.status_code == 200
    assert "Ny merknad" in response.content.decode() and editor_trondelag.username in response.content.decode()


def test_editor_cannot_read_a_foreign_entrys_history_or_its_old_versions(trondelag_client, foreign):
    appointment = foreign["appointment"]
    version = appointment.history.earliest()
    assert trondelag_client.get(url("appointment_history", appointment.pk)).status_code == 403
    assert (
        trondelag_client.get(url("appointment_simple_history", appointment.pk, version.history_id)).status_code == 403
    )


def test_editor_cannot_read_a_foreign_entrys_history_even_if_it_was_once_theirs(trondelag_client, national_client, own):
    appointment = own["appointment"]
    old = appointment.history.earliest()
    appointment.municipality = municipality(BERGEN)
    write(appointment)
    assert trondelag_client.get(url("appointment_simple_history", appointment.pk, old.history_id)).status_code == 403


def test_editor_cannot_revert_even_their_own_entry(trondelag_client, own):
    appointment = own["appointment"]
    old = appointment.history.earliest()
    appointment.note = "Overskrevet"
    write(appointment)
    page = trondelag_client.get(url("appointment_simple_history", appointment.pk, old.history_id))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    response = trondelag_client.post(
        url("appointment_simple_history", appointment.pk, old.history_id), appointment_form(appointment, note="")
    )
    assert response.status_code == 403
    appointment.refresh_from_db()
    assert appointment.note == "Overskrevet"


def test_editor_cannot_see_or_restore_deleted_entries(trondelag_client, own):
    appointment = own["appointment"]
    pk, data = appointment.pk, appointment_form(appointment)
    remove(appointment)
    deleted = Appointment.history.filter(id=pk, history_type="-").get()
    assert trondelag_client.get(url("appointment_deleted")).status_code == 403
    assert trondelag_client.get(url("appointment_history", pk)).status_code == 403
    assert trondelag_client.post(url("appointment_simple_history", pk, deleted.history_id), data).status_code == 403
    assert not Appointment.objects.filter(pk=pk).exists()


def test_national_admin_restores_an_overwritten_entry(national_client, national_admin, own):
    appointment = own["appointment"]
    original = appointment.history.earliest()
    appointment.note = "Overskrevet ved en feil"
    write(appointment)
    response = national_client.post(
        url("appointment_simple_history", appointment.pk, original.history_id), appointment_form(original.instance)
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.note == "" and appointment.history.latest().history_user == national_admin


def test_national_admin_lists_and_restores_a_deleted_entry(national_client, own):
    appointment = own["appointment"]
    pk, data = appointment.pk, appointment_form(appointment)
    remove(appointment)
    listing = national_client.get(url("appointment_deleted"))
    assert listing.status_code == 200 and "Lege Trøndersk" in listing.content.decode()
    deleted = Appointment.history.filter(id=pk, history_type="-").get()
    assert deleted.history_id in [record.history_id for record, _label in listing.context["records"]]
    response = national_client.post(url("appointment_simple_history", pk, deleted.history_id), data)
    assert response.status_code == 302
    restored = Appointment.objects.get(pk=pk)
    assert restored.municipality.number == TRONDHEIM
    assert url("appointment_deleted") and pk not in [
        r.id for r, _ in national_client.get(url("appointment_deleted")).context["records"]
    ]


# Confirming one by one


def test_editor_confirms_their_own_entry_on_its_page(trondelag_client, editor_trondelag, own):
    appointment = own["appointment"]
    page = trondelag_client.get(url("appointment_change", appointment.pk))
    assert 'name="_confirm"' in page.content.decode()
    trondelag_client.post(url("appointment_change", appointment.pk), {**appointment_form(appointment), "_confirm": "1"})
    appointment.refresh_from_db()
    assert appointment.verified_by == editor_trondelag and appointment.verified_at is not None


# Municipalities: function contacts only


def test_editor_changes_only_function_contacts_of_their_municipality(trondelag_client, own):
    trondheim = own["municipality"]
    data = {
        "name": "Hacked",
        "number": "9999",
        "county": municipality(BERGEN).county_id,
        "function_contacts-TOTAL_FORMS": "1",
        "function_contacts-INITIAL_FORMS": "0",
        "function_contacts-0-kind": "role_mailbox",
        "function_contacts-0-email": "kommuneoverlege@trondheim.example.no",
        "function_contacts-0-visibility": "public",
        "appointments-TOTAL_FORMS": "0",
        "appointments-INITIAL_FORMS": "0",
    }
    response = trondelag_client.post(url("municipality_change", trondheim.pk), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    trondheim.refresh_from_db()
    assert trondheim.function_contacts.filter(email="kommuneoverlege@trondheim.example.no").exists()
    assert (trondheim.name, trondheim.number, trondheim.county.number) == ("Trondheim", TRONDHEIM, "50")


def test_editor_cannot_add_or_delete_municipalities(trondelag_client, own):
    assert trondelag_client.get(reverse("admin:registry_municipality_add")).status_code == 403
    trondelag_client.post(url("municipality_delete", own["municipality"].pk), {"post": "yes"})
    assert Municipality.objects.filter(pk=own["municipality"].pk).exists()


# Shared physicians


def test_a_physician_serving_two_offices_is_edited_by_both(trondelag_client, vestland_client, own):
    shared = own["physician"]
    AppointmentFactory(physician=shared, municipality=municipality(BERGEN), role="deputy")
    for client in (trondelag_client, vestland_client):
        assert client.get(url("physician_change", shared.pk)).status_code == 200


def test_a_new_physician_without_appointments_belongs_to_the_registering_office(trondelag_client, vestland_client):
    response = trondelag_client.post(url("physician_add"), physician_form())
    assert response.status_code == 302
    physician = Physician.objects.get(name="Ny Lege")
    assert trondelag_client.get(url("physician_change", physician.pk)).status_code == 200
    assert vestland_client.get(url("physician_change", physician.pk)).status_code == 302


def test_a_physician_nobody_registered_in_an_office_is_kept_by_national_admins(trondelag_client, national_client):
    orphan = PhysicianFactory()
    assert trondelag_client.get(url("physician_change", orphan.pk)).status_code == 302
    assert national_client.get(url("physician_change", orphan.pk)).status_code == 200


# Readers and anonymous visitors


ADMIN_PAGES = [
    "admin:index",
    "admin:registry_appointment_changelist",
    "admin:registry_appointment_add",
    "admin:registry_municipality_changelist",
    "admin:registry_freshness",
]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_reader_and_anonymous_are_sent_to_the_login(reader_client, client, name):
    for visitor in (reader_client, client):
        response = visitor.get(reverse(name))
        assert response.status_code == 302 and reverse("admin:login") in response.url


def test_reader_cannot_change_anything(reader_client, own):
    appointment = own["appointment"]
    response = reader_client.post(
        url("appointment_change", appointment.pk), appointment_form(appointment, end_date="2025-06-30")
    )
    assert response.status_code == 302 and reverse("admin:login") in response.url
    reader_client.post(
        url("appointment_changelist"),
        {"action": "delete_selected", "_selected_action": [appointment.pk], "post": "yes"},
    )
    appointment.refresh_from_db()
    assert appointment.end_date is None
    assert reader_client.get(
        "/admin/autocomplete/",
        {"app_label": "registry", "model_name": "appointment", "field_name": "municipality", "term": "Trondheim"},
    ).status_code in (302, 403)


def test_anonymous_autocomplete_is_refused(client):
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "registry", "model_name": "appointment", "field_name": "municipality", "term": "Trondheim"},
    )
    assert response.status_code == 302


def test_national_admin_sees_every_region(national_client, own, foreign):
    assert listed(national_client.get(url("appointment_changelist"))) == {own["appointment"], foreign["appointment"]}
    assert national_client.get(url("appointment_change", foreign["appointment"].pk)).status_code == 200


def test_a_change_through_the_admin_can_end_an_own_appointment(trondelag_client, own):
    appointment = own["appointment"]
    response = trondelag_client.post(
        url("appointment_change", appointment.pk), appointment_form(appointment, end_date="2025-06-30")
    )
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.end_date == datetime.date(2025, 6, 30)


def test_only_national_admins_get_the_deleted_entries_link(trondelag_client, national_client):
    deleted = url("appointment_deleted")
    assert deleted in national_client.get(url("appointment_changelist")).content.decode()
    page = trondelag_client.get(url("appointment_changelist")).content.decode()
    assert deleted not in page and reverse("admin:registry_freshness") in page


def test_every_list_and_page_shows_the_responsible_office(trondelag_client, own):
    office = "Statsforvalteren i Trøndelag"
    for name in ("appointment", "physician", "municipality", "phone"):
        assert office in trondelag_client.get(url(f"{name}_changelist")).content.decode(), name
    for name, obj in (
        ("appointment", own["appointment"]),
        ("physician", own["physician"]),
        ("phone", own["physician_phone"]),
    ):
        assert office in trondelag_client.get(url(f"{name}_change", obj.pk)).content.decode(), name
    assert office in trondelag_client.get(url("municipality_change", own["municipality"].pk)).content.decode()
