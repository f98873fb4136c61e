"""Reading what people type: headers, phone cells, e-mails, HPR numbers and municipalities."""

import datetime

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from imports import normalise
from imports.normalise import CellError, MunicipalityIndex, find_layout, split_phones
from registry.models import FormerNumber, Municipality, Role
from tests.factories import succeed, write


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    "header, column",
    [
        ("Kommunenummer", "municipality_number"),
        ("Kommunenr.", "municipality_number"),
        ("KNR", "municipality_number"),
        (" Nr ", "municipality_number"),
        ("Kommune", "municipality_name"),
        ("Kommunenavn", "municipality_name"),
        ("Kommuneoverlege", "chief_name"),
        ("lege", "chief_name"),
        ("Navn", "chief_name"),
        ("Mobil", "chief_phone"),
        ("Mobiltelefon", "chief_phone"),
        ("Telefon", "chief_phone"),
        ("TLF", "chief_phone"),
        ("Tlf. arbeid", "chief_phone"),
        ("E-post", "chief_email"),
        ("epost", "chief_email"),
        ("E-mail", "chief_email"),
        ("HPR-nummer", "chief_hpr"),
        ("Stedfortreder", "deputy_name"),
        ("Stedfortreder – mobil", "deputy_phone"),
        ("Telefon stedfortreder", "deputy_phone"),
        ("Stedfortreders e-post", "deputy_email"),
        ("E-post stedfortreder", "deputy_email"),
        ("HPR stedfortreder", "deputy_hpr"),
        ("Smittevernoverlege", "infection_name"),
        ("Smittevernoverlege tlf", "infection_phone"),
        ("Rolle", "role"),
        ("Merknad", "note"),
        ("Kommentar", "note"),
    ],
)
def test_headers_are_read_by_their_words_whatever_the_case_spaces_and_punctuation(header, column):
    assert normalise.meaning_of_header(header).key == column


def test_every_export_header_reads_back_as_its_own_column():
    for column, header in normalise.EXPORT_HEADERS.items():
        assert normalise.meaning_of_header(header).key == column


def test_the_header_row_is_found_below_title_and_date_rows():
    rows = [
        (1, ["Kommuneoverleger i Vestland"]),
        (2, ["Oppdatert", datetime.date(2026, 10, 1)]),
        (4, ["Kommune", "Lege", "Fax", "Tlf", "Telefon"]),
    ]
    layout = find_layout(rows)

    assert layout.header_row == 4
    assert [str(c) for c in layout.columns["chief_phone"]] == ["D «Tlf»", "E «Telefon»"]
    assert [str(c) for c in layout.unknown] == ["C «Fax»"]


def test_a_column_given_twice_is_reported_and_read_once():
    layout = find_layout([(1, ["Kommune", "E-post", "Epost"])])

    assert [(str(a), str(b)) for a, b in layout.duplicates] == [("C «Epost»", "B «E-post»")]


def test_a_sheet_without_a_header_row_is_refused_with_what_to_add():
    with pytest.raises(CellError, match="No header row found"):
        find_layout([(1, ["Navn", "Telefon"]), (2, ["Kari", "91844552"])])


