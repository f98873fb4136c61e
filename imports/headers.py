"""Read a spreadsheet header by the words in it: which column of the import layout it is.

`classify_header("Mobiltelefon kommuneoverlege")` returns `HeaderMeaning(key="chief_phone", kind="mobile",
words=("mobil", "telefon", "kommuneoverlege"))`; a header that is not a column of the layout, or that
could mean two columns, returns None and is reported as an unknown column. A pure function: no database.

How a header is read:

- Case, Unicode forms (NFKC) and punctuation do not matter: line breaks, brackets, hyphens, full stops,
  slashes and colons separate words. "E-post", "E post" and "Epost" are one word. Letters and digits
  are separate words ("Kommunenummer4siffer"). Æ, ø and å stay letters; ä and ö (Swedish keyboards)
  are read as æ and ø, and a word written without them ("dogn", "doegn") matches the word with them
  ("døgn"): header and vocabulary are folded alike (æ → ae, ø → o or oe, å → a or aa).
- Each word is split into the vocabulary words below, so compounds are read by their parts:
  "Mobiltelefon" = mobil + telefon, "Stedfortrederstelefon" = stedfortreder + s + telefon,
  "Smittevernlegens" = smittevern + lege + ns. A part may end in a Norwegian linking or inflection
  ending (-s, -n, -ns, -en, -ens, -e, -er, -ene, -et, -ets, -t). The split with the fewest parts wins,
  so "Legevakt" is the out-of-hours clinic, not lege + vakt, and "Kommuneoverlege" is one person,
  not kommune + overlege.
- A word that is neither in the vocabulary nor a small filler word (og, eller, for, til, på, i, av,
  med, evt, eventuelt, kun, siffer, fullt) nor a number makes the whole header unknown: "Postadresse",
  "Telefaks", "Fornavn" and "Telefon privat" are not guessed at.

Vocabulary (written here with Norwegian letters; every word also with the endings above):

- Persons: kommuneoverlege, kommunelege → chief physician; stedfortreder, stedfortredende, vara →
  deputy; smittevernoverlege, smittevernlege, smittevern → infection control physician; lege,
  overlege → chief physician, unless the word before qualifies them: "Kommune overlege" (chief),
  "Bydelsoverlege" (chief: the district's chief physician, read with the row's district),
  "Smittevern lege" and "Lege smittevern" (infection), "Stedfortredende lege", "Vara lege" (deputy).
  "Stedfortreder (for) kommuneoverlege", "Stedfortredende kommuneoverlege" and the genitive
  "Kommuneoverlegens stedfortreder" name the deputy. Any other two persons in one header
  ("Telefon kommuneoverlege stedfortreder", "Kommuneoverlege/smittevernoverlege") → None.
- Fields: navn (name); telefon, tlf, mobil, mob, sentralbord, vakt, beredskap, døgn, 24/7 (phone);
  epost, email, mail (e-mail), with adresse, adr allowed beside them ("E-postadresse"); postkasse,
  postmottak (the function's mailbox); hpr, helsepersonell (HPR number); nummer, nr (a number: part
  of a phone or HPR number beside those words; a phone beside a person, legevakt, funksjon or office
  word; the district's beside bydel; alone or with kommune, the municipality number; "Knr" is
  kommune + nr; beside a name or e-mail word → None); merknad, kommentar, notat (note). More than
  one field in one header ("Navn og telefon") → None.
- Phone kind: mobil, mob → mobile; sentralbord → switchboard; vakt, beredskap, døgn, 24/7 → on call;
  jobb, arbeid, kontor, direkte → office (these four only beside a phone, number or e-mail word:
  "Kontor" alone is not a phone column). On call or switchboard outweighs mobile and office ("Vakt
  mobil" is an on-call number); mobile with office, or on call with switchboard, leaves the kind to
  the number (""), and makes a function phone None.
- Who the phone or mailbox belongs to: a person word makes it that person's ("Kommuneoverlege
  vakttelefon" is the chief physician's on-call phone). Without one, sentralbord, vakt, beredskap,
  døgn and 24/7 make a phone the municipality's function phone, postkasse and postmottak make a
  mailbox the function's, and so do funksjon, rolle, felles and kommune ("Funksjonstelefon",
  "Felles e-post", "Kommunens sentralbord"); a function mailbox or phone that names a person word
  carries that role ("Rollepostkasse smittevern"). Any other phone, e-mail, name or HPR column with
  no person word is the chief physician's ("Telefon", "E-post", "Navn").
- Other columns: kommune (+ navn) → municipality name; rolle, funksjon alone → the row's role;
  bydel (+ navn, nummer, nr) → district: one district column whose cell holds the district's name or
  its number, which the importer looks up either way; legevakt (+ navn, or beside interkommunal or
  kommunal) → legevakt name, legevakt + a phone or number word → legevakt phone; ordning, samarbeid,
  legetjeneste, oppgavefellesskap (+ navn, or beside interkommunal, kommunal, vertskommune:
  "Vertskommunesamarbeid") → arrangement. Interkommunal, kommunal and vertskommune alone → None
  ("Vertskommune" holds a municipality, not an arrangement's name).
"""

