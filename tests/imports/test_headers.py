"""Reading a header by its words: which column of the layout, which phone kind, which role."""

import pytest

from imports import headers
from imports.headers import HeaderMeaning, classify_header
from imports.normalise import (
    ERROR_HEADER,
    EXPORT_HEADERS,
    MUNICIPALITY_NAME,
    MUNICIPALITY_NUMBER,
    NOTE,
    PERSON_FIELDS,
    ROLE,
    ROLE_HEADER,
    SOURCE_ROW_HEADER,
    header_key,
    person_column,
)
from registry.models import PhoneKind, Role

MOBILE, OFFICE, ON_CALL, SWITCHBOARD = PhoneKind.MOBILE, PhoneKind.OFFICE, PhoneKind.ON_CALL, PhoneKind.SWITCHBOARD
CHIEF, DEPUTY, INFECTION = Role.CHIEF_PHYSICIAN, Role.DEPUTY, Role.INFECTION_CONTROL_PHYSICIAN


@pytest.mark.parametrize(
    "header, key, kind",
    [
        # The sheets from the issues, whose numbers were all dropped.
        ("Telefon (mobil)", "chief_phone", MOBILE),
        ("Telefon\n(sentralbord)", "function_phone", SWITCHBOARD),
        ("Mobiltelefon kommuneoverlege", "chief_phone", MOBILE),
        ("Tlf. jobb", "chief_phone", OFFICE),
        ("Stedfortreder mobil", "deputy_phone", MOBILE),
        ("Kommuneoverlege vakttelefon", "chief_phone", ON_CALL),
        ("Vakttelefon", "function_phone", ON_CALL),
        ("Beredskapstelefon", "function_phone", ON_CALL),
        ("Sentralbord", "function_phone", SWITCHBOARD),
        # Compounds, genitives and abbreviations.
        ("Mobiltelefon", "chief_phone", MOBILE),
        ("Kommuneoverlegens mobil", "chief_phone", MOBILE),
        ("Stedfortrederstelefon", "deputy_phone", ""),
        ("Tlf.nr", "chief_phone", ""),
        ("Tlf. arbeid", "chief_phone", OFFICE),
        ("Tlfnr jobb", "chief_phone", OFFICE),
        ("Telefonnummer", "chief_phone", ""),
        ("Mobilnr.", "chief_phone", MOBILE),
        ("Mob.tlf", "chief_phone", MOBILE),
        ("Direktenummer", "chief_phone", OFFICE),
        ("Kontortelefon", "chief_phone", OFFICE),
        ("Telefon 2", "chief_phone", ""),
        ("Mobil/jobb", "chief_phone", ""),
        ("Nummer kommuneoverlege", "chief_phone", ""),
        ("Kommunelegens tlf", "chief_phone", ""),
        ("Legens mobilnummer", "chief_phone", MOBILE),
        ("Smittevernoverlege tlf", "infection_phone", ""),
        ("Smittevernlegens mobil", "infection_phone", MOBILE),
        ("Telefon stedfortreder", "deputy_phone", ""),
        ("Stedfortreder – mobil", "deputy_phone", MOBILE),
        ("Telefon stedfortreder for kommuneoverlege", "deputy_phone", ""),
        ("Beredskapstelefon kommuneoverlege", "chief_phone", ON_CALL),
        ("Vakttelefon smittevern", "infection_phone", ON_CALL),
        # Messy spacing, line breaks, brackets, case, trailing colons.
        ("  Telefon   ( mobil ) ", "chief_phone", MOBILE),
        ("TELEFON\r\nMOBIL", "chief_phone", MOBILE),
        ("Tlf:", "chief_phone", ""),
        ("mobil-\ntelefon", "chief_phone", MOBILE),
        # The municipality's function phones.
        ("Sentralbord kommune", "function_phone", SWITCHBOARD),
        ("Kommunens sentralbord", "function_phone", SWITCHBOARD),
        ("Sentralbordnummer", "function_phone", SWITCHBOARD),
        ("Vakt", "function_phone", ON_CALL),
        ("Vaktnummer", "function_phone", ON_CALL),
        ("Vaktmobil", "function_phone", ON_CALL),
        ("Døgntelefon", "function_phone", ON_CALL),
        ("Dogntelefon", "function_phone", ON_CALL),
        ("Doegn-telefon", "function_phone", ON_CALL),
        ("Telefon 24/7", "function_phone", ON_CALL),
        ("Beredskap", "function_phone", ON_CALL),
        ("Funksjonstelefon", "function_phone", ""),
        # The legevakt's number.
        ("Legevakt telefon", "legevakt_phone", ""),
        ("Legevaktnummer", "legevakt_phone", ""),
        ("Tlf legevakt", "legevakt_phone", ""),
        ("Telefon legevakt", "legevakt_phone", ""),
        ("Legevakt tlf.", "legevakt_phone", ""),
        ("Legevaktens telefon", "legevakt_phone", ""),
        ("Telefonnummer til legevakten", "legevakt_phone", ""),
    ],
)
def test_phone_headers_give_the_column_and_the_kind(header, key, kind):
    meaning = classify_header(header)

    assert (meaning.key, meaning.kind) == (key, kind)


