"""Byte-level requests: malformed, hostile or unusual envelopes get SOAP faults, never HTML."""
from __future__ import annotations

import pytest
from lxml import etree

from lrs_ws.contract.namespaces import EXCEPTIONS, FINDMSG, SOAP_ENV
from tests.conftest import DEMO, LEARNER_SERVICE
from tests.contract.conftest import validate_envelope

ORG = DEMO["organisation"]
FIND_BY_ULN = f"""<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body>
<f:FindLearnerByULN xmlns:f="{FINDMSG}"><FindType>FUL</FindType><UKPRN>{ORG['ukprn']}</UKPRN>
<OrgPassword>{ORG['password']}</OrgPassword><UserName>online</UserName><ULN>9105106906</ULN>
<FamilyName>Hughes</FamilyName><GivenName>Amelia</GivenName></f:FindLearnerByULN>
</soapenv:Body></soapenv:Envelope>"""


def post(http, body: bytes | str, headers: dict | None = None, method: str = "POST"):
    data = body.encode() if isinstance(body, str) else body
    return http.request(method, LEARNER_SERVICE, data=data, headers={"Content-Type": "text/xml; charset=utf-8", **(headers or {})})


def fault_of(response) -> tuple[str, str]:
    assert response.headers["Content-Type"].startswith("text/xml"), response.text[:200]
    envelope = etree.fromstring(response.content)
    detail = validate_envelope(envelope)
    assert detail.tag == f"{{{EXCEPTIONS}}}MIAPAPIException", "expected a fault"
    return detail.findtext("ErrorCode"), detail.findtext("FurtherDetails")


def response_code(response) -> str:
    assert response.status_code == 200, response.text[:500]
    return validate_envelope(etree.fromstring(response.content)).findtext("ResponseCode")


@pytest.mark.parametrize("soap_action", [None, '""', '"http://tempuri.org/LearnerPortType/verifyLearner"', '"anything"'])
def test_dispatch_is_on_the_body_element_whatever_the_soapaction(http, soap_action):
    headers = {} if soap_action is None else {"SOAPAction": soap_action}
    assert response_code(post(http, FIND_BY_ULN, headers)) == "WSRC0004"


def test_response_children_are_unqualified_and_linked_ulns_qualified(http):
    request = FIND_BY_ULN.replace("9105106906", "5558175256").replace("Hughes", "Patel").replace("Amelia", "Harry")
    response = post(http, request)
    body = etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body")
    root = body[0]
    assert root.tag == f"{{{FINDMSG}}}FindLearnerResponse"
    assert [child.tag for child in root][:2] == ["ResponseCode", "ULN"]
    learner = root.find("Learner")
    linked = learner.find("{http://api.lrs.miap.gov.uk/learner}LinkedULNs")
    assert linked is not None and [u.tag for u in linked] == ["ULN"]
    order = [c.tag for c in learner]
    assert order[:4] == ["CreatedDate", "LastUpdatedDate", "ULN", "MasterSubstituted"]
    assert order[-3:] == ["{http://api.lrs.miap.gov.uk/learner}LinkedULNs", "Notes", "VersionNumber"]


