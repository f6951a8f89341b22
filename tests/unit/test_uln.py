import random
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrs_ws.domain.errors import UlnSpaceExhausted
from lrs_ws.domain.uln import ULN_NOT_KNOWN, check_digit, is_valid_uln, new_uln

prefixes = st.integers(min_value=100_000_000, max_value=999_999_999).map(str)


def test_documented_example_is_valid():
    # 1*10 + 0*9 + 2*8 + 6*7 + 8*6 + 9*5 + 3*4 + 0*3 + 9*2 = 191; 191 mod 11 = 4; 10 - 4 = 6
    assert check_digit("102689309") == 6
    assert is_valid_uln("1026893096")


@pytest.mark.parametrize(
    "uln",
    [
        "1026893095",  # wrong check digit
        "0026893096",  # leading zero
        "102689309",  # too short
        "10268930966",  # too long
        "10268930a6",  # not a digit
        "１０２６８９３０９６",  # full-width digits are digits to str.isdigit, not to the LRS
        " 1026893096",
        "",
        None,
        ULN_NOT_KNOWN,
    ],
)
def test_invalid_ulns(uln):
    assert not is_valid_uln(uln)


def test_prefix_with_remainder_zero_has_no_valid_uln():
    # 1*10 + 1*9 + 0 ... + 1*3 + 0*2 = 22 = 2 * 11
    prefix = "110000010"
    assert check_digit(prefix) is None
    assert not any(is_valid_uln(prefix + str(d)) for d in range(10))


def test_check_digit_rejects_non_prefixes():
    with pytest.raises(ValueError):
        check_digit("12345678")
    with pytest.raises(ValueError):
        check_digit("12345678x")


@given(prefixes)
def test_check_digit_agrees_with_is_valid_uln(prefix):
    valid_digits = [d for d in range(10) if is_valid_uln(prefix + str(d))]
    digit = check_digit(prefix)
    if digit is None:
        assert valid_digits == []
    else:
        assert valid_digits == [digit]


@settings(max_examples=200)
@given(seed=st.integers(), issued=st.sets(st.integers(10**9, 10**10 - 1).map(str), max_size=50))
def test_new_uln_is_valid_and_never_an_existing_one(seed, issued):
    uln = new_uln(random.Random(seed), issued.__contains__)
    assert is_valid_uln(uln)
    assert uln not in issued


def test_new_uln_retries_after_collisions():
    rng = random.Random(7)
    first = new_uln(random.Random(7), lambda _: False)
    seen: list[str] = []

    def exists(uln: str) -> bool:
        seen.append(uln)
        return uln == first  # the first candidate is taken

    second = new_uln(rng, exists)
    assert seen[0] == first
    assert second != first and is_valid_uln(second)


def test_new_uln_gives_up_when_everything_exists():
    with pytest.raises(UlnSpaceExhausted):
        new_uln(random.Random(1), lambda _: True, attempts=5)


def test_new_uln_accepts_system_random():
    import secrets

    assert is_valid_uln(new_uln(secrets.SystemRandom(), lambda _: False))


def test_new_ulns_are_not_sequential():
    rng = random.Random(3)
    issued: set[str] = set()
    for _ in range(50):
        issued.add(new_uln(rng, issued.__contains__))
    numbers = sorted(int(u) for u in issued)
    assert len(numbers) == 50
    assert max(b - a for a, b in pairwise(numbers)) > 1000