@pytest.mark.parametrize(
    "header, key",
    [
        # Municipality.
        ("Kommunenummer", "municipality_number"),
        ("Kommunenr", "municipality_number"),
        ("Kommunenr.", "municipality_number"),
        ("Knr", "municipality_number"),
        ("KNR", "municipality_number"),
        ("Nr", "municipality_number"),
        (" Nr. ", "municipality_number"),
        ("Kommune nr.", "municipality_number"),
        ("Kommunenummer (4 siffer)", "municipality_number"),
        ("Kommune", "municipality_name"),
        ("Kommunenavn", "municipality_name"),
        ("Kommunens navn", "municipality_name"),
        ("Navn kommune", "municipality_name"),
        ("Kommune:", "municipality_name"),
        # Role and note.
        ("Rolle", "role"),
        ("Funksjon", "role"),
        ("Rolle/funksjon", "role"),
        ("Merknad", "note"),
        ("Merknader", "note"),
        ("Kommentar", "note"),
        ("Kommentarer", "note"),
        ("Notat", "note"),
        # Names.
        ("Kommuneoverlege", "chief_name"),
        ("KOMMUNEOVERLEGE:", "chief_name"),
        ("Kommuneoverlege - navn", "chief_name"),
        ("Navn kommuneoverlege", "chief_name"),
        ("Kommuneoverlegens navn", "chief_name"),
        ("Navn på kommuneoverlege", "chief_name"),
        ("Kommuneoverlege\n(navn)", "chief_name"),
        ("Navn", "chief_name"),
        ("Fullt navn", "chief_name"),
        ("Lege", "chief_name"),
        ("Legens navn", "chief_name"),
        ("Kommunelege", "chief_name"),
        ("Kommune overlege", "chief_name"),
        ("Bydelsoverlege", "chief_name"),
        ("Stedfortreder", "deputy_name"),
        ("Stedfortreder (navn)", "deputy_name"),
        ("Stedfortredende kommuneoverlege", "deputy_name"),
        ("Stedfortreder for kommuneoverlege", "deputy_name"),
        ("Stedfortreder kommuneoverlege", "deputy_name"),
        ("Kommuneoverlegens stedfortreder", "deputy_name"),
        ("Vara", "deputy_name"),
        ("Vara kommuneoverlege", "deputy_name"),
        ("Stedfortredende lege", "deputy_name"),
        ("Vara lege", "deputy_name"),
        ("Smittevernoverlege", "infection_name"),
        ("Smittevernlege", "infection_name"),
        ("Smittevern", "infection_name"),
        ("Smittevern lege", "infection_name"),
        ("Lege (smittevern)", "infection_name"),
        ("Navn smittevernoverlege", "infection_name"),
        # E-mail.
        ("E-post", "chief_email"),
        ("E post", "chief_email"),
        ("Epost", "chief_email"),
        ("E-mail", "chief_email"),
        ("Mail", "chief_email"),
        ("E-postadresse", "chief_email"),
        ("E-post-adresse", "chief_email"),
        ("Mailadresse", "chief_email"),
        ("E-post (jobb)", "chief_email"),
        ("Kommuneoverlege e-post", "chief_email"),
        ("E-post stedfortreder", "deputy_email"),
        ("Stedfortreders e-post", "deputy_email"),
        ("Smittevernlegens e-post", "infection_email"),
        ("Smittevernoverlege epostadresse", "infection_email"),
        # HPR numbers.
        ("HPR", "chief_hpr"),
        ("HPR-nummer", "chief_hpr"),
        ("HPR nr", "chief_hpr"),
        ("HPR-nr.", "chief_hpr"),
        ("Helsepersonellnummer", "chief_hpr"),
        ("HPR kommuneoverlege", "chief_hpr"),
        ("HPR stedfortreder", "deputy_hpr"),
        ("HPR-nr. smittevernoverlege", "infection_hpr"),
        ("Smittevernoverlegens HPR-nummer", "infection_hpr"),
        # Arrangements, districts, legevakt.
        ("Interkommunal ordning", "arrangement"),
        ("Interkommunalt samarbeid", "arrangement"),
        ("Samarbeid", "arrangement"),
        ("Legetjeneste", "arrangement"),
        ("Oppgavefellesskap", "arrangement"),
        ("Kommunalt oppgavefellesskap", "arrangement"),
        ("Vertskommunesamarbeid", "arrangement"),
        ("Ordning", "arrangement"),
        ("Navn på ordning", "arrangement"),
        ("Samarbeidsordning", "arrangement"),
        ("Bydel", "district"),
        ("Bydelsnavn", "district"),
        ("Bydelsnummer", "district"),
        ("Bydel nr.", "district"),
        ("Legevakt", "legevakt_name"),
        ("Legevaktens navn", "legevakt_name"),
        ("Interkommunal legevakt", "legevakt_name"),
    ],
)
def test_headers_give_their_column(header, key):
    meaning = classify_header(header)

    assert meaning is not None, header
    assert meaning.key == key
    assert meaning.kind == ""


