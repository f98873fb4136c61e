"""Reading what people type into contact spreadsheets: headers, cells, municipalities and phone numbers.

Plain functions without database access (the municipality index is built from rows the caller loads),
so each rule is tested on its own. Every error is a `CellError` whose message says what is wrong and
what to do, in the user's language.
"""

import functools
import re
import unicodedata
from dataclasses import dataclass, field

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

from imports.headers import ARRANGEMENT, DISTRICT, LEGEVAKT_NAME, LEGEVAKT_PHONE, classify_header
from registry.models import PhoneKind, Role
from registry.numbers import NumberIndex
from registry.phones import invalid_phone, parse_phone
from registry.spreadsheets import unneutralise


class CellError(ValueError):
    """A cell that cannot be read. A ValueError, so django-import-export files it under its column."""


# Columns of the layout. One sheet row = one municipality with its chief physician, deputy and
# infection control physician; or, with a "Rolle" column, one person in the role that column names.
MUNICIPALITY_NUMBER = "municipality_number"
MUNICIPALITY_NAME = "municipality_name"
ROLE = "role"
NOTE = "note"
PERSON_ROLES = {"chief": Role.CHIEF_PHYSICIAN, "deputy": Role.DEPUTY, "infection": Role.INFECTION_CONTROL_PHYSICIAN}
PERSON_FIELDS = ("name", "phone", "email", "hpr")
# The municipality's own contacts, not a person's: its switchboard or 24/7 number, its role mailbox.
FUNCTION_PHONE = "function_phone"
FUNCTION_EMAIL = "function_email"


def person_column(prefix, part):
    return f"{prefix}_{part}"


# The export writes these headers, in this order; the import accepts them and the aliases below.
EXPORT_HEADERS = {
    MUNICIPALITY_NUMBER: "Kommunenummer",
    MUNICIPALITY_NAME: "Kommune",
    "chief_name": "Kommuneoverlege",
    "chief_phone": "Telefon",
    "chief_email": "E-post",
    "chief_hpr": "HPR-nummer",
    "deputy_name": "Stedfortreder",
    "deputy_phone": "Stedfortreder telefon",
    "deputy_email": "Stedfortreder e-post",
    "deputy_hpr": "Stedfortreder HPR-nummer",
    "infection_name": "Smittevernoverlege",
    "infection_phone": "Smittevernoverlege telefon",
    "infection_email": "Smittevernoverlege e-post",
    "infection_hpr": "Smittevernoverlege HPR-nummer",
    NOTE: "Merknad",
}
# The export's columns after those: where the row's people are (a district, an arrangement), and the function's
# own contacts. Each reads back as its column of the layout (tests/imports/test_export.py); several mailbox and
# function phone columns are read together, each with the role or kind its header names.
EXPORT_EXTRA_HEADERS = {
    DISTRICT: "Bydel",
    ARRANGEMENT: "Interkommunal ordning",
    "mailbox": "Funksjonspostkasse",
    "mailbox_chief": "Rollepostkasse kommuneoverlege",
    "mailbox_deputy": "Rollepostkasse stedfortreder",
    "mailbox_infection": "Rollepostkasse smittevernoverlege",
    "emergency_phone": "Beredskapstelefon",
    "switchboard_phone": "Sentralbord",
    LEGEVAKT_NAME: "Legevakt",
    LEGEVAKT_PHONE: "Legevakt telefon",
}
# The export field of each role's mailbox ("" is the function's own).
MAILBOX_FIELDS = {
    "": "mailbox",
    Role.CHIEF_PHYSICIAN: "mailbox_chief",
    Role.DEPUTY: "mailbox_deputy",
    Role.INFECTION_CONTROL_PHYSICIAN: "mailbox_infection",
}
ROLE_HEADER = "Rolle"
# Columns the rejected-rows file adds; a corrected copy of it imports without "unknown column" notices.
ERROR_HEADER = "Feil"
SOURCE_ROW_HEADER = "Rad i opprinnelig ark"


def header_key(text):
    """Return `text` as the header matcher sees it: case, spaces and punctuation removed ("E-post" → "epost")."""
    text = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return "".join(ch for ch in text if ch.isalnum())


