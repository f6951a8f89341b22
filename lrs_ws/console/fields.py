"""What the console's pages read from a form or an address, checked alike everywhere."""
from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,18}")


def is_number(text: str) -> bool:
    """ASCII digits only, at most 18 of them: str.isdigit() also takes "²" (which int() refuses)
    and "１" (which it reads as 1)."""
    return bool(_DIGITS.fullmatch(text))