@pytest.mark.parametrize(
    "header, role",
    [
        ("Funksjonspostkasse", ""),
        ("Rollepostkasse", ""),
        ("Felles postkasse", ""),
        ("Postkasse", ""),
        ("Postmottak", ""),
        ("Kommunens postmottak", ""),
        ("Felles e-post", ""),
        ("Postkasse kommuneoverlege", CHIEF),
        ("Felles e-post kommuneoverlege", CHIEF),
        ("Funksjonspostkasse stedfortreder", DEPUTY),
        ("Rollepostkasse smittevern", INFECTION),
        ("Rolle-e-post smittevernoverlege", INFECTION),
    ],
)
def test_function_mailboxes_carry_the_role_they_name(header, role):
    meaning = classify_header(header)

    assert (meaning.key, meaning.kind, meaning.role) == ("function_email", "", role)


def test_a_function_phone_that_names_a_role_carries_it():
    meaning = classify_header("Funksjonstelefon kommuneoverlege")

    assert (meaning.key, meaning.kind, meaning.role) == ("function_phone", "", CHIEF)


def test_a_persons_phone_carries_no_role():
    assert classify_header("Telefon smittevernoverlege").role == ""


@pytest.mark.parametrize(
    "header",
    [
        # Not columns of the layout.
        "Adresse",
        "Postadresse",
        "Besøksadresse",
        "Postnummer",
        "Poststed",
        "Dato",
        "Sist oppdatert",
        "Sist bekreftet",
        "Fylke",
        "Statsforvalter",
        "Telefaks",
        "Fax",
        "Nettside",
        "Organisasjonsnummer",
        "Fødselsnummer",
        "Fornavn",
        "Etternavn",
        "Telefon privat",
        "Kontor",
        "Legekontor",
        "Jobb",
        "Vakthavende",
        "Interkommunal",
        "Vertskommune",
        "Felles",
        "2024",
        "",
        "   ",
        "-",
        # The columns the rejected-rows file adds.
        ERROR_HEADER,
        SOURCE_ROW_HEADER,
        # Two persons, two fields or two places: no guessing.
        "Telefon kommuneoverlege stedfortreder",
        "Kommuneoverlege stedfortreder",
        "Kommuneoverlege/smittevernoverlege",
        "Smittevernoverlege stedfortreder",
        "Stedfortredende smittevernoverlege",
        "Navn og telefon",
        "Telefon/e-post",
        "Kommunenavn og nummer",
        "Kommune/bydel",
        "Legevaktlege",
        "Legevaktsamarbeid",
        "Sentralbord/vakttelefon",
        # Fields that have no column for that place or person.
        "Legevakt e-post",
        "Bydel telefon",
        "Samarbeid e-post",
        "Kommune HPR",
        "Merknad kommuneoverlege",
        "Rolle kommuneoverlege",
    ],
)
def test_unknown_and_ambiguous_headers_are_not_guessed(header):
    assert classify_header(header) is None


@pytest.mark.parametrize("cell", [None, 4791234567, 3.5])
def test_cells_that_are_not_text_are_no_column(cell):
    assert classify_header(cell) is None


def test_a_long_title_cell_is_no_column_even_if_its_words_are_known():
    title = "Telefon " * 30

    assert classify_header(title[: headers.MAX_HEADER_LENGTH]).key == "chief_phone"
    assert classify_header(title) is None


def test_the_meaning_is_a_plain_value():
    assert classify_header("Telefon (mobil)") == HeaderMeaning("chief_phone", kind="mobile", words=("telefon", "mobil"))
    assert classify_header("Rollepostkasse smittevern") == HeaderMeaning(
        "function_email", role="infection_control_physician", words=("rolle", "postkasse", "smittevern")
    )


