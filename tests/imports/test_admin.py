"""The import in the admin, end to end: upload → preview → confirm, with every permission boundary."""

import datetime
import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from imports import services
from imports.models import ImportLog, PendingImport
from registry.models import Appointment, Physician
from registry.phones import parse_phone
from tests.factories import AppointmentFactory, PhoneFactory, PhysicianFactory, municipality
from tests.imports.conftest import xlsx_bytes

pytestmark = pytest.mark.django_db

UPLOAD = reverse("admin:imports_importlog_upload")
EXPORT = reverse("admin:imports_importlog_export")

SHEET = (
    "Kommuneoverleger i Trøndelag\n"
    "\n"
    "Knr;Kommune;Lege;Tlf;E-post;Fax\n"
    "5045;Grong;Ida Felles;911 12 222 (kun dagtid);ida.felles@grong.no;\n"
    "5042;Lierne;Lise Ny;93334444;;\n"
    "5044;Namsskogan;;;;\n"
    "5043;Røyrvik;Rolf Feil;123;;\n"
    "4601;Bergen;Berit Berg;91844553;;\n"
)


def url(name, pk):
    return reverse(f"admin:imports_importlog_{name}", args=[pk])


def login(client, user):
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def confirm(client, pending, data, **kwargs):
    """Confirm the import of `pending` as its preview shows it (the form carries the plan's digest)."""
    preview = client.get(url("preview", pending.pk))
    initial = preview.context["form"].initial if preview.status_code == 200 else {}
    return client.post(
        url("confirm", pending.pk),
        {"sha256": pending.sha256, "digest": initial.get("digest", ""), **data},
        **kwargs,
    )


def upload(client, text=SHEET, name="kontakter.csv"):
    data = text.encode("cp1252") if isinstance(text, str) else text
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, data)})


@pytest.fixture
def grong(today):
    """Grong's chief physician as the registry has it before the import."""
    ida = PhysicianFactory(name="Ida Felles", email="ida@namdal.no", hpr_number=None)
    PhoneFactory(physician=ida, number=parse_phone("91112222"))
    AppointmentFactory(physician=ida, municipality=municipality("5045"))
    AppointmentFactory(municipality=municipality("5041"))
    return ida


@pytest.fixture
def editor(client, editor_trondelag):
    return login(client, editor_trondelag)


def test_the_upload_redirects_to_a_preview_of_every_kind_of_row(editor, grong):
    response = upload(editor)
    pending = PendingImport.objects.get()
    assert response.status_code == 302 and response["Location"] == url("preview", pending.pk)

    page = editor.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert page.context["counts"] == {"new": 1, "updated": 1, "unchanged": 0, "skipped": 1, "error": 2}
    # Changed: old and new value side by side.
    assert "<td>ida@namdal.no</td><td>ida.felles@grong.no</td>" in html
    assert "<td>91 11 22 22</td><td>91 11 22 22 (kun dagtid)</td>" in html
    # New, skipped, errors with row, column and value, and what the registry has that the sheet does not.
    assert (
        "<td>5</td><td>5042 Lierne</td><td>Register the physician</td><td>C «Lege»</td><td>–</td><td>Lise Ny</td>"
        in html
    )
    assert "No physician on this row (a vacancy)" in html
    assert "<td>7</td><td>5043 Røyrvik</td><td>D «Tlf»</td><td>123</td>" in html
    assert "4601 Bergen (Vestland) is outside your region" in html
    assert "Column F «Fax» is not part of the layout" in html
    assert "5041 Snåsa, chief municipal physician" in html
    assert Physician.objects.count() == 2 and Physician.objects.get(pk=grong.pk).email == "ida@namdal.no"


def test_by_default_a_sheet_with_errors_is_not_imported_on_confirm(editor, grong):
    pending = PendingImport.objects.get(pk=upload(editor).url.rstrip("/").rsplit("/", 1)[-1])
    response = confirm(editor, pending, {})

    assert response.status_code == 200 and "Nothing was saved: 2 rows have errors" in response.content.decode()
    assert Physician.objects.count() == 2 and Appointment.objects.count() == 2
    assert PendingImport.objects.filter(pk=pending.pk).exists()
    assert ImportLog.objects.get().saved is False