import functools
import re
import unicodedata
from dataclasses import dataclass

from registry.models import PhoneKind, Role

# The columns of the import layout (the same strings as imports.normalise's column names).
MUNICIPALITY_NUMBER = "municipality_number"
MUNICIPALITY_NAME = "municipality_name"
ROLE = "role"
NOTE = "note"
CHIEF_NAME = "chief_name"
CHIEF_PHONE = "chief_phone"
CHIEF_EMAIL = "chief_email"
CHIEF_HPR = "chief_hpr"
DEPUTY_NAME = "deputy_name"
DEPUTY_PHONE = "deputy_phone"
DEPUTY_EMAIL = "deputy_email"
DEPUTY_HPR = "deputy_hpr"
INFECTION_NAME = "infection_name"
INFECTION_PHONE = "infection_phone"
INFECTION_EMAIL = "infection_email"
INFECTION_HPR = "infection_hpr"
FUNCTION_PHONE = "function_phone"
FUNCTION_EMAIL = "function_email"
ARRANGEMENT = "arrangement"
DISTRICT = "district"
LEGEVAKT_NAME = "legevakt_name"
LEGEVAKT_PHONE = "legevakt_phone"

KEYS = (
    MUNICIPALITY_NUMBER,
    MUNICIPALITY_NAME,
    ROLE,
    NOTE,
    CHIEF_NAME,
    CHIEF_PHONE,
    CHIEF_EMAIL,
    CHIEF_HPR,
    DEPUTY_NAME,
    DEPUTY_PHONE,
    DEPUTY_EMAIL,
    DEPUTY_HPR,
    INFECTION_NAME,
    INFECTION_PHONE,
    INFECTION_EMAIL,
    INFECTION_HPR,
    FUNCTION_PHONE,
    FUNCTION_EMAIL,
    ARRANGEMENT,
    DISTRICT,
    LEGEVAKT_NAME,
    LEGEVAKT_PHONE,
)
# A longer cell is a title or a note above the header row, not a column name.
MAX_HEADER_LENGTH = 200
# Columns whose HeaderMeaning may carry a phone kind.
PHONE_KEYS = frozenset({CHIEF_PHONE, DEPUTY_PHONE, INFECTION_PHONE, FUNCTION_PHONE, LEGEVAKT_PHONE})

# The three persons of a row, as the key prefixes and the roles they hold.
CHIEF, DEPUTY, INFECTION = "chief", "deputy", "infection"
PERSON_ROLES = {
    CHIEF: Role.CHIEF_PHYSICIAN.value,
    DEPUTY: Role.DEPUTY.value,
    INFECTION: Role.INFECTION_CONTROL_PHYSICIAN.value,
}