@pytest.mark.parametrize("index, letter", [(0, "A"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ"), (702, "AAA")])
def test_column_letters_are_those_of_a_spreadsheet(index, letter):
    assert normalise.column_letter(index) == letter


@pytest.mark.parametrize(
    "value, text",
    [
        (None, ""),
        (301, "301"),
        (91844552.0, "91844552"),
        ("  Kari \u00a0 Nordmann \t", "Kari Nordmann"),
        ("'+4791844552", "+4791844552"),
        ("Kari\u200bNordmann", "KariNordmann"),
        (datetime.date(2026, 10, 1), "2026-10-01"),
    ],
)
def test_cells_are_read_as_clean_text(value, text):
    assert normalise.cell_text(value) == text


def e164(value):
    return [(entry.e164, entry.note) for entry in split_phones(value)]


@pytest.mark.parametrize(
    "cell, expected",
    [
        (91844552, [("+4791844552", "")]),
        (91844552.0, [("+4791844552", "")]),
        ("918 44 552", [("+4791844552", "")]),
        ("918-44-552", [("+4791844552", "")]),
        ("918\u00a044\u00a0552", [("+4791844552", "")]),
        ("+47 918 44 552", [("+4791844552", "")]),
        ("0047 918 44 552", [("+4791844552", "")]),
        (4791844552, [("+4791844552", "")]),
        ("73 19 90 00 / 918 44 552", [("+4773199000", ""), ("+4791844552", "")]),
        ("73 19 90 00, 918 44 552", [("+4773199000", ""), ("+4791844552", "")]),
        ("73 19 90 00\n918 44 552", [("+4773199000", ""), ("+4791844552", "")]),
        ("73 19 90 00 og 918 44 552", [("+4773199000", ""), ("+4791844552", "")]),
        ("73 19 90 00 - 918 44 552", [("+4773199000", ""), ("+4791844552", "")]),
        ("95 11 22 33 (kun dagtid)", [("+4795112233", "kun dagtid")]),
        (
            "95 11 22 33 (kun dagtid, ikke helg) / 73 19 90 00",
            [("+4795112233", "kun dagtid, ikke helg"), ("+4773199000", "")],
        ),
        ("Vakt: 73 19 90 00", [("+4773199000", "Vakt")]),
        ("Tlf. 73 19 90 00", [("+4773199000", "")]),
        ("+46 70 123 45 67", [("+46701234567", "")]),
        ("0046 70 123 45 67 (svensk mobil)", [("+46701234567", "svensk mobil")]),
        ("918 44 552 / 918 44 552", [("+4791844552", "")]),
        (["918 44 552", 73199000], [("+4791844552", ""), ("+4773199000", "")]),
        ("", []),
        (None, []),
    ],
)
def test_phone_cells_are_read_as_offices_write_them(cell, expected):
    assert e164(cell) == expected


@pytest.mark.parametrize(
    "cell, named",
    [
        ("95 11 22 33 kun dagtid", "«95 11 22 33 kun dagtid»"),
        ("1881", "«1881»"),
        ("918 44 552 / 12", "«12»"),
        ("ring sentralbordet", "«ring sentralbordet»"),
    ],
)
def test_a_wrong_phone_number_is_named_in_its_error(cell, named):
    with pytest.raises(CellError) as error:
        split_phones(cell)
    assert named in str(error.value) and "8 digits" in str(error.value)


def test_a_phone_number_gets_its_kind_from_the_number():
    office, mobile = split_phones("73 19 90 00 / 918 44 552")
    assert (office.kind, mobile.kind) == ("office", "mobile")


@pytest.mark.parametrize("cell", ["kari@kommune.no", " mailto:kari@kommune.no ", "<Kari@Kommune.NO>"])
def test_email_cells_are_cleaned(cell):
    assert normalise.clean_email(cell).casefold() == "kari@kommune.no"


@pytest.mark.parametrize(
    "cell, message",
    [
        ("kari(at)kommune.no", "is not a valid e-mail address"),
        ("kari@kommune", "is not a valid e-mail address"),
        ("kari@kommune.no / per@kommune.no", "is not one e-mail address"),
    ],
)
def test_malformed_email_is_refused_with_an_example(cell, message):
    with pytest.raises(CellError, match=message):
        normalise.clean_email(cell)


@pytest.mark.parametrize("cell, hpr", [(1234567, "1234567"), (1234567.0, "1234567"), ("123 4567", "1234567"), ("", "")])
def test_hpr_numbers_are_digits(cell, hpr):
    assert normalise.clean_hpr(cell) == hpr


def test_an_hpr_number_with_letters_is_refused():
    with pytest.raises(CellError, match="4 to 9 digits"):
        normalise.clean_hpr("HPR 12")


@pytest.mark.parametrize(
    "cell, role",
    [
        ("Kommuneoverlege", Role.CHIEF_PHYSICIAN),
        ("stedfortreder", Role.DEPUTY),
        ("Smittevernoverlege", Role.INFECTION_CONTROL_PHYSICIAN),
        ("", ""),
    ],
)
def test_role_cells_name_a_role(cell, role):
    assert normalise.clean_role(cell) == role


def test_an_unknown_role_lists_the_known_ones():
    with pytest.raises(CellError, match="kommuneoverlege, stedfortreder or smittevernoverlege"):
        normalise.clean_role("fastlege")


@pytest.mark.parametrize("cell", ["Vakant", "ledig", "-", "", None])
def test_an_empty_post_is_read_as_no_name(cell):
    assert normalise.clean_name(cell) == ""


# Municipalities.


@pytest.fixture
def index(db, today):
    return MunicipalityIndex(
        Municipality.objects.select_related("county").prefetch_related("successors"),
        FormerNumber.objects.all(),
        today=today,
    )


def number_of(index, *, number="", name="", **kwargs):
    resolution = index.resolve(number=normalise.clean_municipality_number(number), name=name, **kwargs)
    assert resolution.error == "", resolution.error
    return resolution.municipality.number


@pytest.mark.parametrize(
    "number, name, expected",
    [
        ("0301", "", "0301"),
        (301, "", "0301"),
        ("301", "Oslo", "0301"),
        (5001.0, "", "5001"),
        ("", "Trondheim", "5001"),
        ("", "TRONDHEIM", "5001"),
        ("", "  trondheim   kommune ", "5001"),
        ("", "Guovdageaidnu", "5612"),
        ("", "Porsanki", "5622"),
        ("", "Guovdageaidnu – Kautokeino", "5612"),
        ("", "Raarvihke - Røyrvik kommune", "5043"),
        ("", "Aurskog-Høland", "3226"),
        ("", "Herøy (Nordland)", "1818"),
        ("", "5001 Trondheim", "5001"),
        ("1515", "Herøy", "1515"),
    ],
)
def test_a_municipality_is_found_however_the_sheet_writes_it(index, number, name, expected):
    assert number_of(index, number=number, name=name) == expected


def test_a_shared_name_is_settled_by_the_users_region(index):
    nordland = set(Municipality.objects.filter(county__number="18").values_list("pk", flat=True))
    assert number_of(index, name="Herøy", prefer=nordland) == "1818"


def test_a_shared_name_without_a_region_is_ambiguous_with_both_candidates(index):
    resolution = index.resolve(number="", name="Våler")

    assert resolution.municipality is None and resolution.column == "municipality_name"
    assert resolution.error == (
        "«Våler» is the name of more than one municipality: 3114 Våler (Østfold) or 3419 Våler (Innlandet). "
        "Write the number."
    )


@pytest.mark.parametrize(
    "number, name, column, message",
    [
        ("9999", "", "municipality_number", "There is no municipality with the number 9999."),
        ("", "Trondhjem", "municipality_name", "There is no municipality named «Trondhjem»."),
        ("0301", "Bergen", "municipality_name", "Municipality number 0301 is Oslo, but the name column says «Bergen»."),
        ("", "", "municipality_name", "The row has no municipality."),
    ],
)
def test_a_municipality_that_cannot_be_found_says_why(index, number, name, column, message):
    resolution = index.resolve(number=number, name=name)
    assert resolution.column == column and resolution.error.startswith(message)


def test_a_ceased_municipality_points_to_its_successor(db, today):
    old = Municipality.objects.get(number="5042")
    old.valid_to = datetime.date(2025, 12, 31)
    write(old)
    succeed(old, Municipality.objects.get(number="5045"))
    index = MunicipalityIndex(
        Municipality.objects.select_related("county").prefetch_related("successors"), [], today=today
    )

    resolution = index.resolve(number="5042", name="")

    assert resolution.municipality.number == "5045"
    assert resolution.notes == ["5042 Lierne ceased on 2025-12-31: written to its successor 5045 Grong."]


@pytest.mark.parametrize(
    "number, name, expected, note",
    [
        ("3005", "", "3301", "3005 was Drammen's number until 2023: written to 3301 Drammen."),
        ("3005", "Drammen", "3301", "3005 was Drammen's number until 2023: written to 3301 Drammen."),
        ("3024", "Bærum", "3201", "3024 was Bærum's number until 2023: written to 3201 Bærum."),
        ("5412", "", "5512", "5412 was Tjeldsund's number until 2023: written to 5512 Tjeldsund."),
        ("", "3005 Drammen", "3301", "3005 was Drammen's number until 2023: written to 3301 Drammen."),
    ],
)
def test_a_number_from_before_the_2024_reform_leads_to_the_same_municipality_with_a_note(
    index, number, name, expected, note
):
    resolution = index.resolve(number=number, name=name)
    assert resolution.municipality.number == expected and note in resolution.notes


def test_a_number_whose_municipality_split_names_both_successors(index):
    resolution = index.resolve(number="1507", name="Ålesund")
    assert resolution.municipality is None and resolution.column == "municipality_number"
    assert resolution.error == (
        "1507 Ålesund went to more than one municipality: 1508 Ålesund (Møre og Romsdal) or 1580 Haram "
        "(Møre og Romsdal). Write the new number."
    )


@pytest.mark.parametrize(
    "name, note",
    [
        ("Levanger", "Read from the name only: 5037 Levanger (Trøndelag)."),
        ("levanger kommune", "«levanger kommune» read as 5037 Levanger (Trøndelag), from the name only."),
        ("Guovdageaidnu", "«Guovdageaidnu» is the Sami or Kven name of 5612 Kautokeino (Finnmark)."),
    ],
)
def test_every_reading_that_is_not_literal_is_noted(index, name, note):
    assert index.resolve(number="", name=name).notes == [note]


def test_a_literal_number_needs_no_note(index):
    assert index.resolve(number="5037", name="Levanger").notes == []


@pytest.mark.parametrize("cell", ["Oslo", "03011", "K-0301"])
def test_a_municipality_number_cell_must_hold_digits(cell):
    with pytest.raises(CellError, match="is not a municipality number"):
        normalise.clean_municipality_number(cell)


@pytest.mark.parametrize("prefix", ["", "+47 ", "0047 ", "+47-"])
def test_the_quick_reading_of_norwegian_numbers_agrees_with_parse_phone(prefix):
    from django.core.exceptions import ValidationError

    from registry.phones import parse_phone

    for first in range(100, 1000):
        for tail in ("00000", "12345", "99999"):
            text = f"{prefix}{first} {tail[:2]} {tail[2:]}"
            normalise.clear_caches()
            try:
                expected = parse_phone(text).as_e164
            except ValidationError:
                expected = None
            try:
                actual = normalise._parse_one(text).as_e164
            except ValidationError:
                actual = None
            assert actual == expected, text


def test_the_quick_validity_check_agrees_with_phonenumbers_for_every_norwegian_prefix():
    import phonenumbers

    for prefix in range(10_000, 100_000, 7):
        for tail in ("000", "555", "999"):
            national = f"{prefix}{tail}"
            number = phonenumbers.PhoneNumber(country_code=47, national_number=int(national))
            assert normalise._valid_in_norway(national) == phonenumbers.is_valid_number_for_region(number, "NO"), (
                national
            )


@given(st.lists(st.sampled_from([*"abzXYZ09_+-.@", "ø", "ſ", "K", "--", ".."]), max_size=30).map("".join))
@settings(max_examples=3000, deadline=None)
def test_an_address_the_quick_email_check_accepts_is_one_django_accepts(text):
    from django.core.validators import validate_email

    if normalise._PLAIN_EMAIL.fullmatch(text):
        validate_email(text)


@pytest.mark.parametrize(
    "cell",
    ["918 44 552", "918 44 552 / 73 19 90 00", "90011223.0", "(+47) 412 34 567", "95 11 22 33 (kun dagtid)"],
)
def test_one_phone_column_without_a_kind_reads_as_its_cell(cell):
    assert split_phones([(cell, "")]) == split_phones([(cell, ""), (None, "")]) == split_phones(cell)
