"""Passwords out of a request before anything keeps it: the text of every OrgPassword and
Password element (whatever its prefix, however it is written: text, CDATA, comments) becomes ***.

Works on the bytes as sent, so a request that is not even well-formed XML is masked too.
"""
from __future__ import annotations

import re

MASK = "***"
_SECRET = re.compile(
    r"(?P<open><(?:[\w.-]+:)?(?:OrgPassword|Password)(?:\s[^>]*)?(?<!/)>)"
    r"(?P<secret>(?:<!\[CDATA\[.*?(?:\]\]>|$)|<!--.*?(?:-->|$)|<\?.*?(?:\?>|$)|[^<])*)",
    re.S,
)


def masked(request: bytes) -> str:
    """The request as text, every password replaced by ***."""
    text = request.decode("utf-8", "replace")
    return _SECRET.sub(lambda found: found["open"] + (MASK if found["secret"] else ""), text)
