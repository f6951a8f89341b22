"""Passwords out of a kept request, however it is encoded (lrs_ws.sandbox.masking)."""
from __future__ import annotations

import pytest

from lrs_ws.sandbox.masking import masked

SECRET = "DemoPassword0001"
REQUEST = (
    '<?xml version="1.0" encoding="{encoding}"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
    f"<f:X xmlns:f=\"urn:x\"><OrgPassword>{SECRET}</OrgPassword><a:Password xmlns:a=\"urn:a\"><![CDATA[{SECRET}]]></a:Password>"
    "</f:X></s:Body></s:Envelope>"
)


@pytest.mark.parametrize("encoding, codec", [
    ("UTF-8", "utf-8"), ("UTF-8", "utf-8-sig"), ("UTF-16", "utf-16"), ("UTF-16", "utf-16-le"), ("UTF-16", "utf-16-be"),
    ("UTF-32", "utf-32"), ("ISO-8859-1", "latin-1"), ("no-such-codec", "utf-8"),
])
def test_every_password_is_masked_whatever_the_encoding(encoding, codec):
    kept = masked(REQUEST.format(encoding=encoding).encode(codec))
    assert SECRET not in kept.replace("\x00", "")
    assert kept.count("***") == 2 and "<f:X" in kept  # read as text, not bytes with NULs between


def test_a_request_that_is_not_xml_is_masked_too():
    assert SECRET not in masked(f"<OrgPassword>{SECRET}".encode())
    assert masked(b"\xff\xfe\x00garbage") is not None