@dataclass(frozen=True)
class HeaderMeaning:
    key: str  # one of KEYS
    kind: str = ""  # for PHONE_KEYS: a PhoneKind value when the header's words say it, else ""
    role: str = ""  # for function_email / function_phone: the Role the header names, else ""
    words: tuple = ()  # the folded words the decision was made from, as written ("mobil", "telefon")


# Vocabulary. Each word is written with Norwegian letters; matching folds both sides alike.
_PERSONS = {
    "kommuneoverlege": CHIEF,
    "kommunelege": CHIEF,
    "stedfortreder": DEPUTY,
    "stedfortredende": DEPUTY,
    "vara": DEPUTY,
    "smittevernoverlege": INFECTION,
    "smittevernlege": INFECTION,
    "smittevern": INFECTION,
}
# A physician without saying which: the chief, unless a neighbouring word says otherwise.
_GENERIC_PHYSICIANS = {"lege", "overlege"}
# Words that say which physician a neighbouring generic one is ("Kommune overlege", "Bydelsoverlege").
_QUALIFIERS = {"kommune": CHIEF, "bydel": CHIEF, **_PERSONS}
_SPECIFIC_CHIEFS = {"kommuneoverlege", "kommunelege"}

_MUNICIPALITY, _DISTRICT, _LEGEVAKT, _ARRANGEMENT, _FUNCTION = (
    "municipality",
    "district",
    "legevakt",
    "arrangement",
    "function",
)
_ENTITIES = {
    "kommune": _MUNICIPALITY,
    "bydel": _DISTRICT,
    "legevakt": _LEGEVAKT,
    "ordning": _ARRANGEMENT,
    "samarbeid": _ARRANGEMENT,
    "legetjeneste": _ARRANGEMENT,
    "oppgavefellesskap": _ARRANGEMENT,
    "funksjon": _FUNCTION,
    "rolle": _FUNCTION,
    "felles": _FUNCTION,
}
# Only beside an arrangement (or legevakt) word: "Interkommunal legevakt", "Vertskommunesamarbeid".
_ARRANGEMENT_MODIFIERS = {"interkommunal", "kommunal", "vertskommune"}

_NAME, _PHONE, _EMAIL, _HPR, _NUMBER, _NOTE = "name", "phone", "email", "hpr", "number", "note"
_FIELDS = {
    "navn": _NAME,
    "telefon": _PHONE,
    "tlf": _PHONE,
    "mobil": _PHONE,
    "mob": _PHONE,
    "sentralbord": _PHONE,
    "vakt": _PHONE,
    "beredskap": _PHONE,
    "døgn": _PHONE,
    "24/7": _PHONE,
    "epost": _EMAIL,
    "email": _EMAIL,
    "mail": _EMAIL,
    "postkasse": _EMAIL,
    "postmottak": _EMAIL,
    "hpr": _HPR,
    "helsepersonell": _HPR,
    "nummer": _NUMBER,
    "nr": _NUMBER,
    "merknad": _NOTE,
    "kommentar": _NOTE,
    "notat": _NOTE,
}
_KINDS = {
    "mobil": PhoneKind.MOBILE.value,
    "mob": PhoneKind.MOBILE.value,
    "sentralbord": PhoneKind.SWITCHBOARD.value,
    "vakt": PhoneKind.ON_CALL.value,
    "beredskap": PhoneKind.ON_CALL.value,
    "døgn": PhoneKind.ON_CALL.value,
    "24/7": PhoneKind.ON_CALL.value,
    "jobb": PhoneKind.OFFICE.value,
    "arbeid": PhoneKind.OFFICE.value,
    "kontor": PhoneKind.OFFICE.value,
    "direkte": PhoneKind.OFFICE.value,
}
# Office words say nothing by themselves ("Kontor" may be an address): they need a phone, number or e-mail.
_KIND_MODIFIERS = {"jobb", "arbeid", "kontor", "direkte"}
# Phone and mailbox words that, with no person named, make the column the municipality's function's.
_FUNCTION_WORDS = {"sentralbord", "vakt", "beredskap", "døgn", "24/7", "postkasse", "postmottak"}
# Allowed only beside an e-mail word ("E-postadresse"): "Adresse" alone is a postal address.
_EMAIL_MODIFIERS = {"adresse", "adr"}
# Words that carry no meaning here; "for" also between two words of a compound ("Stedfortrederforkommuneoverlege").
_FILLERS = {"og", "eller", "for", "til", "på", "i", "av", "med", "evt", "eventuelt", "kun", "siffer", "fullt"}
_COMPOUND_FILLERS = {"for"}
# Abbreviations that stand for two words.
_EXPANSIONS = {"knr": ("kommune", "nr")}

