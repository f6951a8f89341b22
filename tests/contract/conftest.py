"""zeep clients built from our WSDLs (as served), talking to the WSGI app in-process.

Every response and fault detail they receive is validated against our `xsd/`.
"""
from __future__ import annotations

import pytest
import zeep
from lxml import etree
from zeep.plugins import Plugin

from lrs_ws import contract
from lrs_ws.contract.namespaces import EXCEPTIONS, QCF_FAULTS, SOAP_ENV
from tests.conftest import BINDING, BINDING_R9, DEMO, LEARNER_SERVICE, LEARNER_SERVICE_R9

ORG = DEMO["organisation"]


def credentials(user: str = "online", **overrides) -> dict:
    values = {"UKPRN": ORG["ukprn"], "OrgPassword": ORG["password"], "UserName": user}
    values.update(overrides)
    return values


def invoking_organisation(user: str = "online", **overrides) -> dict:
    """The R9 credentials (InvokingOrganisationR10) of the demo organisation."""
    values = {"OrganisationRef": None, "Password": ORG["password"], "Ukprn": ORG["ukprn"], "Username": user}
    values.update(overrides)
    return values


_FAULT_DETAILS = (f"detail/{{{EXCEPTIONS}}}MIAPAPIException", f"detail/{{{QCF_FAULTS}}}DomainFault")


def validate_envelope(envelope: etree._Element) -> etree._Element:
    """Validate the Body's element (or a fault's MIAPAPIException / DomainFault) against our
    xsd/; return it."""
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None, "response has no SOAP Body"
    element = body[0]
    if element.tag == f"{{{SOAP_ENV}}}Fault":
        details = [d for d in (element.find(path) for path in _FAULT_DETAILS) if d is not None]
        assert len(details) == 1, "fault without a MIAPAPIException or DomainFault detail"
        element = details[0]
    contract.validate_body_element(element)
    return element


class ValidateResponses(Plugin):
    def __init__(self) -> None:
        self.received: list[etree._Element] = []

    def ingress(self, envelope, http_headers, operation):
        self.received.append(validate_envelope(envelope))
        return envelope, http_headers


@pytest.fixture
def validator():
    return ValidateResponses()


@pytest.fixture
def lrs(http, validator):
    """The LearnerService as an MIS sees it: a zeep client from our served ?singlewsdl."""
    client = zeep.Client(f"{LEARNER_SERVICE}?singlewsdl", transport=zeep.Transport(session=http), plugins=[validator])
    return client.create_service(BINDING, LEARNER_SERVICE)


@pytest.fixture
def r9(http, validator):
    """The LearnerServiceR9 as an MIS sees it: a zeep client from our served ?singlewsdl."""
    client = zeep.Client(f"{LEARNER_SERVICE_R9}?singlewsdl", transport=zeep.Transport(session=http), plugins=[validator])
    return client.create_service(BINDING_R9, LEARNER_SERVICE_R9)


def _canonical(document: etree._Element) -> str:
    """The document as C14N 2.0 writes it with prefixes renamed: equal for equal XML, whatever
    prefixes and declarations each serializer chose."""
    return etree.canonicalize(etree.tostring(document).decode(), rewrite_prefixes=True)


@pytest.fixture(autouse=True)
def responses_written_both_ways(monkeypatch):
    """Every response in these tests is written twice, by the compiled writer (sent) and by
    spyne's own serializer, and the two must be the same XML."""
    from lrs_ws.web.spyne_protocol import LrsSoap11

    serialize = LrsSoap11.serialize
    differences: list[tuple[str, str]] = []

    def both(self, ctx, message):
        self.compiled_writer = False
        try:
            serialize(self, ctx, message)
        finally:
            del self.compiled_writer
        by_spyne = _canonical(ctx.out_document)
        serialize(self, ctx, message)
        compiled = _canonical(ctx.out_document)
        if compiled != by_spyne:
            differences.append((by_spyne, compiled))

    monkeypatch.setattr(LrsSoap11, "serialize", both)
    yield
    assert not differences, f"the compiled writer differs from spyne: {differences[0]}"
