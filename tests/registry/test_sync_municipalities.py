import csv
import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from registry.models import Appointment, Municipality
from registry.reference import DATA_DIR, read_csv
from tests.factories import AppointmentFactory, municipality

pytestmark = pytest.mark.django_db

REFORM = datetime.date(2028, 1, 1)


def reform_list(tmp_path):
    """SSB's list with a rename (5001), a merger (5042 + 5043 → 5099) and a split (4601 → 4698 + 4699)."""
    rows = read_csv(DATA_DIR / "kommuner.csv")
    out = []
    for row in rows:
        row = {**row, "tidligere_kommunenummer": ""}
        if row["kommunenummer"] == "5001":
            row["navn"] = "Nidaros"
        if row["kommunenummer"] in {"5042", "5043", "4601"}:
            continue
        out.append(row)
    out.append(
        {
            "kommunenummer": "5099",
            "navn": "Indre Namdal",
            "alternative_navn": "",
            "fylkesnummer": "50",
            "fylkesnavn": "Trøndelag",
            "tidligere_kommunenummer": "5042 5043",
        }
    )
    for number, name in [("4698", "Bergen nord"), ("4699", "Bergen sør")]:
        out.append(
            {
                "kommunenummer": number,
                "navn": name,
                "alternative_navn": "",
                "fylkesnummer": "46",
                "fylkesnavn": "Vestland",
                "tidligere_kommunenummer": "4601",
            }
        )
    path = tmp_path / "kommuner-2028.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(out[0]))
        writer.writeheader()
        writer.writerows(out)
    return path


def sync(path, *args, language="en"):
    out = io.StringIO()
    with translation.override(language):
        call_command("sync_municipalities", str(path), "--date", REFORM.isoformat(), *args, stdout=out)
    return out.getvalue()


def test_unchanged_list_changes_nothing():
    assert "No changes" in sync(DATA_DIR / "kommuner.csv")


def test_rename_merge_and_split(tmp_path):
    appointment = AppointmentFactory(municipality=municipality("5043"))
    output = sync(reform_list(tmp_path))

    assert municipality("5001").name == "Nidaros"
    assert "Renamed: 5001 Trondheim → 5001 Nidaros" in output
    for number in ["5042", "5043", "4601"]:
        ceased = municipality(number)
        assert ceased.valid_to == REFORM - datetime.timedelta(days=1)
        assert f"Ceased: {ceased}" in output
    merged = municipality("5099")
    assert merged.valid_from == REFORM and merged.county.number == "50"
    assert set(merged.predecessors.values_list("number", flat=True)) == {"5042", "5043"}
    assert set(municipality("4601").successors.values_list("number", flat=True)) == {"4698", "4699"}
    # The appointment survives in the ceased municipality and is flagged for the office.
    assert Appointment.objects.filter(pk=appointment.pk).exists()
    assert "still open in ceased 5043" in output
    assert Municipality.objects.count() == 357 + 1 + 3  # 1507 ceased in 2024
    assert Municipality.objects.active(on=REFORM).count() == 357 - 3 + 3


def test_second_run_changes_nothing(tmp_path):
    path = reform_list(tmp_path)
    sync(path)
    before = list(Municipality.objects.values_list("number", "name", "valid_from", "valid_to", "updated_at"))
    assert "No changes" in sync(path)
    assert list(Municipality.objects.values_list("number", "name", "valid_from", "valid_to", "updated_at")) == before


def test_dry_run_saves_nothing(tmp_path):
    output = sync(reform_list(tmp_path), "--dry-run")
    assert "Dry run" in output and "Nidaros" in output
    assert municipality("5001").name == "Trondheim"
    assert not Municipality.objects.filter(number="5099").exists()


def test_moving_a_municipality_to_another_county(tmp_path):
    rows = read_csv(DATA_DIR / "kommuner.csv")
    for row in rows:
        if row["kommunenummer"] == "5045":
            row["fylkesnummer"] = "18"
    path = tmp_path / "moved.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    output = sync(path)
    assert "Moved: 5045 Grong from county 50 to 18" in output
    assert municipality("5045").county_governor.code == "nordland"


def test_bad_rows_are_reported_and_nothing_changes(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("kommunenummer,navn,alternative_navn,fylkesnummer\n5001,Nidaros,,50\n12x4,Feil,,50\n9999,Ny,,77\n")
    with pytest.raises(CommandError) as error:
        sync(path)
    message = str(error.value)
    assert "'12x4' is not a municipality number" in message and "county 77 does not exist" in message
    assert municipality("5001").name == "Trondheim"


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        sync(tmp_path / "nope.csv")


def test_output_is_in_norwegian_by_default(tmp_path):
    output = sync(reform_list(tmp_path), language="nb")
    assert "Nytt navn: 5001 Trondheim → 5001 Nidaros" in output
    assert "Opphørt: 5043 Røyrvik (beholdt med historikk)" in output


def renumbering_list(tmp_path):
    """SSB's list in which 5045 Grong only changes its number, to 5090, and moves to county 18 (as 113 did in 2024)."""
    out = []
    for row in read_csv(DATA_DIR / "kommuner.csv"):
        row = {**row, "tidligere_kommunenummer": ""}
        if row["kommunenummer"] == "5045":
            row.update(kommunenummer="1890", fylkesnummer="18", tidligere_kommunenummer="5045")
        out.append(row)
    path = tmp_path / "kommuner-omnummerert.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(out[0]))
        writer.writeheader()
        writer.writerows(out)
    return path


def test_a_municipality_that_only_changes_its_number_keeps_everything_in_the_same_step(tmp_path, editor_trondelag):
    from accounts.access import municipalities_for
    from registry.models import FormerNumber
    from tests.factories import FunctionContactFactory

    grong = municipality("5045")
    appointment = AppointmentFactory(municipality=grong)
    phone = FunctionContactFactory(municipality=grong)
    output = sync(renumbering_list(tmp_path))

    renumbered = Municipality.objects.get(pk=grong.pk)
    assert renumbered.number == "1890" and renumbered.valid_to is None and renumbered.county.number == "18"
    assert "Renumbered: 5045 Grong → 1890 Grong" in output and "Ceased" not in output
    # The same municipality: its open appointment, function contact and history stay with it.
    assert Appointment.objects.get(pk=appointment.pk).municipality_id == grong.pk
    assert phone.__class__.objects.get(pk=phone.pk).municipality_id == grong.pk
    latest = renumbered.history.latest()
    assert (latest.number, latest.history_change_reason) == ("1890", "SSB municipality list of 2028-01-01")
    assert FormerNumber.objects.filter(number="5045", municipality=renumbered).exists()
    # Its office followed the county in the same step, and search finds the new number.
    assert not municipalities_for(editor_trondelag).filter(pk=grong.pk).exists()
    assert " 1890" in renumbered.search_text and " 5045" not in renumbered.search_text
    assert "No changes" in sync(renumbering_list(tmp_path))


def test_an_old_number_from_a_renumbering_still_finds_the_municipality(tmp_path, client):
    sync(renumbering_list(tmp_path))
    response = client.get("/api/municipalities/5045/")
    assert response.status_code == 301 and response["Location"] == "/api/municipalities/1890/"


def test_a_merger_still_lists_the_open_appointments_for_the_office(tmp_path):
    appointment = AppointmentFactory(municipality=municipality("5042"))
    output = sync(reform_list(tmp_path))
    assert f"Check: {appointment.physician}" in output and "is still open in ceased 5042 Lierne" in output
    assert Municipality.objects.get(number="5042").valid_to is not None
