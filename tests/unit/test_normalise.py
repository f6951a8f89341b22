from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrs_ws.domain.matching import SearchKey, search_key_hash
from lrs_ws.domain.normalise import (
    fold_accents,
    mac_key,
    name_key,
    post_code_key,
    squashed,
    swapped_day_month,
)


def test_name_key_folds_case_and_whitespace():
    assert name_key("  Mary   ANNE\t") == "mary anne"
    assert name_key("STRASSE") == name_key("straße")  # casefold, not lower
    assert name_key(None) == ""


def test_post_code_key():
    assert post_code_key(" sw1a  1aa ") == "SW1A1AA"
    assert post_code_key("ZZ99 9ZZ") == "ZZ999ZZ"
    assert post_code_key(None) == ""


@pytest.mark.parametrize(
    "a, b",
    [
        ("Smith-Jones", "Smith Jones"),
        ("Smith-Jones", "SmithJones"),
        ("O'Neil", "ONeil"),
        ("O\u2019Neil", "o neil"),  # typographic apostrophe
        ("Smith\u2013Jones", "smithjones"),  # en dash
    ],
)
def test_squashed_unifies_punctuation_variants(a, b):
    assert squashed(a) == squashed(b)


def test_squashed_keeps_letters_apart():
    assert squashed("Smith") != squashed("Smyth")


@pytest.mark.parametrize(
    "a, b",
    [
        ("MacDonald", "McDonald"),
        ("mac donald", "Mc-Donald"),
        ("Smith-MacLeod", "Smith McLeod"),
    ],
)
def test_mac_key_unifies_mac_and_mc(a, b):
    assert mac_key(a) == mac_key(b)


def test_mac_key_is_idempotent_when_parts_join_into_mac():
    assert mac_key(mac_key("Ma Cab")) == mac_key("Ma Cab") == mac_key("Macab")


def test_mac_key_does_not_merge_different_names():
    assert mac_key("MacDonald") != mac_key("McDougal")


def test_fold_accents():
    assert fold_accents("zoë") == "zoe"
    assert fold_accents("josé") == "jose"


def test_search_key_hash_ignores_case_spacing_and_postcode_spaces():
    a = SearchKey("Mary", "Smith", date(2000, 1, 2), "2", "SW1A 1AA")
    b = SearchKey(" mary ", "SMITH", date(2000, 1, 2), "2", "sw1a1aa")
    assert search_key_hash(a) == search_key_hash(b)
    assert len(search_key_hash(a)) == 64


@pytest.mark.parametrize(
    "other",
    [
        SearchKey("Marie", "Smith", date(2000, 1, 2), "2", "SW1A 1AA"),
        SearchKey("Mary", "Smyth", date(2000, 1, 2), "2", "SW1A 1AA"),
        SearchKey("Mary", "Smith", date(2000, 2, 1), "2", "SW1A 1AA"),
        SearchKey("Mary", "Smith", date(2000, 1, 2), "9", "SW1A 1AA"),
        SearchKey("Mary", "Smith", date(2000, 1, 2), "2", "SW1A 1AB"),
        SearchKey("Mary Smith", "", date(2000, 1, 2), "2", "SW1A 1AA"),
    ],
)
def test_search_key_hash_differs_on_any_field(other):
    base = SearchKey("Mary", "Smith", date(2000, 1, 2), "2", "SW1A 1AA")
    assert search_key_hash(base) != search_key_hash(other)


def test_search_key_hash_is_unambiguous_with_separator_in_names():
    a = SearchKey("a|b", "c", date(2000, 1, 2), "2", "X")
    b = SearchKey("a", "b|c", date(2000, 1, 2), "2", "X")
    assert search_key_hash(a) != search_key_hash(b)


@pytest.mark.parametrize(
    "d, expected",
    [
        (date(2000, 3, 5), date(2000, 5, 3)),
        (date(2000, 12, 1), date(2000, 1, 12)),
        (date(2000, 3, 13), None),  # 13 is no month
        (date(2000, 4, 4), None),  # swapping changes nothing
        (date(2000, 2, 29), None),
    ],
)
def test_swapped_day_month(d, expected):
    assert swapped_day_month(d) == expected


@given(st.dates())
def test_swapped_day_month_is_an_involution(d):
    swapped = swapped_day_month(d)
    if swapped is not None:
        assert swapped != d
        assert swapped_day_month(swapped) == d


@given(st.text())
def test_name_normalisations_are_idempotent(s):
    for normalise in (name_key, squashed, mac_key):
        once = normalise(s)
        assert normalise(once) == once


@given(st.text())
def test_name_key_has_no_outer_or_double_spaces(s):
    key = name_key(s)
    assert key == key.strip()
    assert "  " not in key


@given(st.text())
def test_post_code_key_is_idempotent_and_spaceless(s):
    key = post_code_key(s)
    assert post_code_key(key) == key
    assert not any(c.isspace() for c in key)
    assert key == key.upper()
