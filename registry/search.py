"""Search the national list the way people type under pressure.

Names are folded to plain lowercase ASCII words so that `royrvik`, `aalesund`, `tromso` and `baerum`
find Røyrvik, Ålesund, Tromsø and Bærum, and `guovdageaidnu` finds Guovdageaidnu written with or
without its Sami letters. General-purpose accent folding (NFKD) would drop æ, ø and å instead of
spelling them out, so the Norwegian letters are mapped explicitly first, in both spellings people
use: ø as o or oe, å as a or aa, æ as ae.

Each searchable row stores its folded words in a `search_text` column (" word word …", with a
leading space) so that one `LIKE '% term%'` finds a word starting with the term. On PostgreSQL a
pg_trgm GIN index serves those LIKEs and, when nothing matches exactly, the typo-tolerant word
similarity operator. SQLite has no pg_trgm: it gets the exact search only.
"""

import re
import unicodedata
from contextlib import contextmanager

from django.db import connection, transaction
from django.db.models import F, Q, Value

# The two spellings of the Norwegian letters, both written into the search text.
PRIMARY = str.maketrans({"æ": "ae", "ø": "o", "å": "a"})
ALTERNATIVE = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
# Letters that have no decomposition in Unicode, so NFKD would not reduce them (Sami đ, ŋ, ŧ and others).
SPECIAL = str.maketrans({"đ": "d", "ŋ": "n", "ŧ": "t", "ŀ": "l", "ł": "l", "ð": "d", "þ": "th", "ß": "ss", "œ": "oe"})
_NOT_WORD = re.compile(r"[^a-z0-9]+")

# Longest query we read, and most words in it: a search box, not a document.
MAX_QUERY_LENGTH = 100
MAX_TERMS = 8
# pg_trgm's default (0.6) misses a swapped pair of letters in a long name ("kautokieno" scores 0.55).
WORD_SIMILARITY_THRESHOLD = 0.5
# Shorter terms have no trigram of their own worth comparing: typo tolerance starts at this length.
MIN_FUZZY_LENGTH = 4


def fold(text, *, spelling=PRIMARY):
    """Return `text` as lowercase ASCII words separated by single spaces."""
    text = str(text or "")
    if text.isascii():
        # Nothing to spell out or decompose (most names): a third of the time of a big import's search texts.
        return _NOT_WORD.sub(" ", text.lower()).strip()
    lowered = text.lower().translate(spelling).translate(SPECIAL)
    decomposed = unicodedata.normalize("NFKD", lowered)
    ascii_only = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", ascii_only).strip()


def search_text(*values):
    """Return the text stored for searching `values`: every word in both spellings, once, after a space."""
    words = []
    for value in values:
        for spelling in (PRIMARY, ALTERNATIVE):
            for word in fold(value, spelling=spelling).split():
                if word not in words:
                    words.append(word)
    return "".join(" " + word for word in words)


def municipality_search_text(*, number, name, parallel_names):
    """The search text of a municipality: its number (also without a leading zero), name and parallel names."""
    numbers = [number, number.lstrip("0")] if number else []
    return search_text(*numbers, name, *str(parallel_names or "").split("|"))


def physician_search_text(*, name):
    return search_text(name)


def query_terms(query):
    """Return the folded words of a query, at most MAX_TERMS of them."""
    return fold(str(query or "")[:MAX_QUERY_LENGTH]).split()[:MAX_TERMS]


def has_word_starting(field, term):
    """A Q matching rows whose search text in `field` has a word starting with `term`."""
    return Q(**{f"{field}__contains": " " + term})


def has_similar_word(field, term):
    """A Q matching rows whose search text in `field` has a word like `term` (pg_trgm word similarity)."""
    from django.contrib.postgres.lookups import TrigramWordSimilar

    return Q(TrigramWordSimilar(F(field), Value(term)))


def supports_typos():
    """Typo tolerance needs pg_trgm, which only PostgreSQL has."""
    return connection.vendor == "postgresql"


@contextmanager
def search_plan(*, typos=False):
    """Run a search's queries inside with pg_trgm's word similarity threshold at WORD_SIMILARITY_THRESHOLD
    (with `typos`) or at a near match (without). The setting is local to a transaction, so it never leaks
    into other queries on the connection. Does nothing on other databases.
    """
    if connection.vendor != "postgresql":
        yield
        return
    threshold = str(WORD_SIMILARITY_THRESHOLD) if typos else "0.6"
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [threshold])
        yield


@contextmanager
def trigram_indexes():
    """Run the queries inside with PostgreSQL told to use the trigram indexes: for the queries that match
    physicians' names.

    The planner underestimates how many physicians a short LIKE pattern matches and prefers a
    sequential scan, which costs 5 times the GIN index scan for a LIKE and 30 times for word
    similarity (measured by `make bench-search`). Only for those queries: the municipality query, with
    its correlated EXISTS over appointments and memberships, took 2 s instead of 20 ms on the demo with
    sequential scans off. Put back when the block ends; local to the transaction in any case.
    Does nothing on other databases.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)")
            (before, _off) = cursor.fetchone()
        yield
        # On an error the transaction's rollback puts the setting back instead.
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [before])