# Columns that place a row's people and contacts in a district or an arrangement, or name its legevakt.
ORGANISATION_KEYS = (ARRANGEMENT, DISTRICT, LEGEVAKT_NAME, LEGEVAKT_PHONE)
# The columns the import reads today (imports.headers also recognises others, reported as not imported).
LAYOUT_KEYS = {
    MUNICIPALITY_NUMBER,
    MUNICIPALITY_NAME,
    ROLE,
    NOTE,
    FUNCTION_PHONE,
    FUNCTION_EMAIL,
    *ORGANISATION_KEYS,
    *[person_column(prefix, part) for prefix in PERSON_ROLES for part in PERSON_FIELDS],
}
IGNORED_HEADERS = {header_key(ERROR_HEADER), header_key(SOURCE_ROW_HEADER), "error", "errors"}
# Phone numbers may come in several columns ("Telefon" and "Mobil"); they are read together. So are the
# function's mailboxes, one column per role ("Funksjonspostkasse", "Rollepostkasse smittevernoverlege").
PHONE_COLUMNS = {person_column(prefix, "phone") for prefix in PERSON_ROLES} | {FUNCTION_PHONE, LEGEVAKT_PHONE}
MULTI_COLUMNS = (PHONE_COLUMNS - {LEGEVAKT_PHONE}) | {FUNCTION_EMAIL}
# How far down the header row may be (below title and date rows).
HEADER_SEARCH_ROWS = 30


def column_letter(index):
    """Return the spreadsheet letter of the 0-based column `index` (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    kind: str = ""  # for a phone column: the PhoneKind its header's words say, "" when they say none
    role: str = ""  # for a function mailbox column: the role it is for ("Rollepostkasse smittevern")

    @functools.cached_property
    def letter(self):
        return column_letter(self.index)

    @functools.cached_property
    def label(self):
        return f"{self.letter} «{self.header}»" if self.header else self.letter

    def __str__(self):
        return self.label


@dataclass
class Layout:
    """Where the header row is and which sheet column holds which column of the layout."""

    header_row: int  # as the user sees it: 1 is the first row of the sheet
    header_cells: list
    columns: dict = field(default_factory=dict)  # layout column → [Column, …]
    unknown: list = field(default_factory=list)  # [Column]
    duplicates: list = field(default_factory=list)  # [(Column ignored, Column used)]

    @property
    def roles(self):
        """The roles this sheet speaks about: appointments in other roles are not reported missing."""
        if ROLE in self.columns:
            return set(Role.values)
        return {role for prefix, role in PERSON_ROLES.items() if person_column(prefix, "name") in self.columns}

    def first_column(self, key):
        columns = self.columns.get(key)
        return columns[0] if columns else None

    @property
    def has_phone_columns(self):
        return any(key in self.columns for key in PHONE_COLUMNS)

    def values(self, cells, key):
        """Return the cell of `key` in `cells`; for columns that may be several, [(cell, kind), …] (phones) or
        [(cell, role), …] (function mailboxes)."""
        columns = self.columns.get(key, [])
        if key == FUNCTION_EMAIL:
            return [(cells[c.index] if c.index < len(cells) else None, c.role) for c in columns]
        if key in MULTI_COLUMNS:
            return [(cells[c.index] if c.index < len(cells) else None, c.kind) for c in columns]
        return (cells[columns[0].index] if columns[0].index < len(cells) else None) if columns else None

    def is_header_again(self, cells):
        first = next((cell for cell in self.header_cells if cell_text(cell)), None)
        if first is None or first not in cells:
            return False
        keys = [header_key(cell) for cell in cells if cell_text(cell)]
        return bool(keys) and keys == [header_key(cell) for cell in self.header_cells if cell_text(cell)]


def meaning_of_header(cell):
    """The HeaderMeaning of a header cell (imports.headers: by its words), or None for a column the import does
    not read."""
    meaning = classify_header(cell_text(cell))
    return meaning if meaning is not None and meaning.key in LAYOUT_KEYS else None


def find_layout(rows):
    """Return the Layout of the sheet given as [(row number, cells)], or raise CellError.

    The header row is the first of the top rows that names a municipality column and at least one
    other known column; title and date rows above it are ignored. Each header is read by its words
    (imports.headers): "Telefon (mobil)" is the chief physician's phone, of kind mobile.
    """
    for number, cells in rows[:HEADER_SEARCH_ROWS]:
        meanings = [meaning_of_header(cell) for cell in cells]
        keys = {meaning.key for meaning in meanings if meaning is not None}
        if not (MUNICIPALITY_NUMBER in keys or MUNICIPALITY_NAME in keys) or len(keys) < 2:
            continue
        layout = Layout(header_row=number, header_cells=list(cells))
        for index, (cell, meaning) in enumerate(zip(cells, meanings, strict=True)):
            text = cell_text(cell)
            if meaning is None:
                if header_key(text) and header_key(text) not in IGNORED_HEADERS:
                    layout.unknown.append(Column(index, text))
                continue
            column = Column(index, text, meaning.kind, meaning.role)
            if meaning.key in layout.columns and meaning.key not in MULTI_COLUMNS:
                layout.duplicates.append((column, layout.columns[meaning.key][0]))
                continue
            layout.columns.setdefault(meaning.key, []).append(column)
        return layout
    raise CellError(
        _(
            "No header row found in the first %(rows)s rows. The sheet needs a row with the column names, "
            "at least «Kommunenummer» or «Kommune» and the physician's columns, for example «Kommuneoverlege»."
        )
        % {"rows": HEADER_SEARCH_ROWS}
    )


# Cells.

_SPACES = re.compile(r"[^\S\n]+|[\u00a0\u2007\u202f]+")
# Text that needs none of the cleaning below: printable Latin, single spaces, nothing at the ends.
_PLAIN = re.compile(r"[!-&(-~\u00c0-\u024f](?:[ -~\u00c0-\u024f]*[!-~\u00c0-\u024f])?")


def cell_text(value, *, keep_newlines=False):
    """Return a cell as clean text: numbers without ".0", spaces collapsed, a CSV export's apostrophe removed."""
    if type(value) is str and _PLAIN.fullmatch(value) and "  " not in value:
        return value  # the common case first: plain text needs no cleaning
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str) and _PLAIN.fullmatch(value) and "  " not in value:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    # Zero-width spaces, soft hyphens and other invisible characters that pasting leaves behind.
    text = "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")
    if not keep_newlines:
        text = " ".join(text.split("\n"))
        text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n")).strip()
    return unneutralise(text)