def test_confirming_with_valid_rows_only_imports_them_and_hands_back_the_rest(editor, editor_trondelag, grong):
    upload(editor)
    pending = PendingImport.objects.get()
    response = confirm(editor, pending, {"skip_invalid": "on"})

    log = ImportLog.objects.get()
    assert response.status_code == 302 and response["Location"] == url("result", log.pk)
    assert (log.user, log.saved, log.rows_new, log.rows_updated, log.rows_rejected) == (editor_trondelag, True, 1, 1, 2)
    assert set(Physician.objects.exclude(name__startswith="Test").values_list("name", flat=True)) == {
        "Ida Felles",
        "Lise Ny",
    }
    assert Physician.objects.get(name="Ida Felles").history.first().history_user == editor_trondelag
    # The upload is gone; the rejected rows wait, once, for their owner.
    rejects = PendingImport.objects.get()
    assert rejects.kind == "rejects" and rejects.log == log and rejects.data != pending.data
    result = editor.get(response["Location"])
    assert url("rejects", rejects.pk) in result.content.decode()
    download = editor.get(url("rejects", rejects.pk))
    assert download["Content-Disposition"] == 'attachment; filename="avviste-rader.xlsx"'
    rows = list(openpyxl.load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True))
    assert [row[-2] for row in rows[1:]] == ["7", "8"]
    assert PendingImport.objects.count() == 0


def test_end_missing_is_a_choice_on_confirm(editor, grong, today):
    text = "Knr;Kommune;Lege;Tlf\n5045;Grong;Ida Felles;91112222\n"
    upload(editor, text)
    pending = PendingImport.objects.get()
    confirm(editor, pending, {"end_missing": "on"})

    assert Appointment.objects.get(municipality__number="5041").end_date == today
    assert Appointment.objects.get(municipality__number="5045").end_date is None


def test_the_rows_with_errors_can_be_downloaded_from_the_preview(editor, grong):
    upload(editor)
    pending = PendingImport.objects.get()
    response = editor.get(url("rejects", pending.pk))

    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("Knr", "Kommune", "Lege", "Tlf", "E-post", "Fax", "Rad i opprinnelig ark", "Feil")
    assert [row[1] for row in rows[1:]] == ["Røyrvik", "Bergen"]
    assert PendingImport.objects.filter(pk=pending.pk).exists()


def test_cancel_deletes_the_upload(editor):
    upload(editor)
    pending = PendingImport.objects.get()
    response = editor.post(url("cancel", pending.pk))

    assert response.status_code == 302 and PendingImport.objects.count() == 0


def test_uploads_older_than_a_day_are_deleted_on_the_next_upload(editor, editor_trondelag):
    old = PendingImport.objects.create(user=editor_trondelag, file_name="gammel.csv", data=b"x", sha256="0" * 64)
    PendingImport.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(hours=25))
    upload(editor)

    assert not PendingImport.objects.filter(pk=old.pk).exists()


# Boundaries.


def test_another_users_pending_import_is_refused(client, editor_trondelag, editor_vestland, grong):
    upload(login(client, editor_trondelag))
    pending = PendingImport.objects.get()
    login(client, editor_vestland)

    assert client.get(url("preview", pending.pk)).status_code == 403
    assert confirm(client, pending, {"skip_invalid": "on"}).status_code == 403
    assert client.get(url("rejects", pending.pk)).status_code == 403
    assert client.post(url("cancel", pending.pk)).status_code == 403
    assert PendingImport.objects.filter(pk=pending.pk).exists() and Physician.objects.count() == 2


def test_a_confirm_for_another_file_than_the_preview_is_refused(editor, grong):
    upload(editor)
    pending = PendingImport.objects.get()
    response = editor.post(url("confirm", pending.pk), {"sha256": "f" * 64, "skip_invalid": "on"}, follow=True)

    assert "The uploaded file has changed since the preview" in response.content.decode()
    assert Physician.objects.count() == 2 and ImportLog.objects.count() == 0


