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


def wire_values(value: object) -> object:
    """A wire object as plain data (member -> value, nested likewise), with its class: equal for
    objects that hold the same."""
    from spyne import ComplexModelBase

    if isinstance(value, list):
        return [wire_values(item) for item in value]
    if isinstance(value, ComplexModelBase):
        members = type(value).get_flat_type_info(type(value))
        return (type(value).__name__, {key: wire_values(getattr(value, key, None)) for key in members})
    return (type(value).__name__, value)


@pytest.fixture(autouse=True)
def requests_read_both_ways(monkeypatch):
    """Every request in these tests is read twice, by the compiled reader (used) and by spyne's
    own deserializer, and the two must make the same objects."""
    from lrs_ws.web.spyne_service import SpyneService

    read_request = SpyneService.read_request
    differences: list[tuple[object, object]] = []
    compiled_reads: list[str] = []

    def both(self, descriptor, element, ctx=None):
        by_spyne = wire_values(self.application.in_protocol.from_element(ctx, descriptor.in_message, element))
        read = read_request(self, descriptor, element, ctx)
        compiled_reads.append(descriptor.name)
        if wire_values(read) != by_spyne:
            differences.append((by_spyne, wire_values(read)))
        return read

    monkeypatch.setattr(SpyneService, "read_request", both)
    yield compiled_reads
    assert not differences, f"the compiled reader differs from spyne: {differences[0]}"


@pytest.fixture(autouse=True)
def direct_answers_written_both_ways(monkeypatch):
    """Every answer of a method called directly (without spyne's method context) is written
    twice: as sent, and by spyne's own serializer and create_out_string on a method context
    holding the same answer, its compiled writer off. The two must be the same XML (whatever
    the prefixes) behind the same XML declaration and envelope."""
    from spyne.protocol.soap import Soap11
    from spyne.server.wsgi import WsgiMethodContext

    from lrs_ws.web.spyne_service import CONTENT_TYPE, SpyneService

    write_response = SpyneService.write_response
    differences: list[tuple[bytes, bytes]] = []
    direct_calls: list[str] = []

    def both(self, method, result):
        sent = write_response(self, method, result)
        try:
            by_spyne = _written_by_spyne(self, method, result)
        except Exception as error:  # the direct path would take it for its own failure: record it
            differences.append((repr(error).encode(), sent))
            return sent
        direct_calls.append(method.name)
        if _canonical(etree.fromstring(sent)) != _canonical(etree.fromstring(by_spyne)) or sent[:60] != by_spyne[:60]:
            differences.append((by_spyne, sent))
        return sent

    def _written_by_spyne(self, method, result):
        protocol = self.application.out_protocol
        ctx = WsgiMethodContext(self.transport, {"REQUEST_METHOD": "POST"}, CONTENT_TYPE)
        ctx.descriptor, ctx.out_object = method, [result]
        protocol.compiled_writer = False
        try:  # spyne's own serialize, not the one the writer's guard puts in its place
            Soap11.serialize(protocol, ctx, message=protocol.RESPONSE)
        finally:
            del protocol.compiled_writer
        protocol.create_out_string(ctx)
        return b"".join(ctx.out_string)

    monkeypatch.setattr(SpyneService, "write_response", both)
    yield direct_calls
    assert not differences, f"the direct path writes other bytes than spyne: {differences[0]}"
