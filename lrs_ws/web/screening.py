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
from lrs_ws.contract.namespaces import SOAP_ENV
from lrs_ws.domain.codes import ErrorCode

Method = TypeVar("Method")

# Headers we understand (and ignore): WS-Addressing, which WCF clients of the R9 binding send.
_UNDERSTOOD_HEADERS = ("http://www.w3.org/2005/08/addressing", "http://schemas.xmlsoap.org/ws/2004/08/addressing")
_NEXT_ACTOR = "http://schemas.xmlsoap.org/soap/actor/next"
_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"


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
    parts = _envelope_parts(envelope)
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


def _envelope_parts(envelope: etree._Element) -> tuple[etree._Element | None, etree._Element] | str:
    """(the Header or None, the request element), or how the envelope breaks the SOAP 1.1 rules."""
    if envelope.tag != _ENVELOPE:
        return f"Expected a SOAP 1.1 Envelope ({SOAP_ENV}), got {envelope.tag!s}"
    parts = [child for child in envelope if isinstance(child.tag, str)]
    names = [etree.QName(child).localname if etree.QName(child).namespace == SOAP_ENV else str(child.tag) for child in parts]
    if names not in (["Body"], ["Header", "Body"]):
        return f"The Envelope must hold an optional Header and then one Body; it holds {', '.join(names) or 'nothing'}"
    body = parts[-1]
    if (body.text or "").strip() or any((child.tail or "").strip() for child in body):
        return "The SOAP Body holds text outside the request element"
    requests = [child for child in body if isinstance(child.tag, str)]
    if len(requests) != 1:
        return f"The SOAP Body must hold exactly one request element; it holds {len(requests)}"
    header = parts[0] if len(parts) == 2 else None
    for entry in header if header is not None else ():
        if not isinstance(entry.tag, str) or etree.QName(entry).namespace in _UNDERSTOOD_HEADERS:
            continue
        must = entry.get(f"{{{SOAP_ENV}}}mustUnderstand", "0").strip() in ("1", "true")
        if must and entry.get(f"{{{SOAP_ENV}}}actor", _NEXT_ACTOR) == _NEXT_ACTOR:
            return f"MustUnderstand: header {entry.tag} is not understood by this service"
    return header, requests[0]