_VOCABULARY = (
    set(_PERSONS)
    | _GENERIC_PHYSICIANS
    | set(_ENTITIES)
    | _ARRANGEMENT_MODIFIERS
    | set(_FIELDS)
    | set(_KINDS)
    | _EMAIL_MODIFIERS
    | set(_EXPANSIONS)
) - {"24/7"}
_ENDINGS = ("s", "n", "ns", "en", "ens", "e", "er", "ene", "et", "ets", "t")
_GENITIVE_ENDINGS = {"s", "ns", "ens"}

# How a word is compared: æ, ø, å spelled out, in both the spellings people use without them.
_PRIMARY = {"æ": "ae", "ø": "o", "å": "a"}
_ALTERNATIVE = {"æ": "ae", "ø": "oe", "å": "aa"}
# Swedish and German keyboards: the same letters.
_SAME_LETTERS = str.maketrans({"ä": "æ", "ö": "ø"})
_TOKENS = re.compile(r"[^\W\d_]+|\d+")


def _spelled(word, spelling):
    return "".join(spelling.get(ch, ch) for ch in word)


def _compared(words):
    """Return {spelling as compared: word} for `words`, in both spellings."""
    return {_spelled(word, spelling): word for word in sorted(words) for spelling in (_ALTERNATIVE, _PRIMARY)}


_ATOMS = _compared(_VOCABULARY | _COMPOUND_FILLERS)
_FILLER_KEYS = set(_compared(_FILLERS))


@dataclass(frozen=True)
class _Part:
    word: str  # the vocabulary word
    written: str  # as it stands in the header, folded, with its ending
    ending: str = ""


def classify_header(text):
    """Return the HeaderMeaning of a header cell, or None when it is not a column of the layout.

    None also for an empty cell, a cell longer than MAX_HEADER_LENGTH and a header that could mean
    two columns. Cached: the same headers come back in every sheet and every row scanned for them.
    """
    if text is None:
        return None
    text = str(text)
    if len(text) > MAX_HEADER_LENGTH:
        return None
    return _classify(text)


def _fold(text):
    return unicodedata.normalize("NFKC", text).casefold().translate(_SAME_LETTERS)


def _tokens(text):
    """Return the header's words; "e" before "post…" or "mail…" is joined to it ("E-post" → "epost")."""
    tokens = _TOKENS.findall(_fold(text))
    joined = []
    for token in tokens:
        if joined and joined[-1] == "e" and token.startswith(("post", "mail")):
            joined[-1] += token
        else:
            joined.append(token)
    return joined


@functools.lru_cache(maxsize=4096)
def _split(token):
    """Return the token as a tuple of _Parts (fewest parts), or None when it is not made of known words."""
    compared = []  # (character as compared, index in token)
    for index, ch in enumerate(token):
        compared.extend((c, index) for c in _PRIMARY.get(ch, ch))
    key = "".join(c for c, _ in compared)
    if key in _FILLER_KEYS:
        return ()
    n = len(key)

    def written(start, end):
        return token[compared[start][1] : compared[end - 1][1] + 1]

    # best[i]: the cheapest split of key[:i], as ((parts, parts with an ending), [_Part, …]).
    best = [None] * (n + 1)
    best[0] = ((0, 0), [])
    for i in range(n):
        if best[i] is None:
            continue
        (count, with_ending), parts = best[i]
        for atom, word in _ATOMS.items():
            if not key.startswith(atom, i):
                continue
            j = i + len(atom)
            for ending in ("", *_ENDINGS):
                if ending and not key.startswith(ending, j):
                    continue
                end = j + len(ending)
                cost = (count + 1, with_ending + bool(ending))
                if best[end] is None or cost < best[end][0]:
                    best[end] = (cost, [*parts, _Part(word, written(i, end), ending)])
    if best[n] is None:
        return None
    found = best[n][1]
    if found[0].word in _COMPOUND_FILLERS or found[-1].word in _COMPOUND_FILLERS:
        return None  # "for" links two words; "Fornavn" is a first name, not a name
    parts = []
    for part in found:
        if part.word in _COMPOUND_FILLERS:
            continue
        if part.word in _EXPANSIONS:
            first, *others = _EXPANSIONS[part.word]
            parts.append(_Part(first, part.written))
            parts.extend(_Part(word, "") for word in others)  # written once, by the first
        else:
            parts.append(part)
    return tuple(parts)


