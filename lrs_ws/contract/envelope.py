"""The SOAP 1.1 envelope as both services read it: an optional Header (holding no header the
service must understand but does not), then one Body holding one message element.

Shared by the server's screening (lrs_ws.web.screening) and `lrs-ws check`, so that a message
is held to the same rules by both.
"""
from __future__ import annotations

from lxml import etree

from lrs_ws.contract.namespaces import SOAP_ENV

# Headers we understand (and ignore): WS-Addressing, which WCF clients of the R9 binding send.
_UNDERSTOOD_HEADERS = ("http://www.w3.org/2005/08/addressing", "http://schemas.xmlsoap.org/ws/2004/08/addressing")
_NEXT_ACTOR = "http://schemas.xmlsoap.org/soap/actor/next"
_ENVELOPE = f"{{{SOAP_ENV}}}Envelope"


def envelope_parts(envelope: etree._Element) -> tuple[etree._Element | None, etree._Element] | str:
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
