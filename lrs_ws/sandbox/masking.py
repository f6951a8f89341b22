"""Passwords out of a request before anything keeps it: the text of every OrgPassword and
Password element (whatever its prefix, however it is written: text, CDATA, comments) becomes ***.

Works on the bytes as sent, so a request that is not even well-formed XML is masked too.
"""
from __future__ import annotations

import codecs
import re

MASK = "***"
_SECRET = re.compile(
    r"(?P<open><(?:[\w.-]+:)?(?:OrgPassword|Password)(?:\s[^>]*)?(?<!/)>)"
    r"(?P<secret>(?:<!\[CDATA\[.*?(?:\]\]>|$)|<!--.*?(?:-->|$)|<\?.*?(?:\?>|$)|[^<])*)",
    re.S,
)


_BOMS = (  # the longest first: UTF-32 LE's begins with UTF-16 LE's
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")


def masked(request: bytes) -> str:
    """The request as text (in the encoding it came in), every password replaced by ***."""
    text = _as_text(request)
    return _SECRET.sub(lambda found: found["open"] + (MASK if found["secret"] else ""), text)


def _as_text(request: bytes) -> str:
    """Decoded as an XML parser would: by its byte order mark, else its first bytes (UTF-16
    without a mark), else its declared encoding, else UTF-8. A password in UTF-16 must be seen
    as one to be masked."""
    for mark, codec in _BOMS:
        if request.startswith(mark):
            return request.decode(codec, "replace")
    if request[:2] == b"<\x00":
        return request.decode("utf-16-le", "replace")
    if request[:2] == b"\x00<":
        return request.decode("utf-16-be", "replace")
    declared = _DECLARED.match(request)
    if declared:
        try:
            return request.decode(declared.group(1).decode("ascii"), "replace")
        except LookupError:  # a name no codec has: read as UTF-8, as the service does
            pass
    return request.decode("utf-8", "replace")