def test_the_words_say_how_a_compound_was_read():
    assert classify_header("Mobiltelefon kommuneoverlege").words == ("mobil", "telefon", "kommuneoverlege")
    assert classify_header("Kommuneoverlegens navn").words == ("kommuneoverlegens", "navn")
    assert classify_header("Døgntelefon").words == ("døgn", "telefon")
    assert classify_header("E-postadresse").words == ("epost", "adresse")
    assert classify_header("Telefon (24/7)").words == ("telefon", "24/7")
    assert classify_header("Kommunenummer (4 siffer)").words == ("kommune", "nummer")


def test_norwegian_letters_compare_alike_with_and_without_them():
    with_letters = classify_header("Postkasse på kommuneoverlege")
    without = classify_header("Postkasse paa kommuneoverlege")

    assert with_letters.key == without.key == "function_email"
    assert classify_header("DØGNTELEFON").kind == classify_header("Dögntelefon").kind == ON_CALL


# What the first version's exact alias table accepted, kept here so that no header it read changes meaning.
_PREFIXES = {
    "chief": ("kommuneoverlege", "kommuneoverleges", "kommunelege", "lege", "legens"),
    "deputy": ("stedfortreder", "stedfortreders", "stedfortredende", "stedfortrederforkommuneoverlege"),
    "infection": ("smittevernoverlege", "smittevernoverleges", "smittevernlege", "smittevern"),
}
_SUFFIXES = {
    "name": ("navn",),
    "phone": (
        "mobil",
        "mobiltelefon",
        "mobilnummer",
        "telefon",
        "telefonnummer",
        "tlf",
        "tlfnr",
        "tlfarbeid",
        "telefonarbeid",
    ),
    "email": ("epost", "epostadresse", "email", "emailadresse", "mail"),
    "hpr": ("hpr", "hprnummer", "hprnr"),
}


def _previous_aliases():
    """The exact aliases the first version of the import accepted (then in imports.normalise)."""
    aliases = {}

    def add(column, *names):
        for name in names:
            aliases.setdefault(header_key(name), column)

    add(MUNICIPALITY_NUMBER, "kommunenummer", "kommunenr", "knr", "nr", "kommune nr", "kommunenummer (4 siffer)")
    add(MUNICIPALITY_NAME, "kommune", "kommunenavn", "kommunens navn")
    add(ROLE, "rolle", "funksjon")
    add(NOTE, "merknad", "merknader", "kommentar", "kommentarer", "notat")
    # The chief physician's columns go first, so that a bare "navn", "telefon" or "e-post" is theirs.
    add("chief_name", "kommuneoverlege", "lege", "navn", "kommunelege")
    for part in PERSON_FIELDS:
        column = person_column("chief", part)
        if part != "name":
            add(column, *_SUFFIXES[part])
    for prefix, words in _PREFIXES.items():
        for word in words:
            add(person_column(prefix, "name"), word)
            for part, suffixes in _SUFFIXES.items():
                for suffix in suffixes:
                    add(person_column(prefix, part), word + suffix, suffix + word)
    for column, header in EXPORT_HEADERS.items():
        add(column, header)
    return aliases


HEADER_ALIASES = _previous_aliases()


def test_every_header_the_current_import_accepts_keeps_its_meaning():
    """HEADER_ALIASES holds header_key()s, so this also reads each alias with its spaces taken out.

    No alias is deliberately read differently: each keeps its column.
    """
    accepted = {**HEADER_ALIASES, **{header: column for column, header in EXPORT_HEADERS.items()}}
    accepted[ROLE_HEADER] = "role"
    assert len(accepted) > 500

    differing = {
        header: getattr(classify_header(header), "key", None)
        for header, column in accepted.items()
        if getattr(classify_header(header), "key", None) != column
    }

    assert differing == {}


def test_every_key_is_a_column_name_the_layout_uses():
    assert len(set(headers.KEYS)) == len(headers.KEYS) == 22
    assert set(EXPORT_HEADERS) <= set(headers.KEYS)
    assert set(HEADER_ALIASES.values()) <= set(headers.KEYS)
    assert headers.PHONE_KEYS <= set(headers.KEYS)


def test_kinds_and_roles_are_plain_registry_values():
    meaning = classify_header("Rollepostkasse smittevern")
    phone = classify_header("Vakttelefon")

    assert type(meaning.role) is str and meaning.role in Role.values
    assert type(phone.kind) is str and phone.kind in PhoneKind.values
