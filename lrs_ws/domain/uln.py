"""Unique Learner Numbers: the check digit, validation and issuing new ones."""
from __future__ import annotations

import random
import secrets
from collections.abc import Callable

from lrs_ws.domain.errors import UlnSpaceExhausted

ULN_NOT_KNOWN = "9999999999"  # the ILR "ULN not known" value; never issued, never valid
_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def check_digit(first9: str) -> int | None:
    """The tenth digit for these nine, or None when no valid ULN starts with them.

    r = sum(digit * weight) mod 11 with weights 10..2; the check digit is 10 - r. r = 0 would
    need the "digit" 10, so those prefixes have no valid ULN.
    """
    if len(first9) != 9 or not first9.isascii() or not first9.isdigit():
        raise ValueError(f"expected 9 digits, got {first9!r}")
    r = sum(int(d) * w for d, w in zip(first9, _WEIGHTS, strict=True)) % 11
    return None if r == 0 else 10 - r


def is_valid_uln(s: str | None) -> bool:
    """10 ASCII digits, first non-zero, correct check digit, and not the "not known" value."""
    if not isinstance(s, str) or len(s) != 10 or not s.isascii() or not s.isdigit():
        return False
    if s[0] == "0" or s == ULN_NOT_KNOWN:
        return False
    return check_digit(s[:9]) == int(s[9])


def new_uln(
    rng: random.Random | secrets.SystemRandom,
    exists: Callable[[str], bool],
    attempts: int = 100,
) -> str:
    """A random valid ULN that `exists` does not know.

    Random rather than sequential so ULNs cannot be guessed from one another; `exists` must
    cover every ULN ever issued (retired ones too) because ULNs are never reused.
    """
    for _ in range(attempts):
        first9 = str(rng.randrange(100_000_000, 1_000_000_000))  # first digit never 0
        digit = check_digit(first9)
        if digit is None:
            continue
        uln = f"{first9}{digit}"
        if uln != ULN_NOT_KNOWN and not exists(uln):
            return uln
    raise UlnSpaceExhausted(f"no unused valid ULN found in {attempts} attempts")
