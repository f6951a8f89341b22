"""Normal forms of names, postcodes and dates used to compare demographics.

Each function is total on strings (None counts as empty) and idempotent, so a normal form can
be stored or indexed and compared with a freshly normalised search.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

# Hyphens, dashes, apostrophes (typed and typographic) and whitespace: the characters that
# make Smith-Jones, Smith Jones and SmithJones, or O'Neil and ONeil, the same name.
_PUNCTUATION = re.compile(r"[\s\-\u2010-\u2015'\u2018\u2019\u02bc`]+")
_NAME_PARTS = re.compile(r"[\s\-\u2010-\u2015]+")


@lru_cache(maxsize=65536)
def name_key(s: str | None) -> str:
    """Case-folded, trimmed, inner whitespace collapsed to one space."""
    return " ".join((s or "").split()).casefold()


def post_code_key(s: str | None) -> str:
    """Upper case without any whitespace: 'sw1a 1aa' -> 'SW1A1AA'."""
    return "".join((s or "").split()).upper()


def tidy_text(s: str) -> str:
    """How a name or address is kept: trimmed, inner whitespace collapsed, case as sent."""
    return " ".join(s.split())


def format_post_code(s: str) -> str:
    """How a postcode is kept: upper case, one space before the inward code ('b152tt' -> 'B15 2TT',
    'bfpo123' -> 'BFPO 123'); anything else is left as sent."""
    key = post_code_key(s)
    if key.startswith("BFPO"):
        return f"BFPO {key[4:]}" if key[4:].isdigit() else s
    if 5 <= len(key) <= 7 and key[-3].isdigit():
        return f"{key[:-3]} {key[-3:]}"
    return s


@lru_cache(maxsize=65536)
def squashed(s: str | None) -> str:
    """name_key without hyphens, apostrophes or spaces: Smith-Jones == SmithJones."""
    return _PUNCTUATION.sub("", name_key(s))


@lru_cache(maxsize=65536)
def mac_key(s: str | None) -> str:
    """squashed, with every name part's 'Mac' prefix written 'Mc': MacDonald == McDonald.

    Applied per part so double-barrelled names (Smith-MacLeod) unify too.
    """
    parts = _NAME_PARTS.split(name_key(s))
    key = squashed("".join(_mc(p) for p in parts))
    return _mc(key)  # joining "Ma Cab" makes a new leading "mac"; keeps mac_key idempotent


def _mc(part: str) -> str:
    return "mc" + part[3:] if part.startswith("mac") else part


def fold_accents(s: str) -> str:
    """Drop combining marks (Zoë -> Zoe) so phonetic codes see plain letters."""
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def swapped_day_month(d: date) -> date | None:
    """The date with day and month swapped, or None when that is not a different real date."""
    if d.day == d.month or d.day > 12:
        return None
    # day <= 12 is a real month, and the old month (<= 12) is a day every month has.
    return d.replace(month=d.day, day=d.month)