@pytest.mark.parametrize(
    "body, expected",
    [
        ("not xml at all", "not well-formed"),
        ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>' + FIND_BY_ULN.replace("Amelia", "&e;"), "DOCTYPE"),
        ('<!DOCTYPE x SYSTEM "file:///etc/passwd">' + FIND_BY_ULN, "DOCTYPE"),
        (FIND_BY_ULN.replace(SOAP_ENV, "http://www.w3.org/2003/05/soap-envelope"), "SOAP 1.1"),
        (f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body/></soapenv:Envelope>', "Body"),
        (FIND_BY_ULN.replace("<FindType>FUL</FindType>", ""), "FindType"),
        (FIND_BY_ULN.replace("<OrgPassword>DemoPassword0001", "<OrgPassword>short"), "OrgPassword"),
        (FIND_BY_ULN.replace("<ULN>9105106906", "<ULN>0105106906"), "ULN"),
        (FIND_BY_ULN.replace("<GivenName>Amelia", "<GivenName>"), "GivenName"),
    ],
)
def test_malformed_requests_get_wsec0001(http, body, expected):
    response = post(http, body)
    assert response.status_code == 500
    code, details = fault_of(response)
    assert code == "WSEC0001"
    assert expected in details
    assert "Traceback" not in response.text and "/lrs_ws/" not in response.text
    assert response_code(post(http, FIND_BY_ULN)) == "WSRC0004"  # still serving


def test_unknown_request_element_is_wsec0002(http):
    body = FIND_BY_ULN.replace("FindLearnerByULN", "FindLearnerByShoeSize")
    assert fault_of(post(http, body))[0] == "WSEC0002"


def test_oversized_body_is_refused_with_a_fault(wsgi_app, runtime):
    """The limit is the front's, checked before any thread runs; the WSGI side reads what it gets."""
    from lrs_ws.web.asgi import BufferedWsgi
    from tests.front_client import exchange

    limit = runtime.settings.max_request_bytes
    front = BufferedWsgi(wsgi_app, refuse=wsgi_app.refusal, threads=1, max_body=limit, read_timeout=5)
    big = FIND_BY_ULN.replace("<UserName>", "<!--" + "x" * (limit + 10) + "--><UserName>")
    response = exchange(front, "POST", "/LearnerService.svc", big.encode())
    assert response.status_code == 413
    assert fault_of(response)[0] == "WSEC0001"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_http_verbs_get_a_fault(http, method):
    response = http.request(method, LEARNER_SERVICE)
    assert response.status_code == 405
    code, details = fault_of(response)
    assert code == "WSEC0001" and "UnsupportedHttpVerb" in details


def test_unknown_path_gets_a_fault(http):
    response = http.post(LEARNER_SERVICE.replace("LearnerService", "Nothing"), data=FIND_BY_ULN)
    assert response.status_code == 404
    assert fault_of(response)[0] == "WSEC0002"


@pytest.mark.parametrize("query", ["wsdl", "singlewsdl", "WSDL", "singleWsdl"])
def test_wsdl_carries_the_configured_address_not_the_host_header(http, query):
    response = http.get(f"{LEARNER_SERVICE}?{query}", headers={"Host": "evil.example"})
    assert response.status_code == 200
    wsdl = etree.fromstring(response.content)
    (address,) = wsdl.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == LEARNER_SERVICE
    assert b"evil.example" not in response.content


def test_header_charset_cannot_change_the_validated_document(http):
    body = FIND_BY_ULN.replace("<FamilyName>Hughes", "<FamilyName>Hughés")
    for content_type in ("text/xml; charset=ISO-8859-1", "text/xml; charset=bogus", "text/xml; charset=utf-16", "application/xml"):
        response = post(http, body.encode("utf-8"), {"Content-Type": content_type})
        assert response.status_code == 200, (content_type, response.text[:300])
        echoed = etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body")[0].findtext("FamilyName")
        assert echoed == "Hughés", content_type


@pytest.mark.parametrize(
    "envelope, expected",
    [
        (FIND_BY_ULN.replace("</f:FindLearnerByULN>", "</f:FindLearnerByULN><x:Other xmlns:x=\"urn:x\"/>"), "exactly one request element"),
        (FIND_BY_ULN.replace("</soapenv:Body>", "</soapenv:Body><soapenv:Body/>"), "one Body"),
        (FIND_BY_ULN.replace("<soapenv:Body>", "<soapenv:Body>stray text"), "text outside"),
        (
            FIND_BY_ULN.replace(
                "<soapenv:Body>",
                '<soapenv:Header><wsse:Security xmlns:wsse="urn:x" soapenv:mustUnderstand="1"/></soapenv:Header><soapenv:Body>',
            ),
            "MustUnderstand",
        ),
    ],
)
def test_envelope_rules_of_soap_1_1(http, envelope, expected):
    code, details = fault_of(post(http, envelope))
    assert code == "WSEC0001" and expected in details


def test_optional_headers_and_ws_addressing_are_accepted(http):
    headers = (
        '<soapenv:Header><a:Action xmlns:a="http://www.w3.org/2005/08/addressing" soapenv:mustUnderstand="1">x</a:Action>'
        '<x:Trace xmlns:x="urn:x">1</x:Trace></soapenv:Header>'
    )
    assert response_code(post(http, FIND_BY_ULN.replace("<soapenv:Body>", headers + "<soapenv:Body>"))) == "WSRC0004"


def test_service_faults_and_screening_faults_have_one_shape(http):
    shapes = []
    for body in (FIND_BY_ULN.replace("online", "super"), "<oops"):
        fault = etree.fromstring(post(http, body).content).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
        shapes.append([child.tag for child in fault])
    assert shapes[0] == shapes[1] == ["faultcode", "faultstring", "detail"]


def test_faults_carry_the_services_clock(http, clock):
    """One clock: a refusal inside a call and one before any call both tell the service's time."""
    from datetime import datetime

    from lrs_ws.clock import UK

    clock.at = datetime(2027, 7, 1, 9, 30, 5, tzinfo=UK)  # summer time
    refused = post(http, FIND_BY_ULN.replace(ORG["password"], "WrongPassword000"))
    assert fault_of(refused)[0] == "WSEC0005"
    not_xml = post(http, "not xml")
    for response in (refused, not_xml):
        detail = validate_envelope(etree.fromstring(response.content))
        assert detail.findtext("ErrorTimestamp") == "2027-07-01 09:30:05", response.text