def test_a_stored_upload_that_changed_is_refused(editor, grong):
    upload(editor)
    pending = PendingImport.objects.get()
    PendingImport.objects.filter(pk=pending.pk).update(data=b"Knr;Lege;Tlf\n5045;Mallory;91112222\n")
    response = confirm(editor, pending, {"skip_invalid": "on"}, follow=True)

    assert "The uploaded file has changed since the preview" in response.content.decode()
    assert not Physician.objects.filter(name="Mallory").exists()


def test_a_reader_can_neither_import_nor_export(client, reader):
    reader.is_staff = True
    reader.save()
    login(client, reader)

    assert client.get(UPLOAD).status_code == 403
    assert upload(client).status_code == 403
    assert client.get(EXPORT).status_code == 403
    assert PendingImport.objects.count() == 0


def test_an_anonymous_visitor_is_sent_to_the_login(client):
    response = client.get(UPLOAD)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_editor_of_vestland_sees_trondelag_rows_as_outside_their_region(client, editor_vestland):
    login(client, editor_vestland)
    page = client.get(upload(client)["Location"])

    assert page.context["counts"]["error"] == 4
    assert "5045 Grong (Trøndelag) is outside your region" in page.content.decode()


def test_a_file_of_another_format_is_refused_at_upload(editor):
    response = upload(editor, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, name="kontakter.xls")

    assert response.status_code == 200 and "Only .xlsx, .ods and .csv files" in response.content.decode()
    assert PendingImport.objects.count() == 0


def test_a_damaged_workbook_gets_a_message_not_a_500(editor):
    data = xlsx_bytes([["Kommune", "Lege"], ["Grong", "Ida"]])
    response = upload(editor, data[:-200], name="kontakter.xlsx")
    page = editor.get(response["Location"]) if response.status_code == 302 else response

    assert page.status_code == 200 and "damaged" in page.content.decode()


def test_cell_contents_are_escaped_in_the_preview(editor):
    page = editor.get(upload(editor, "Knr;Lege;Tlf\n5045;<script>alert(1)</script>;\n")["Location"])
    html = page.content.decode()

    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_preview_is_in_norwegian_by_default(client, editor_trondelag):
    client.force_login(editor_trondelag)
    page = client.get(upload(client)["Location"])

    assert "ligger utenfor regionen din" in page.content.decode()