def _parts(text):
    """Return the header's meaningful parts in order, or None when a word is not understood."""
    tokens = _tokens(text)
    parts = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "24" and index + 1 < len(tokens) and tokens[index + 1] == "7":
            parts.append(_Part("24/7", "24/7"))
            index += 2
            continue
        index += 1
        if token.isdigit():
            continue  # "Kommunenummer (4 siffer)", "Telefon 2"
        split = _split(token)
        if split is None:
            return None
        parts.extend(split)
    return parts


def _people(parts):
    """Return (the persons the parts name, the parts left over), reading qualified physicians first."""
    people = []
    rest = []
    index = 0
    while index < len(parts):
        part = parts[index]
        following = parts[index + 1] if index + 1 < len(parts) else None
        pair = following.word if following else None
        if pair in _GENERIC_PHYSICIANS and part.word in _QUALIFIERS:
            people.append(_QUALIFIERS[part.word])  # "Kommune overlege", "Bydelsoverlege", "Smittevernlege"
        elif part.word in _GENERIC_PHYSICIANS and pair == "smittevern":
            people.append(INFECTION)  # "Lege smittevern"
        elif _PERSONS.get(part.word) == DEPUTY and pair in _SPECIFIC_CHIEFS:
            people.append(DEPUTY)  # "Stedfortreder (for) kommuneoverlege", "Stedfortredende kommuneoverlege"
        elif (
            (part.word in _SPECIFIC_CHIEFS or part.word in _GENERIC_PHYSICIANS)
            and part.ending in _GENITIVE_ENDINGS
            and _PERSONS.get(pair) == DEPUTY
        ):
            people.append(DEPUTY)  # "Kommuneoverlegens stedfortreder"
        else:
            if part.word in _PERSONS:
                people.append(_PERSONS[part.word])
            elif part.word in _GENERIC_PHYSICIANS:
                people.append(CHIEF)
            else:
                rest.append(part)
            index += 1
            continue
        index += 2
    return people, rest


def _kind(words):
    """Return (the phone kind the words say, whether they contradict each other)."""
    kinds = {_KINDS[word] for word in words if word in _KINDS}
    strong = kinds & {PhoneKind.ON_CALL.value, PhoneKind.SWITCHBOARD.value}
    if len(strong) > 1:
        return "", True
    if strong:
        return strong.pop(), False
    if len(kinds) > 1:
        return "", True
    return (kinds.pop() if kinds else ""), False


