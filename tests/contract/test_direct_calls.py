"""Methods called directly (lrs_ws.web.spyne_service): every method of both services is, and
the compiled request reader (lrs_ws.soap.reader) makes what spyne's own deserializer makes on
every request model, from arbitrary elements (absent, empty, blank, nil, "false" nil, repeated
and unknown children, other namespaces), and leaves to spyne what it does not read. The
contract tests also read every request and write every answer both ways (conftest.py)."""
from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from lrs_ws.contract.namespaces import XSI
from lrs_ws.soap import reader
from lrs_ws.soap.faults import MIAP
from lrs_ws.soap.learner_service import LearnerService
from lrs_ws.soap.r9_service import LearnerServiceR9
from lrs_ws.web.spyne_service import SpyneService
from tests.contract.conftest import ORG, credentials, wire_values

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from spyne import ComplexModelBase

SERVICES = [
    SpyneService(service, name=f"reader-test-{service.__name__}", runtime=None, faults=MIAP)
    for service in (LearnerService, LearnerServiceR9)
]
METHODS = [(service, descriptor) for service in SERVICES for descriptor in service.methods.values()]
IDS = [descriptor.name for _, descriptor in METHODS]
TEXTS = st.sampled_from(["", " ", "  x  ", "1234567890", "0", "-7", "true", "false", "é", "a\nb"])


def _element(cls, tag: str, draw, depth: int = 0) -> etree._Element:
    element = etree.Element(tag)
    members = cls.get_flat_type_info(cls)
    names = draw(st.lists(st.sampled_from([*members, "Unknown"]), max_size=len(members) + 3))
    for name in names:
        member = members.get(name)
        namespace = draw(st.sampled_from(["", "", "urn:other:"]))
        child_tag = f"{{{namespace}}}{name}" if namespace else name
        if member is not None and issubclass(member, ComplexModelBase) and depth < 3:
            child = _element(member, child_tag, draw, depth + 1)
            element.append(child)
        else:
            child = etree.SubElement(element, child_tag)
            kind = draw(st.sampled_from(["text", "text", "none", "nil", "nil-false"]))
            if kind == "text":
                child.text = draw(TEXTS)
            elif kind == "nil":
                child.set(f"{{{XSI}}}nil", "true")
            elif kind == "nil-false":
                child.set(f"{{{XSI}}}nil", "false")
    return element


def _by_spyne(service: SpyneService, cls, element: etree._Element):
    return service.application.in_protocol.from_element(None, cls, element)


@pytest.mark.parametrize(("service", "descriptor"), METHODS, ids=IDS)
def test_every_method_is_called_directly(service, descriptor):
    assert reader.plan_for(descriptor.in_message, service.application.in_protocol) is not None
    assert descriptor in service._direct


def test_a_call_takes_the_direct_path_and_both_guards_see_it(lrs, r9, requests_read_both_ways, direct_answers_written_both_ways):
    lrs.learnerByULN(**credentials(), FindType="FUL", ULN="1000000000", FamilyName="Smith", GivenName="Jo")
    invoking = {"Ukprn": ORG["ukprn"], "Password": ORG["password"], "Username": "viewonly"}
    r9.GetOrganisation(invokingOrganisation=invoking, userType="ORG", vendorId=0, ukPrn=ORG["ukprn"])
    assert requests_read_both_ways == direct_answers_written_both_ways == ["FindLearnerByULN", "GetOrganisation"]


@pytest.mark.parametrize(("service", "descriptor"), METHODS, ids=IDS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_compiled_reader_makes_what_spyne_makes(service, descriptor, data):
    cls = descriptor.in_message
    element = _element(cls, "{urn:request}Request", data.draw)
    plan = reader.plan_for(cls, service.application.in_protocol)
    assert _outcome(lambda: reader.read(plan, element)) == _outcome(lambda: _by_spyne(service, cls, element))


def _outcome(read):
    """What reading gives: the object as plain data, or the kind of error (an integer member's
    text that is no number is spyne's ValidationError either way)."""
    try:
        return wire_values(read())
    except Exception as error:
        return ("raised", type(error).__name__)


def test_what_the_reader_leaves_to_spyne():
    service, descriptor = METHODS[0]
    plan = reader.plan_for(descriptor.in_message, service.application.in_protocol)
    typed = etree.fromstring(f'<R xmlns:xsi="{XSI}"><ULN xsi:type="xsd:string">1</ULN></R>')
    attributed = etree.fromstring('<R><ULN extra="1">1</ULN></R>')
    for element in (typed, attributed):
        with pytest.raises(reader.NotCompiled):
            reader.read(plan, element)
    nil_root = etree.fromstring(f'<R xmlns:xsi="{XSI}" xsi:nil="true"/>')
    assert reader.read(plan, nil_root) is None