def test_the_export_is_an_attachment_of_the_editors_region(editor, grong):
    response = editor.get(EXPORT + "?format=csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="kommuneoverleger-')
    assert response["X-Content-Type-Options"] == "nosniff"
    text = response.content.decode("utf-8-sig")
    assert "5045;Grong;Ida Felles" in text and "0301;Oslo" not in text


def test_the_import_log_lists_only_the_editors_own_imports(editor, editor_trondelag, editor_vestland):
    mine = ImportLog.objects.create(user=editor_trondelag, source="admin", file_name="min.csv", saved=True)
    ImportLog.objects.create(user=editor_vestland, source="admin", file_name="annen.csv", saved=True)
    page = editor.get(reverse("admin:imports_importlog_changelist"))

    assert page.status_code == 200 and list(page.context["cl"].result_list) == [mine]
    assert UPLOAD in page.content.decode()


def test_an_unexpected_error_shows_a_message_without_a_traceback_and_saves_nothing(editor, monkeypatch):
    from imports import planning

    def broken(self, *args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(planning.Planner, "plan_row", broken)
    page = editor.get(upload(editor, "Knr;Lege;Tlf\n5045;Ida Felles;91112222\n")["Location"])
    html = page.content.decode()

    assert page.status_code == 200 and "Traceback" not in html and "secret internals" not in html
    assert "The import failed unexpectedly and nothing was saved" in html
    assert Physician.objects.count() == 0


def test_the_confirm_imports_the_rows_the_preview_read_without_parsing_the_file_again(editor, grong, monkeypatch):
    from imports import services

    upload(editor, "Knr;Kommune;Lege;Tlf\n5042;Lierne;Lise Ny;93334444\n")
    pending = PendingImport.objects.get()
    editor.get(url("preview", pending.pk))
    pending.refresh_from_db()
    assert pending.sheet["rows"][1] == [2, ["5042", "Lierne", "Lise Ny", "93334444"]]

    def no_second_parse(*args, **kwargs):
        raise AssertionError("the file was parsed again")

    monkeypatch.setattr(services, "read_sheet", no_second_parse)
    confirm(editor, pending, {})

    assert Physician.objects.filter(name="Lise Ny").exists() and PendingImport.objects.count() == 0


def with_broken_sheet(data):
    """Return the .xlsx `data` with its worksheet cut off mid-way: the zip is sound, the XML is not."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            content = source.read(entry.filename)
            archive.writestr(entry, content[:120] if entry.filename == "xl/worksheets/sheet1.xml" else content)
    return out.getvalue()


def test_a_file_that_cannot_be_read_is_parsed_once_however_often_its_preview_is_loaded(editor, monkeypatch):
    reads = []
    real_read = services.read_sheet
    monkeypatch.setattr(services, "read_sheet", lambda *args: reads.append(1) or real_read(*args))
    response = upload(editor, with_broken_sheet(xlsx_bytes([["Kommune", "Lege"], ["Grong", "Ida"]])), "k.xlsx")
    pk = response["Location"].rstrip("/").rsplit("/", 1)[-1]

    pages = [editor.get(response["Location"]) for _ in range(3)]
    rejects = editor.get(url("rejects", pk))
    confirm = editor.post(url("confirm", pk), {"sha256": PendingImport.objects.get(pk=pk).sha256})

    assert len(reads) == 1
    assert all(page.status_code == 200 and "The file is damaged" in page.content.decode() for page in pages)
    assert rejects.status_code == 404
    assert confirm.status_code == 200 and "The file is damaged" in confirm.content.decode()
    assert PendingImport.objects.get(pk=pk).read_error.startswith("The file is damaged")


def test_a_file_with_a_part_over_the_limit_is_refused_at_upload_in_norwegian(client, editor_trondelag, settings):
    settings.IMPORT_MAX_XML_PART_BYTES = 64 * 1024
    client.force_login(editor_trondelag)
    rows = [["Kommune", "Lege"]] + [[f"Kommune {n}", f"Lege {n}"] for n in range(5000)]

    response = upload(client, xlsx_bytes(rows), name="kontakter.xlsx")

    body = response.content.decode()
    assert response.status_code == 200 and "pakkes ut til" in body and "hver del kan være på høyst 0,1 MB" in body
    assert PendingImport.objects.count() == 0


def test_the_preview_lists_the_arrangements_memberships_and_legevakter_it_creates(editor):
    text = (
        "Kommunenummer;Kommune;Interkommunal ordning;Kommuneoverlege;Telefon;Legevakt;Legevakt telefon\n"
        "5045;Grong;Indre Namdal legetjeneste (oppgavefellesskap);Kari Namdal;91234567;Namdal legevakt;74213000\n"
        "5042;Lierne;Indre Namdal legetjeneste;Kari Namdal;91234567;Namdal legevakt;\n"
    )
    upload(editor, text)
    html = editor.get(url("preview", PendingImport.objects.get().pk)).content.decode()
    section = html[html.index('id="organisation"') : html.index("</table>", html.index('id="organisation"'))]
    assert "(3)" not in section and "(4)" in section
    assert (
        "<td>2</td><td>Register the intermunicipal arrangement</td>"
        "<td>Indre Namdal legetjeneste (municipal task community)</td>" in section
    )
    assert "<td>3</td><td>Add the municipality to the arrangement</td><td>Lierne, member from " in section
    assert "<td>2</td><td>Register the legevakt</td><td>Namdal legevakt: 74 21 30 00</td>" in section
