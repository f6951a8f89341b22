"""What the server serves at ?singlewsdl is exactly our checked-in wsdl/ and xsd/ files, for both
services: each WSDL inlines exactly the schema files it imports (directly or through another
schema), and nothing else."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from lrs_ws.contract.namespaces import SOAP_ENV
from tests.conftest import LEARNER_SERVICE, LEARNER_SERVICE_R9, ROOT

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP_ADDRESS = "{http://schemas.xmlsoap.org/wsdl/soap/}address"
_PARSER = etree.XMLParser(remove_blank_text=True, remove_comments=True)


_QNAME_ATTRIBUTES = {"type", "base", "ref", "element", "message", "binding", "itemType"}
_IGNORED = {("import", "schemaLocation"), ("include", "schemaLocation"), ("address", "location")}


def _canonical(element: etree._Element) -> tuple:
    """Comparable form, independent of prefixes and of where the element sits.

    QName-valued attributes are resolved to {namespace}name; schemaLocation and the soap:address
    location (which the server sets) are left out.
    """
    local = etree.QName(element).localname
    attributes = []
    for name, value in element.attrib.items():
        if (local, name) in _IGNORED:
            continue
        if name in _QNAME_ATTRIBUTES and ":" in value:
            prefix, _, rest = value.partition(":")
            value = f"{{{element.nsmap.get(prefix)}}}{rest}"
        attributes.append((name, value))
    children = tuple(_canonical(child) for child in element if isinstance(child.tag, str))
    return (element.tag, tuple(sorted(attributes)), (element.text or "").strip(), children)


SERVICES = [
    pytest.param(LEARNER_SERVICE, "LearnerService.wsdl", id="LearnerService"),
    pytest.param(LEARNER_SERVICE_R9, "LearnerServiceR9.wsdl", id="LearnerServiceR9"),
]


def _served(http, url: str) -> etree._Element:
    response = http.get(f"{url}?singlewsdl")
    assert response.status_code == 200
    return etree.fromstring(response.content, _PARSER)


def _imported_files(wsdl_name: str) -> dict[str, etree._Element]:
    """The xsd/ files a WSDL reaches by schemaLocation, by target namespace."""
    found: dict[Path, etree._Element] = {}
    pending = [(ROOT / "wsdl" / wsdl_name).resolve()]
    while pending:
        source = pending.pop()
        root = etree.parse(str(source), _PARSER).getroot()
        for imp in root.iter(f"{{{XS}}}import"):
            if imp.get("schemaLocation"):
                target = (source.parent / imp.get("schemaLocation")).resolve()
                if target not in found:
                    found[target] = etree.parse(str(target), _PARSER).getroot()
                    pending.append(target)
    return {schema.get("targetNamespace"): schema for schema in found.values()}


def test_every_xsd_file_belongs_to_a_wsdl():
    reached = set()
    for _, name in (p.values for p in SERVICES):
        reached |= set(_imported_files(name))
    files = {etree.parse(str(p), _PARSER).getroot().get("targetNamespace") for p in (ROOT / "xsd").glob("*.xsd")}
    assert reached == files


@pytest.mark.parametrize("url, wsdl_name", SERVICES)
def test_served_schemas_are_the_xsd_files(http, url, wsdl_name):
    served = {s.get("targetNamespace"): s for s in _served(http, url).iter(f"{{{XS}}}schema")}
    files = _imported_files(wsdl_name)
    assert set(served) == set(files)
    for namespace, schema in files.items():
        assert _canonical(served[namespace]) == _canonical(schema), f"{namespace} drifted from xsd/"


@pytest.mark.parametrize("url, wsdl_name", SERVICES)
def test_served_wsdl_outside_its_types_is_the_wsdl_file(http, url, wsdl_name):
    served = _served(http, url)
    checked_in = etree.parse(str(ROOT / "wsdl" / wsdl_name), _PARSER).getroot()
    for document in (served, checked_in):
        types = document.find(f"{{{WSDL}}}types")
        for child in list(types):
            types.remove(child)
    assert _canonical(served) == _canonical(checked_in)
    (address,) = served.iter(SOAP_ADDRESS)
    assert address.get("location") == url


def test_a_changed_schema_file_would_be_noticed(tmp_path):
    """The comparison is not blind: one changed facet makes the schemas differ."""
    path = ROOT / "xsd" / "learner.xsd"
    original = etree.parse(str(path), _PARSER).getroot()
    changed = etree.fromstring(etree.tostring(original).replace(b'value="35"', b'value="36"', 1), _PARSER)
    assert _canonical(original) != _canonical(changed)


# Every operation of the public LRS WSDLs, with its SOAPAction, written out from the interface
# page: our WSDLs declare each one, and nothing else.
PUBLIC_OPERATIONS = {
    "LearnerService.wsdl": {
        **{name: "" for name in (
            "learnerByULN", "learnerByDemographics", "registerSingleLearner", "updateSingleLearner",
            "submitBatchRegistration", "getBatchRegistrationOutput", "submitVerifyBatch", "getVerifyBatchOutput",
            "retrieveULNs",
        )},
        "verifyLearner": "http://tempuri.org/LearnerPortType/verifyLearner",
    },
    "LearnerServiceR9.wsdl": {
        name: f"http://tempuri.org/ILearnerServiceR9/{name}"
        for name in ("LearnerByUln", "GetLearnerLearningEvents", "UpdateLearnerSubsetFields", "ViewAudit", "GetOrganisation")
    },
}
# The WS-Addressing actions of each message, as the public WSDLs give them.
PORT_TYPE_ACTIONS = {
    "LearnerService.wsdl": lambda name, soap_action: (
        soap_action, f"http://tempuri.org/LearnerPortType/{name}Response",
        f"http://tempuri.org/LearnerPortType/{name}MIAPAPIExceptionFault",
    ),
    "LearnerServiceR9.wsdl": lambda name, soap_action: (
        soap_action, f"{soap_action}Response", f"{soap_action}DomainFaultFault",
    ),
}
WSAW_ACTION = "{http://www.w3.org/2006/05/addressing/wsdl}Action"


@pytest.mark.parametrize("wsdl_name", sorted(PUBLIC_OPERATIONS))
def test_our_wsdl_declares_every_public_operation_with_its_actions(wsdl_name):
    document = etree.parse(str(ROOT / "wsdl" / wsdl_name), _PARSER).getroot()
    expected = PUBLIC_OPERATIONS[wsdl_name]
    bound = {
        operation.get("name"): operation.find("{http://schemas.xmlsoap.org/wsdl/soap/}operation").get("soapAction")
        for operation in document.iterfind(f"{{{WSDL}}}binding/{{{WSDL}}}operation")
    }
    assert bound == expected
    for operation in document.iterfind(f"{{{WSDL}}}portType/{{{WSDL}}}operation"):
        name = operation.get("name")
        messages = tuple(operation.find(f"{{{WSDL}}}{kind}").get(WSAW_ACTION) for kind in ("input", "output", "fault"))
        assert messages == PORT_TYPE_ACTIONS[wsdl_name](name, expected[name]), name


@pytest.mark.parametrize("url, wsdl_name", SERVICES)
def test_every_declared_operation_is_served(http, url, wsdl_name):
    """No operation of the contract answers 'unknown operation': each one's request, sent empty,
    reaches the schema check (WSEC0001), not dispatch (WSEC0002)."""
    document = etree.parse(str(ROOT / "wsdl" / wsdl_name), _PARSER).getroot()
    messages = {m.get("name"): m.find(f"{{{WSDL}}}part").get("element") for m in document.iterfind(f"{{{WSDL}}}message")}
    for operation in document.iterfind(f"{{{WSDL}}}portType/{{{WSDL}}}operation"):
        prefix, _, local = messages[operation.find(f"{{{WSDL}}}input").get("message").partition(":")[2]].partition(":")
        body = f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><m:{local} xmlns:m="{document.nsmap[prefix]}"/></s:Body></s:Envelope>'
        response = http.post(url, data=body.encode(), headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})
        assert b"WSEC0001" in response.content and b"WSEC0002" not in response.content, (operation.get("name"), response.text[:300])