def is_blank(cells):
    return not any(cell_text(cell) for cell in cells)


# Words offices write in a name cell when the post is empty: the row is a vacancy, not a person.
VACANCY_WORDS = {"vakant", "vacant", "ledig", "ubesatt", "ingen", "mangler", "-", "–", "—", "x", "n/a"}
# A vacancy word opens the cell: "VAKANT", "Vakant (utlyst)", "Ledig stilling – kontakt sentralbord".
_FIRST_WORD = re.compile(r"^[^\w\s]+$|^(\w+|n/a)\b", re.UNICODE)
NAME_MAX_LENGTH = 150


def is_vacancy_word(text):
    """True when a name cell says the post is vacant rather than naming a person."""
    text = str(text or "").strip().casefold()
    if not text:
        return False
    if text in VACANCY_WORDS:
        return True
    first = _FIRST_WORD.match(text)
    return bool(first) and first.group(0) in VACANCY_WORDS - {"x", "ingen"}


def clean_name(value):
    """Return the person's name from a cell, or "" for an empty post (`is_vacancy_word`)."""
    text = cell_text(value)
    if is_vacancy_word(text):
        return ""
    if len(text) > NAME_MAX_LENGTH:
        raise CellError(
            _("The name is longer than %(max)s characters. Write only the physician's name in this cell.")
            % {"max": NAME_MAX_LENGTH}
        )
    return text


