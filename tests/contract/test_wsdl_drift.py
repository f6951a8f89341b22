"""What the server serves at ?singlewsdl is exactly our checked-in wsdl/ and xsd/ files."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import LEARNER_SERVICE, ROOT

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


def _served(http) -> etree._Element:
    response = http.get(f"{LEARNER_SERVICE}?singlewsdl")
    assert response.status_code == 200
    return etree.fromstring(response.content, _PARSER)


def test_served_schemas_are_the_xsd_files(http):
    served = {s.get("targetNamespace"): s for s in _served(http).iter(f"{{{XS}}}schema")}
    files = {}
    for path in sorted((ROOT / "xsd").glob("*.xsd")):
        schema = etree.parse(str(path), _PARSER).getroot()
        files[schema.get("targetNamespace")] = schema
    assert set(served) == set(files)
    for namespace, schema in files.items():
        assert _canonical(served[namespace]) == _canonical(schema), f"{namespace} drifted from xsd/"


def test_served_wsdl_outside_its_types_is_the_wsdl_file(http):
    served = _served(http)
    checked_in = etree.parse(str(ROOT / "wsdl" / "LearnerService.wsdl"), _PARSER).getroot()
    for document in (served, checked_in):
        types = document.find(f"{{{WSDL}}}types")
        for child in list(types):
            types.remove(child)
    assert _canonical(served) == _canonical(checked_in)


def test_a_changed_schema_file_would_be_noticed(tmp_path):
    """The comparison is not blind: one changed facet makes the schemas differ."""
    path = ROOT / "xsd" / "learner.xsd"
    original = etree.parse(str(path), _PARSER).getroot()
    changed = etree.fromstring(etree.tostring(original).replace(b'value="35"', b'value="36"', 1), _PARSER)
    assert _canonical(original) != _canonical(changed)