@functools.lru_cache(maxsize=4096)
def _classify(text):
    parts = _parts(text)
    if not parts:
        return None
    people, rest = _people(parts)
    if len(set(people)) > 1:
        return None  # two persons: "Telefon kommuneoverlege stedfortreder"
    person = people[0] if people else None
    words = [part.word for part in rest]
    entities = {_ENTITIES[word] for word in words if word in _ENTITIES}
    fields = {_FIELDS[word] for word in words if word in _FIELDS}
    kind, kinds_conflict = _kind(words)

    has_number = _NUMBER in fields
    fields.discard(_NUMBER)
    if has_number and fields - {_PHONE, _HPR}:
        return None  # "Kommunenavn og nummer": a number belongs to a phone or an HPR number, not a name
    if any(word in _EMAIL_MODIFIERS for word in words) and fields != {_EMAIL}:
        return None  # "Adresse", "Postadresse"
    if any(word in _KIND_MODIFIERS for word in words) and not (fields & {_PHONE, _EMAIL} or has_number):
        return None  # "Kontor", "Legekontor"
    if any(word in _ARRANGEMENT_MODIFIERS for word in words) and not entities & {_ARRANGEMENT, _LEGEVAKT}:
        return None  # "Interkommunal", "Vertskommune"
    if has_number and not fields:
        # A number with a person, legevakt or an office word is a phone; with kommune or alone, the
        # municipality number; a district's number names the district.
        if person or _LEGEVAKT in entities or _FUNCTION in entities or kind:
            fields.add(_PHONE)
        elif entities - {_MUNICIPALITY, _DISTRICT}:
            return None
        elif not entities or entities == {_MUNICIPALITY}:
            return _meaning(MUNICIPALITY_NUMBER, parts)
    if len(fields) > 1:
        return None  # "Navn og telefon"
    field = next(iter(fields), None)
    functional = _FUNCTION in entities or any(word in _FUNCTION_WORDS for word in words)

    if person:
        if entities - {_FUNCTION}:
            return None  # "Legevaktlege", "Kommune kommuneoverlege"
        if _FUNCTION in entities or (field == _EMAIL and functional):
            if field == _EMAIL:
                return _meaning(FUNCTION_EMAIL, parts, role=PERSON_ROLES[person])
            if field == _PHONE and not kinds_conflict:
                return _meaning(FUNCTION_PHONE, parts, kind=kind, role=PERSON_ROLES[person])
            return None
        if field == _NOTE:
            return None
        part = {None: "name", _NAME: "name", _PHONE: "phone", _EMAIL: "email", _HPR: "hpr"}[field]
        key = f"{person}_{part}"
        return _meaning(key, parts, kind=kind if part == "phone" else "")

    if len(entities - {_MUNICIPALITY}) > 1 or (_MUNICIPALITY in entities and entities - {_MUNICIPALITY, _FUNCTION}):
        return None  # "Kommune/bydel", "Legevaktsamarbeid"
    entity = next(iter(entities - {_MUNICIPALITY}), _MUNICIPALITY if entities else None)
    if field == _NOTE:
        return _meaning(NOTE, parts) if entity is None else None
    if entity == _LEGEVAKT:
        if field in (None, _NAME):
            return _meaning(LEGEVAKT_NAME, parts)
        if field == _PHONE:
            return _meaning(LEGEVAKT_PHONE, parts, kind=kind)
        return None
    if entity in (_ARRANGEMENT, _DISTRICT):
        if field in (None, _NAME):
            return _meaning(ARRANGEMENT if entity == _ARRANGEMENT else DISTRICT, parts)
        return None
    if entity == _MUNICIPALITY and field in (None, _NAME) and not functional:
        return _meaning(MUNICIPALITY_NAME, parts)
    if entity == _FUNCTION and field is None and set(words) <= {"funksjon", "rolle"}:
        return _meaning(ROLE, parts)  # "Rolle", "Funksjon": which role the row's person holds
    if entity is not None or functional:
        if field == _EMAIL:
            return _meaning(FUNCTION_EMAIL, parts)
        if field == _PHONE and not kinds_conflict:
            return _meaning(FUNCTION_PHONE, parts, kind=kind)
        return None
    # No person and no entity: the chief physician's, as the default person of a row.
    if field is None:
        return None
    part = {_NAME: "name", _PHONE: "phone", _EMAIL: "email", _HPR: "hpr"}[field]
    return _meaning(f"{CHIEF}_{part}", parts, kind=kind if part == "phone" else "")


def _meaning(key, parts, *, kind="", role=""):
    return HeaderMeaning(key=key, kind=kind, role=role, words=tuple(part.written for part in parts if part.written))
