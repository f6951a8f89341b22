"""Request screening: what a POSTed body must be before spyne sees it.

Well-formed XML without a DOCTYPE; a SOAP 1.1 Envelope holding an optional Header (no header
the service must understand but does not) and then one Body with one request element; a request
element the endpoint serves; valid against our `xsd/`. A body that is not is refused with the
code and text of its fault (the endpoint answers in its own fault kind). The screening parses the
body once, and the request element it finds names the method that answers it, so that dispatch
looks nothing up again.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from lxml import etree

from lrs_ws import contract
from lrs_ws.contract.envelope import envelope_parts
from lrs_ws.domain.codes import ErrorCode

Method = TypeVar("Method")

@dataclass(frozen=True)
class Screened(Generic[Method]):
    """A body as the screening found it: how far it got, and why it is refused (or None)."""

    envelope: etree._Element | None  # None: not well-formed
    ids: dict[str, etree._Element]  # by xml:id, for SOAP-encoded hrefs
    header: etree._Element | None
    request: etree._Element | None  # the Body's one request element
    method: Method | None  # what serves the request element
    refusal: tuple[ErrorCode, str] | None


def screen(body: bytes, methods: Mapping[str, Method], path: str) -> Screened[Method]:
    """Screen `body` for the endpoint at `path` serving the request elements `methods` (by Clark
    name)."""
    try:
        envelope, ids = etree.XMLID(body, contract.request_parser())
    except etree.XMLSyntaxError as error:
        return Screened(None, {}, None, None, None, (ErrorCode.INVALID_REQUEST, f"The request is not well-formed XML: {error}"))
    if envelope.getroottree().docinfo.doctype:
        return Screened(envelope, ids, None, None, None, (ErrorCode.INVALID_REQUEST, "A DOCTYPE is not allowed in a SOAP message"))
    parts = envelope_parts(envelope)
    if isinstance(parts, str):
        return Screened(envelope, ids, None, None, None, (ErrorCode.INVALID_REQUEST, parts))
    header, request = parts
    method = methods.get(str(request.tag))
    if method is None:
        refusal = (ErrorCode.UNKNOWN_REQUEST, f"Unknown request element {request.tag!s} at {path}")
        return Screened(envelope, ids, header, request, None, refusal)
    try:
        contract.validate_body_element(request)
    except contract.ContractViolation as violation:
        return Screened(envelope, ids, header, request, method, (ErrorCode.INVALID_REQUEST, str(violation)))
    return Screened(envelope, ids, header, request, method, None)
