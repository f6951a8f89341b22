"""SOAP 1.1 faults, in the two kinds the LRS services declare.

* :data:`MIAP` -- the Learner Register (`/LearnerService.svc`): detail `ex:MIAPAPIException` with
  unqualified ErrorCode, ErrorActor, Description, FurtherDetails, ErrorTimestamp.
* :data:`DOMAIN` -- the learning records service (`/LearnerServiceR9.svc`): detail `DomainFault`
  in `http://api.lrs.qcf.gov.uk/faults` with qualified ErrorCode and ErrorDetail (base64 of the
  UTF-8 text that says what went wrong).

The fault kind is a property of an endpoint (:class:`lrs_ws.web.soap_endpoint.SoapEndpoint`): the WSGI
screening answers refused requests with :meth:`FaultKind.envelope`, and the service methods raise
:meth:`FaultKind.exception`, so neither the screening nor the credentials check is written twice.
"""
from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from spyne import Fault

from lrs_ws.clock import uk_date_time
from lrs_ws.contract.namespaces import EXCEPTIONS, QCF_FAULTS, SOAP_ENV
from lrs_ws.domain.codes import ErrorCode

FAULT_STRING = "MIAPAPIException"
ACTOR = "lrs-ws"


# Characters XML 1.0 cannot carry (a request path may hold them): shown as U+FFFD instead.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def miap_exception(code: ErrorCode, further_details: str, at: datetime, actor: str = ACTOR) -> etree._Element:
    element = etree.Element(f"{{{EXCEPTIONS}}}MIAPAPIException", nsmap={"ex": EXCEPTIONS})
    for name, text in (
        ("ErrorCode", code.value),
        ("ErrorActor", actor),
        ("Description", code.description),
        ("FurtherDetails", _xml_text(further_details)),
        ("ErrorTimestamp", uk_date_time(at)),
    ):
        etree.SubElement(element, name).text = text
    return element


def domain_fault(code: ErrorCode, further_details: str, at: datetime) -> etree._Element:
    """`DomainFault`: ErrorCode, then ErrorDetail = base64(UTF-8 "description further details");
    it carries no time."""
    element = etree.Element(f"{{{QCF_FAULTS}}}DomainFault", nsmap={None: QCF_FAULTS})
    etree.SubElement(element, f"{{{QCF_FAULTS}}}ErrorCode").text = code.value
    text = _xml_text(f"{code.description} {further_details}".strip())
    etree.SubElement(element, f"{{{QCF_FAULTS}}}ErrorDetail").text = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return element


def domain_fault_text(detail: etree._Element) -> str:
    """The readable text of a DomainFault element's ErrorDetail (for tests and logs)."""
    encoded = detail.findtext(f"{{{QCF_FAULTS}}}ErrorDetail") or ""
    return base64.b64decode(encoded).decode("utf-8")


@dataclass(frozen=True)
class FaultKind:
    """How one service reports an error: the detail element and the fault string."""

    name: str  # the detail element's local name, as a client sees it
    detail: Callable[[ErrorCode, str, datetime], etree._Element]  # (code, further details, when)

    def faultstring(self, code: ErrorCode) -> str:
        return f"{self.name}: {code.value} {code.description}"

    def exception(self, code: ErrorCode, further_details: str, at: datetime) -> ServiceFault:
        """A spyne Fault to raise inside a service method; spyne serialises it."""
        return ServiceFault(self, code, further_details, at)

    def envelope(self, code: ErrorCode, further_details: str, at: datetime) -> bytes:
        """A whole fault envelope, for requests refused before spyne sees them."""
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
        fault = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
        etree.SubElement(fault, "faultcode").text = "soapenv:Client" if code.is_client_error else "soapenv:Server"
        etree.SubElement(fault, "faultstring").text = self.faultstring(code)
        etree.SubElement(fault, "detail").append(self.detail(code, further_details, at))
        return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


class ServiceFault(Fault):
    """Raised inside a spyne method; spyne serialises it with the kind's detail element."""

    def __init__(self, kind: FaultKind, code: ErrorCode, further_details: str, at: datetime) -> None:
        super().__init__(
            faultcode="Client" if code.is_client_error else "Server",
            faultstring=kind.faultstring(code),
            detail=kind.detail(code, further_details, at),
        )
        self.kind = kind
        self.code = code
        self.further_details = further_details


MIAP = FaultKind(FAULT_STRING, miap_exception)
DOMAIN = FaultKind("DomainFault", domain_fault)
