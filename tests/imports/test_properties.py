"""Arbitrary cell contents never give a 500 in the admin, an exception in the service, or a partial write."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from imports import normalise
from imports.models import PendingImport
from imports.services import run_import
from registry.models import Appointment, Phone, Physician
from tests.imports.conftest import xlsx_bytes

HEADER = ["Kommunenummer", "Kommune", "Kommuneoverlege", "Telefon", "E-post", "HPR-nummer", "Stedfortreder", "Merknad"]
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

# Cells as offices type them, and worse: plausible values mixed with anything at all.
plausible = st.sampled_from(
    [
        "5001",
        "301",
        "Oslo",
        "Herøy",
        "Våler",
        "Guovdageaidnu",
        "Kari Lege",
        "918 44 552",
        "+46 70 123 45 67",
        "95 11 22 33 (kun dagtid)",
        "kari@kommune.no",
        "1234567",
        "=1+1",
        "@SUM(A1)",
        "'+47",
        "vakant",
        "",
        " ",
    ]
)
cell = st.one_of(
    st.none(),
    plausible,
    st.text(max_size=30),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
)
rows = st.lists(st.lists(cell, min_size=0, max_size=len(HEADER) + 2), min_size=1, max_size=6)
headers = st.one_of(st.just(HEADER), st.lists(st.one_of(st.sampled_from(HEADER), st.text(max_size=12)), max_size=10))


def as_csv(header, body, delimiter):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    for row in [header, *body]:
        writer.writerow(["" if value is None else value for value in row])
    return out.getvalue().encode("utf-8")


def as_xlsx(header, body):
    def clean(value):
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    return xlsx_bytes([[clean(v) for v in row] for row in [header, *body]])


def registry_size():
    return Physician.objects.count(), Appointment.objects.count(), Phone.objects.count()


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(header=headers, body=rows, kind=st.sampled_from(["csv;", "csv,", "xlsx"]))
def test_any_cells_give_a_report_and_never_a_partial_write(superuser, today, header, body, kind):
    data = as_xlsx(header, body) if kind == "xlsx" else as_csv(header, body, kind[-1])
    before = registry_size()

    report = run_import(data=data, file_name="arket." + kind[:4].rstrip(";,"), user=superuser, dry_run=False)

    assert sum(report.counts.values()) == len(report.rows)
    if report.has_errors or report.no_phone_columns:
        # A sheet with no phone column waits for the importer's yes, which this run did not give.
        assert not report.saved and registry_size() == before
    else:
        assert report.saved
    assert all(row.kind in ("new", "updated", "unchanged", "skipped", "error") for row in report.rows)
    assert all(problem.message for row in report.rejected for problem in row.problems)


@settings(max_examples=300, deadline=None)
@given(value=cell)
def test_reading_a_cell_raises_nothing_but_a_cell_error(value):
    for reader in (
        normalise.split_phones,
        normalise.clean_email,
        normalise.clean_hpr,
        normalise.clean_name,
        normalise.clean_role,
        normalise.clean_municipality_number,
    ):
        try:
            reader(value)
        except normalise.CellError as error:
            assert str(error)


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(body=rows)
def test_valid_rows_only_writes_exactly_the_valid_rows(superuser, today, body):
    data = as_csv(HEADER, body, ";")
    dry = run_import(data=data, file_name="a.csv", user=superuser, dry_run=True, skip_invalid=True)
    before = registry_size()

    report = run_import(data=data, file_name="a.csv", user=superuser, dry_run=False, skip_invalid=True)

    assert [(r.number, r.kind) for r in report.rows] == [(r.number, r.kind) for r in dry.rows]
    if report.counts["new"] == report.counts["updated"] == 0:
        assert registry_size() == before


@pytest.mark.django_db
@PROPERTY_SETTINGS
@given(
    header=headers,
    body=rows,
    name=st.sampled_from(["a.csv", "a.xlsx", "a.ods", "../a.csv", "a"]),
    junk=st.binary(max_size=200),
    kind=st.sampled_from(["csv", "xlsx", "bytes"]),
)
def test_the_admin_never_answers_500_whatever_is_uploaded(client, editor_trondelag, header, body, name, junk, kind):
    client.force_login(editor_trondelag)
    data = {"csv": lambda: as_csv(header, body, ";"), "xlsx": lambda: as_xlsx(header, body), "bytes": lambda: junk}[
        kind
    ]()
    before = registry_size()

    response = client.post(reverse("admin:imports_importlog_upload"), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        pending = PendingImport.objects.filter(user=editor_trondelag, kind="upload").latest("pk")
        assert client.get(response["Location"]).status_code == 200
        confirm = reverse("admin:imports_importlog_confirm", args=[pending.pk])
        response = client.post(confirm, {"sha256": pending.sha256})
        assert response.status_code in (200, 302)
        if response.status_code == 200:
            assert registry_size() == before