@functools.lru_cache(maxsize=65_536)
def name_key(name):
    """Return a name as compared across rows and with the registry: case and spacing ignored."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def clean_email(value):
    text = cell_text(value)
    if text.casefold().startswith("mailto:"):
        text = text[len("mailto:") :]
    text = text.strip(" <>")
    if not text:
        return ""
    if text.count("@") > 1:
        raise CellError(
            _("«%(value)s» is not one e-mail address. Write one address per person, for example kari@kommune.no.")
            % {"value": text[:100]}
        )
    if not _is_email(text):
        raise CellError(
            _("«%(value)s» is not a valid e-mail address. Check the spelling, for example kari@kommune.no.")
            % {"value": text[:100]}
        )
    return text


# Addresses Django's validate_email accepts (a dot-atom of plain characters, host labels, a letters-only
# top-level domain): most of a sheet's, told without its slower checks. Anything else is asked of it.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.ASCII | re.IGNORECASE
)


@functools.lru_cache(maxsize=4096)
def _is_email(text):
    # Cached: a physician shared by several municipalities has the same address on each of their rows.
    if len(text) > 254:
        return False
    if _PLAIN_EMAIL.fullmatch(text):
        return True
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


_HPR_PUNCTUATION = re.compile(r"[\s.]")
_HPR = re.compile(r"\d{4,9}")


def clean_hpr(value):
    text = _HPR_PUNCTUATION.sub("", cell_text(value))
    if not text:
        return ""
    if not _HPR.fullmatch(text):
        raise CellError(
            _(
                "«%(value)s» is not an HPR number: it has 4 to 9 digits and nothing else. "
                "Leave the cell empty if you do not know it."
            )
            % {"value": text[:30]}
        )
    return text


# The function's mailboxes and the organisation columns.

_TRAILING_NOTE = re.compile(r"\s*\(([^()]*)\)\s*$")
CONTACT_NOTE_MAX_LENGTH = 200


@dataclass(frozen=True)
class MailboxEntry:
    """A role mailbox as a row gives it: the address, the role its column names ("" for the function's own),
    and a note in brackets after it, its opening hours ("smittevern@kommune.no (hverdager 08–15.30)")."""

    email: str
    role: str = ""
    note: str = ""


def _note_after(text):
    """Split "value (note)" into (value, note); the note stays part of the value when there is no value before it."""
    bracket = _TRAILING_NOTE.search(text)
    if bracket is None or not text[: bracket.start()].strip():
        return text, ""
    note = bracket.group(1).strip()
    if len(note) > CONTACT_NOTE_MAX_LENGTH:
        raise CellError(
            _("The note in brackets is longer than %(max)s characters. Shorten it.") % {"max": CONTACT_NOTE_MAX_LENGTH}
        )
    return text[: bracket.start()].strip(), note


def read_mailboxes(value):
    """Return the MailboxEntry list of a row's mailbox columns, given as [(cell, role)]: one address per cell."""
    entries = []
    for cell, role in value:
        text, note = _note_after(cell_text(cell))
        email = clean_email(text)
        if email:
            entries.append(MailboxEntry(email, role, note))
    return entries


@dataclass(frozen=True)
class ArrangementCell:
    """An arrangement as a row names it: "Indre Namdal legetjeneste (kommunalt oppgavefellesskap)"."""

    name: str
    kind: str = ""  # an ArrangementKind value when the brackets name one, else ""


@functools.cache
def _arrangement_kinds():
    from django.utils import translation

    from registry.models import ArrangementKind

    words = {}
    for kind in ArrangementKind:
        names = [kind.value, str(kind.label)]
        for language in ("nb", "en"):
            with translation.override(language):
                names.append(str(kind.label))
        for name in names:
            words[header_key(name)] = kind.value
    # What offices write for short: "oppgavefellesskap", "vertskommune", "interkommunalt", "annet".
    words.update(
        {
            "oppgavefellesskap": ArrangementKind.TASK_COMMUNITY.value,
            "vertskommune": ArrangementKind.HOST_MUNICIPALITY.value,
            "interkommunalt": ArrangementKind.INTERMUNICIPAL.value,
            "annet": ArrangementKind.OTHER.value,
            "annen": ArrangementKind.OTHER.value,
        }
    )
    return words


def arrangement_kind(text):
    """Return the ArrangementKind value `text` names (in Norwegian or English), or ""."""
    return _arrangement_kinds().get(header_key(text), "")


def read_arrangement(value):
    """Return the ArrangementCell of an arrangement cell, or None when it is empty. A kind in brackets after
    the name is read as the kind; other brackets are part of the name."""
    text = cell_text(value)
    if not text:
        return None
    name, note = _note_after(text)
    kind = arrangement_kind(note) if note else ""
    if not kind:
        name = text
    if len(name) > NAME_MAX_LENGTH:
        raise CellError(
            _(
                "The arrangement's name is longer than %(max)s characters. Write only its name, and its kind "
                "in brackets."
            )
            % {"max": NAME_MAX_LENGTH}
        )
    return ArrangementCell(name, kind)


def read_legevakt_name(value):
    text = cell_text(value)
    if len(text) > NAME_MAX_LENGTH:
        raise CellError(
            _("The legevakt's name is longer than %(max)s characters. Write only its name.") % {"max": NAME_MAX_LENGTH}
        )
    return text


ROLE_WORDS = {
    Role.CHIEF_PHYSICIAN: ("kommuneoverlege", "kommunelege", "overlege", "chief physician", "chief_physician"),
    Role.DEPUTY: ("stedfortreder", "stedfortredende kommuneoverlege", "stedfortredende", "deputy"),
    Role.INFECTION_CONTROL_PHYSICIAN: (
        "smittevernoverlege",
        "smittevernlege",
        "smittevern",
        "infection control physician",
        "infection_control_physician",
    ),
}
_ROLE_KEYS = {header_key(word): role for role, words in ROLE_WORDS.items() for word in words}


def clean_role(value):
    """Return the Role a "Rolle" cell names ("" when empty: the row is about the chief physician)."""
    text = cell_text(value)
    if not text:
        return ""
    role = _ROLE_KEYS.get(header_key(text))
    if role is None:
        raise CellError(
            _("«%(value)s» is not a role. Write kommuneoverlege, stedfortreder or smittevernoverlege.")
            % {"value": text[:60]}
        )
    return role


def clean_note(value):
    return cell_text(value, keep_newlines=True)


# Phone numbers.


class CheckedNumber(PhoneNumber):
    """A number `parse_phone` has validated once: saving and formatting it do not validate it again.

    A sheet of 10,000 rows holds some 40,000 numbers; phonenumber_field checks validity on every
    save and every str(), which made up a third of an import's time.
    """

    def is_valid(self):
        return True

    def format_as(self, format):
        formats = self.__dict__.setdefault("_formats", {})
        if format not in formats:
            formats[format] = super().format_as(format)
        return formats[format]


@dataclass(frozen=True)
class PhoneEntry:
    number: object  # CheckedNumber
    note: str = ""
    column_kind: str = ""  # the PhoneKind the column's header says ("Telefon (sentralbord)"), if any

    @functools.cached_property
    def e164(self):
        return self.number.as_e164

    @property
    def kind(self):
        """The kind the column says; else mobile or office, by the number."""
        if self.column_kind:
            return self.column_kind
        if self.number.country_code == 47:
            # Norwegian mobile numbers start with 4, 9 or 59 (Nkom's plan); quicker than number_type().
            national = str(self.number.national_number)
            mobile = len(national) == 8 and (national[0] in "49" or national.startswith("59"))
        else:
            mobile = phonenumbers.number_type(self.number) == phonenumbers.PhoneNumberType.MOBILE
        return PhoneKind.MOBILE if mobile else PhoneKind.OFFICE


PHONE_NOTE_MAX_LENGTH = 200
_BRACKETS = re.compile(r"\(([^()]*)\)")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_PHONE_SEPARATORS = re.compile(r"\s*(?:[/;,|&\n]|\s(?:og|eller|or|and)\s)\s*", re.IGNORECASE)
# "Mobil: 918 44 552": a label before the number. Words that only say "phone" are dropped.
_LABEL = re.compile(r"^(?P<label>[^\d+()]+?)\s*[:.]\s*(?=[\d+(])")
_SIMPLE_PHONES = re.compile(r"[\d +/,;]+")
_SPACED_DASH = re.compile(r"\s+[-–]\s+")
# "(+47) 412 34 567": a country code in brackets is part of the number, not a note.
_BRACKETED_CODE = re.compile(r"\(\s*(?:\+|00)(\d{1,3})\s*\)\s*(?=\d)")
# "90011223.0": a number Excel stored as a number, written out as text by another program.
_FLOAT_TEXT = re.compile(r"^(\+?\d{8,15})\.0+$")
_PHONE_WORDS = {"tlf", "tel", "telefon", "mob", "mobil", "mobiltelefon", "nr", "nummer", "phone"}


def _digits_lost_their_plus(text):
    compact = _NUMBER_PUNCTUATION.sub("", text)
    return compact.isdigit() and len(compact) > 8 and not compact.startswith("0")


# An 8-digit Norwegian number, optionally with +47 or 0047: the common case, read without a full parse.
_NORWEGIAN = re.compile(r"(?:\+47|0047)?([1-9]\d{7})")
_NUMBER_PUNCTUATION = re.compile(r"[\s.\-–]")


def _number_descriptions(region):
    """Return (possible lengths, compiled pattern) of each number type phonenumbers knows for `region`."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    general = metadata.general_desc
    types = []
    # The most common types first: validity is "any type matches", so the order only saves time.
    for name in (
        "mobile",
        "fixed_line",
        "toll_free",
        "premium_rate",
        "shared_cost",
        "voip",
        "personal_number",
        "pager",
        "uan",
        "voicemail",
    ):
        desc = getattr(metadata, name)
        if desc is not None and desc.national_number_pattern:
            types.append((set(desc.possible_length), re.compile(desc.national_number_pattern)))
    return (set(general.possible_length), re.compile(general.national_number_pattern)), types


_NORWAY = _number_descriptions("NO")


def _valid_in_norway(national):
    """phonenumbers.is_valid_number_for_region(…, "NO") for a national number, from the same metadata.

    The same test (the general pattern, then any number type's lengths and pattern) without the
    layers around it; tests/imports/test_normalise.py checks that both agree.
    """
    (lengths, pattern), types = _NORWAY
    if (lengths and len(national) not in lengths) or not pattern.fullmatch(national):
        return False
    return any((not sizes or len(national) in sizes) and regex.fullmatch(national) for sizes, regex in types)


@functools.lru_cache(maxsize=4096)
def _parse_one(text):
    # Cached: one sheet repeats the same switchboard and shared physicians' numbers many times.
    norwegian = _NORWEGIAN.fullmatch(_NUMBER_PUNCTUATION.sub("", text))
    if norwegian:
        # What parse_phone returns for these, as tests/imports/test_normalise.py checks, in half the time.
        national = norwegian.group(1)
        checked = CheckedNumber(country_code=47, national_number=int(national))
        # +47 79… belongs to Svalbard (SJ); every other +47 number is validated against Norway's plan alone.
        valid = phonenumbers.is_valid_number(checked) if national.startswith("79") else _valid_in_norway(national)
        if valid:
            checked.__dict__["_formats"] = {phonenumbers.PhoneNumberFormat.E164: "+47" + national}
            return checked
        raise invalid_phone(text)
    try:
        number = parse_phone(text)
    except ValidationError:
        # Excel turns "+4791844552" into the integer 4791844552: try the digits as an international number.
        if not _digits_lost_their_plus(text):
            raise
        number = parse_phone("+" + re.sub(r"\D", "", text))
    checked = CheckedNumber()
    checked.merge_from(number)
    return checked


def clear_caches():
    """Forget earlier sheets' numbers, so that every import (and every benchmark step) starts cold."""
    _parse_one.cache_clear()
    _is_email.cache_clear()
    name_key.cache_clear()


def split_phones(value):
    """Return the PhoneEntry list in one cell, or raise CellError naming every number that is wrong.

    Reads integers Excel made of numbers, several numbers separated by / , ; "og" or line breaks,
    a note in brackets after a number ("95 11 22 33 (kun dagtid)") and a label before it ("Vakt: …").
    """
    if isinstance(value, list):
        if len(value) == 1 and isinstance(value[0], tuple) and not value[0][1]:
            return split_phones(value[0][0])  # one column that says no kind: its numbers, unique already
        entries = []
        for item in value:
            if isinstance(item, tuple):
                cell, kind = item
                entries += [PhoneEntry(e.number, e.note, kind) if kind else e for e in split_phones(cell)]
            else:
                entries += split_phones(item)
        return _unique(entries)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        text = cell_text(value, keep_newlines=True)
    if not text:
        return []
    if "." in text:
        text = _FLOAT_TEXT.sub(r"\1", text)
    if "(" in text:
        text = _BRACKETED_CODE.sub(r"+\1 ", text)
    if _SIMPLE_PHONES.fullmatch(text):
        # Digits, spaces, + and separators only: no notes or labels to look for.
        try:
            return _unique([PhoneEntry(_parse_one(part)) for part in _PHONE_SEPARATORS.split(text) if part])
        except ValidationError:
            pass  # the full reading below names every wrong number
    notes = []

    def hide(match):
        notes.append(match.group(1).strip())
        return f"\x00{len(notes) - 1}\x00"

    hidden = _BRACKETS.sub(hide, text)
    entries, wrong = [], []
    for part in _PHONE_SEPARATORS.split(hidden):
        part_notes = [notes[int(i)] for i in _PLACEHOLDER.findall(part)]
        number_text = _PLACEHOLDER.sub(" ", part).strip()
        label = _LABEL.match(number_text)
        if label:
            number_text = number_text[label.end() :]
            if label.group("label").strip().casefold() not in _PHONE_WORDS:
                part_notes.insert(0, label.group("label").strip())
        if not number_text:
            if part_notes and entries:
                # "918 44 552 / (kun dagtid)": a note standing alone belongs to the number before it.
                last = entries.pop()
                entries.append(PhoneEntry(last.number, "; ".join(filter(None, [last.note, *part_notes]))))
            continue
        try:
            numbers = [_parse_one(number_text)]
        except ValidationError:
            # "73 19 90 00 - 918 44 552": two numbers joined by a spaced dash.
            pieces = _SPACED_DASH.split(number_text)
            try:
                numbers = [_parse_one(piece) for piece in pieces] if len(pieces) > 1 else None
            except ValidationError:
                numbers = None
            if not numbers:
                wrong.append(number_text)
                continue
        note = "; ".join(n for n in part_notes if n)
        if len(note) > PHONE_NOTE_MAX_LENGTH:
            raise CellError(
                _("The note in brackets after %(number)s is longer than %(max)s characters. Shorten it.")
                % {"number": number_text, "max": PHONE_NOTE_MAX_LENGTH}
            )
        entries += [PhoneEntry(number, note) for number in numbers]
    if wrong:
        raise CellError(
            _(
                "%(numbers)s is not a valid phone number. Write a Norwegian number with 8 digits, or a foreign "
                "number starting with + and the country code (for example +46 70 123 45 67). Separate two numbers "
                "with /, and put a note in brackets after the number: 95 11 22 33 (kun dagtid)."
            )
            % {"numbers": ", ".join(f"«{w[:40]}»" for w in wrong)}
        )
    return _unique(entries)


def _unique(entries):
    seen, out = set(), []
    for entry in entries:
        if entry.e164 not in seen:
            seen.add(entry.e164)
            out.append(entry)
    return out


def format_phone_entry(number, note):
    """Return a number as the export writes it: national format, the note in brackets after it."""
    from registry.phones import format_phone

    text = format_phone(number)
    return f"{text} ({note})" if note else text


# Municipalities.

_COUNTY_HINT = re.compile(r"\s*\(([^)]*)\)\s*$")
_NAME_SEPARATORS = re.compile(r"\s+[-–—/]\s+|\s*/\s*")
_KOMMUNE_SUFFIX = re.compile(r"\s+(?:kommune|kommunen|suohkan|gielda|kommuuni)$")
_NUMBER_AND_NAME = re.compile(r"^(\d{3,4})\s+(\D.*)$")


def municipality_key(name):
    """Return a municipality name as the index compares it: case, spacing and a trailing "kommune" ignored."""
    key = " ".join(unicodedata.normalize("NFKC", name).casefold().replace("‐", "-").split())
    return _KOMMUNE_SUFFIX.sub("", key).strip(" .,")


_MUNICIPALITY_NUMBER = re.compile(r"\d{1,4}")


def clean_municipality_number(value):
    """Return the four-digit number in a cell ("301" and 301.0 are Oslo's 0301), or "" when empty."""
    text = cell_text(value)
    if not text:
        return ""
    combined = _NUMBER_AND_NAME.match(text)
    if combined:
        text = combined.group(1)
    text = text.replace(" ", "")
    if not _MUNICIPALITY_NUMBER.fullmatch(text):
        raise CellError(
            _("«%(value)s» is not a municipality number. Write its four digits, for example 0301 or 5001.")
            % {"value": text[:40]}
        )
    return text.zfill(4)


@dataclass
class Resolution:
    municipality: object = None
    error: str = ""
    column: str = ""
    notes: list = field(default_factory=list)  # how the cells were read, when not literally


def describe(municipality):
    return f"{municipality.number} {municipality.name} ({municipality.county.name})"


def _candidates(municipalities):
    return _(" or ").join(describe(m) for m in municipalities)


class MunicipalityIndex:
    """Finds municipalities by number (former numbers too, registry.numbers) or by any of their names,
    in memory. Never picks between two: a name or number that fits several is an error naming them."""

    def __init__(self, municipalities, former_numbers, *, today):
        self.numbers = NumberIndex(municipalities, former_numbers, today=today)
        self.by_name = {}
        self.today = today
        for municipality in municipalities:
            for name in [municipality.name, *municipality.parallel_name_list]:
                self.by_name.setdefault(municipality_key(name), []).append(municipality)

    def by_name_text(self, text):
        """Return (active candidates, ceased candidates, how it was read) for a name cell,
        e.g. "Guovdageaidnu – Kautokeino kommune"."""
        county_hint = ""
        hint = _COUNTY_HINT.search(text)
        if hint:
            county_hint = municipality_key(hint.group(1))
            text = text[: hint.start()]
        parts = [text, *_NAME_SEPARATORS.split(text)]
        found = {}
        for part in parts:
            for municipality in self.by_name.get(municipality_key(part), []):
                found[municipality.pk] = municipality
            if found and part is text:
                break
        candidates = list(found.values())
        if county_hint:
            candidates = [m for m in candidates if municipality_key(m.county.name) == county_hint] or candidates
        active = [m for m in candidates if m.is_active(on=self.today)]
        return active, [m for m in candidates if not m.is_active(on=self.today)]

    def _name_notes(self, text, municipality):
        """How a name cell was read, when it is not the official name as written."""
        key = municipality_key(text)
        if text.strip() == municipality.name:
            return [_("Read from the name only: %(municipality)s.") % {"municipality": describe(municipality)}]
        if key == municipality_key(municipality.name):
            return [
                _("«%(text)s» read as %(municipality)s, from the name only.")
                % {"text": text[:80], "municipality": describe(municipality)}
            ]
        parallel = [n for n in municipality.parallel_name_list if municipality_key(n) == key]
        if parallel:
            return [
                _("«%(text)s» is the Sami or Kven name of %(municipality)s.")
                % {"text": parallel[0], "municipality": describe(municipality)}
            ]
        return [_("«%(text)s» read as %(municipality)s.") % {"text": text[:80], "municipality": describe(municipality)}]

    def resolve(self, *, number, name, prefer=()):
        """Return a Resolution for a row's number and name cells (both already cleaned).

        A name shared by two municipalities (Herøy, Våler) is settled only when the importer's region
        (`prefer`, the ids they may edit) holds exactly one of them; otherwise it is an error naming both.
        """
        notes = []
        combined = _NUMBER_AND_NAME.match(name) if not number else None
        if combined:
            number, name = combined.group(1).zfill(4), combined.group(2)
            notes.append(_("The number %(number)s was read from the name column.") % {"number": number})
        if number:
            return self._by_number(number, name, notes)
        if not name:
            return Resolution(
                error=_("The row has no municipality. Write its number or its name."), column=MUNICIPALITY_NAME
            )
        active, ceased = self.by_name_text(name)
        if not active:
            if ceased:
                return self._by_number(ceased[0].number, "", notes, column=MUNICIPALITY_NAME)
            return Resolution(
                error=_(
                    "There is no municipality named «%(name)s». Check the spelling, or write the municipality number."
                )
                % {"name": name[:80]},
                column=MUNICIPALITY_NAME,
            )
        if len(active) == 1:
            return Resolution(municipality=active[0], notes=notes + self._name_notes(name, active[0]))
        mine = [m for m in active if m.pk in prefer]
        if len(mine) == 1:
            return Resolution(
                municipality=mine[0],
                notes=notes
                + [
                    _("«%(name)s» is the name of %(candidates)s; %(municipality)s is the one in your region.")
                    % {"name": name[:80], "candidates": _candidates(active), "municipality": describe(mine[0])}
                ],
            )
        return Resolution(
            error=_("«%(name)s» is the name of more than one municipality: %(candidates)s. Write the number.")
            % {"name": name[:80], "candidates": _candidates(active)},
            column=MUNICIPALITY_NAME,
        )

    def _by_number(self, number, name, notes, column=MUNICIPALITY_NUMBER):
        meaning = self.numbers.meaning(number)
        if meaning.is_unknown:
            return Resolution(
                error=_(
                    "There is no municipality with the number %(number)s. Check the number against "
                    "SSB's list, or leave it empty and write the name."
                )
                % {"number": number},
                column=column,
            )
        if meaning.municipality is None:
            if meaning.candidates:
                return Resolution(
                    error=_("%(number)s went to more than one municipality: %(candidates)s. Write the new number.")
                    % {
                        "number": f"{number} {meaning.ceased.name}" if meaning.ceased else number,
                        "candidates": _candidates(meaning.candidates),
                    },
                    column=column,
                )
            return Resolution(
                error=_("%(municipality)s ceased on %(date)s. Use the municipality that took over.")
                % {"municipality": f"{number} {meaning.ceased.name}", "date": meaning.ceased.valid_to},
                column=column,
            )
        municipality = meaning.municipality
        if meaning.note:
            notes = [*notes, meaning.note]
        if name:
            active, ceased = self.by_name_text(name)
            known = active + ceased + ([meaning.ceased] if meaning.ceased else [])
            if known and municipality not in known and meaning.ceased not in known:
                return Resolution(
                    error=_(
                        "Municipality number %(number)s is %(municipality)s, but the name column says "
                        "«%(name)s». Correct the number or the name."
                    )
                    % {"number": number, "municipality": municipality.name, "name": name[:80]},
                    column=MUNICIPALITY_NAME,
                )
        return Resolution(municipality=municipality, notes=notes)
