"""The Learner Register fault: a SOAP 1.1 Fault whose detail is `ex:MIAPAPIException`."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree
from spyne import Fault

from lrs_ws.domain.codes import ErrorCode
from lrs_ws.soap.namespaces import EXCEPTIONS, SOAP_ENV

_LONDON = ZoneInfo("Europe/London")
FAULT_STRING = "MIAPAPIException"
ACTOR = "lrs-ws"


def miap_exception(code: ErrorCode, further_details: str, actor: str = ACTOR) -> etree._Element:
    element = etree.Element(f"{{{EXCEPTIONS}}}MIAPAPIException", nsmap={"ex": EXCEPTIONS})
    for name, text in (
        ("ErrorCode", code.value),
        ("ErrorActor", actor),
        ("Description", code.description),
        ("FurtherDetails", further_details),
        ("ErrorTimestamp", datetime.now(_LONDON).strftime("%Y-%m-%d %H:%M:%S")),
    ):
        etree.SubElement(element, name).text = text
    return element


class MiapFault(Fault):
    """Raised inside a spyne method; spyne serialises it with the MIAPAPIException detail."""

    def __init__(self, code: ErrorCode, further_details: str) -> None:
        super().__init__(
            faultcode="Client" if code.is_client_error else "Server",
            faultstring=f"{FAULT_STRING}: {code.value} {code.description}",
            detail=miap_exception(code, further_details),
        )
        self.code = code
        self.further_details = further_details


def fault_envelope(code: ErrorCode, further_details: str) -> bytes:
    """A whole fault envelope, for requests refused before spyne sees them."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    fault = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = "soapenv:Client" if code.is_client_error else "soapenv:Server"
    etree.SubElement(fault, "faultstring").text = f"{FAULT_STRING}: {code.value} {code.description}"
    etree.SubElement(fault, "detail").append(miap_exception(code, further_details))
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
