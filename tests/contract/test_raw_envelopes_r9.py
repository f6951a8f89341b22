"""Byte-level requests to /LearnerServiceR9.svc: the WCF wire shape of the answers, and DomainFaults
(never HTML) for malformed, hostile or misdirected envelopes.

The expected shapes are those of the live service's answers (interface page, section 1 and 7):
wrapper and result in tempuri, every result child qualified in the model namespace, in data
contract order; an empty `FoundULN` (not nil) when not verified; an empty `LearnerRecord` when
there is nothing to show; nulls as xsi:nil="true" on the fields always sent.
"""
from __future__ import annotations

import pytest
from lxml import etree

from lrs_ws.contract.namespaces import QCF_FAULTS, QCF_INTERFACE, QCF_MODEL, SOAP_ENV, TEMPURI, XSI
from lrs_ws.domain.learner import wire_name
from lrs_ws.domain.learning_event import EVENT_FIELDS
from lrs_ws.soap.faults import domain_fault_text
from lrs_ws.soap.r9_models import ALWAYS_SENT
from tests.conftest import DEMO, LEARNER_SERVICE_R9
from tests.contract.conftest import validate_envelope

ORG = DEMO["organisation"]
SOAP_ACTION = '"http://tempuri.org/ILearnerServiceR9/GetLearnerLearningEvents"'
# What a WCF client sends: default namespace tempuri on the wrapper, credentials' children in the
# data contract namespace, unused values as xsi:nil.
REQUEST = f"""<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>
<GetLearnerLearningEvents xmlns="{TEMPURI}">
<invokingOrganisation xmlns:a="{QCF_INTERFACE}" xmlns:i="{XSI}"><a:OrganisationRef i:nil="true"/>
<a:Password>{ORG['password']}</a:Password><a:Ukprn>{ORG['ukprn']}</a:Ukprn><a:Username>online</a:Username>
</invokingOrganisation><userType>LNR</userType><vendorID>0</vendorID><language>ENG</language>
<uln>9105106906</uln><givenName>Amelia</givenName><familyName>Hughes</familyName>
<dateOfBirth i:nil="true" xmlns:i="{XSI}"/><gender i:nil="true" xmlns:i="{XSI}"/><getType>FULL</getType>
</GetLearnerLearningEvents></s:Body></s:Envelope>"""
MODEL_CHILDREN = [f"{{{QCF_MODEL}}}{name}" for name in ("ResponseCode", "FoundULN", "IncomingULN", "LearnerRecord")]
EVENT_ORDER = [f"{{{QCF_MODEL}}}{wire_name(field)}" for field in EVENT_FIELDS]


def post(http, body: str | bytes, soap_action: str | None = SOAP_ACTION, method: str = "POST"):
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if soap_action is not None:
        headers["SOAPAction"] = soap_action
    return http.request(method, LEARNER_SERVICE_R9, data=body.encode() if isinstance(body, str) else body, headers=headers)


def result_of(response) -> etree._Element:
    assert response.status_code == 200, response.text[:500]
    envelope = etree.fromstring(response.content)
    wrapper = validate_envelope(envelope)
    assert wrapper.tag == f"{{{TEMPURI}}}GetLearnerLearningEventsResponse"
    (result,) = wrapper
    assert result.tag == f"{{{TEMPURI}}}GetLearnerLearningEventsResult"
    assert [child.tag for child in result] == MODEL_CHILDREN
    return result


def model(result: etree._Element, name: str) -> etree._Element:
    return result.find(f"{{{QCF_MODEL}}}{name}")


def fault_of(response) -> tuple[str, str]:
    assert response.headers["Content-Type"].startswith("text/xml"), response.text[:200]
    detail = validate_envelope(etree.fromstring(response.content))
    assert detail.tag == f"{{{QCF_FAULTS}}}DomainFault", "expected a DomainFault"
    assert [child.tag for child in detail] == [f"{{{QCF_FAULTS}}}ErrorCode", f"{{{QCF_FAULTS}}}ErrorDetail"]
    return detail.findtext(f"{{{QCF_FAULTS}}}ErrorCode"), domain_fault_text(detail)


def test_exact_match_has_the_wcf_shape(http):
    result = result_of(post(http, REQUEST))
    assert model(result, "ResponseCode").text == "WSRC0004"
    assert model(result, "FoundULN").text == model(result, "IncomingULN").text == "9105106906"
    events = list(model(result, "LearnerRecord"))
    assert events and {e.tag for e in events} == {f"{{{QCF_MODEL}}}LearningEvent"}
    for event in events:
        tags = [child.tag for child in event]
        assert tags == sorted(tags, key=EVENT_ORDER.index), "fields out of data contract order"
        for field in ALWAYS_SENT | {"id"}:
            assert f"{{{QCF_MODEL}}}{wire_name(field)}" in tags, f"{wire_name(field)} must always be sent"
        for child in event:
            assert child.get(f"{{{XSI}}}nil") == "true" or child.text, f"{child.tag} sent empty instead of nil"


def test_unknown_always_sent_fields_are_nil_and_others_are_left_out(http):
    """An awarding organisation's event has no provider: AchievementProviderUkprn (always sent)
    is nil, AchievementProviderName and the participation dates (sent when known) are absent."""
    events = list(model(result_of(post(http, REQUEST)), "LearnerRecord"))
    ao = next(e for e in events if e.findtext(f"{{{QCF_MODEL}}}Source") == "AO")
    ukprn = ao.find(f"{{{QCF_MODEL}}}AchievementProviderUkprn")
    assert ukprn is not None and ukprn.get(f"{{{XSI}}}nil") == "true" and not len(ukprn) and not ukprn.text
    for absent in ("AchievementProviderName", "ParticipationStartDate", "ParticipationEndDate", "CollectionType"):
        assert ao.find(f"{{{QCF_MODEL}}}{absent}") is None, absent


def test_not_verified_has_an_empty_found_uln_and_an_empty_record(http):
    result = result_of(post(http, REQUEST.replace("Hughes", "Hughs")))
    assert model(result, "ResponseCode").text == "WSEC0208"
    found = model(result, "FoundULN")
    assert found.text is None and found.get(f"{{{XSI}}}nil") is None  # <a:FoundULN/>, not nil
    assert model(result, "IncomingULN").text == "9105106906"
    record = model(result, "LearnerRecord")
    assert len(record) == 0 and record.get(f"{{{XSI}}}nil") is None  # <a:LearnerRecord/>


def test_not_shared_keeps_found_uln_and_sends_an_empty_record(http):
    request = REQUEST.replace("9105106906", "6302822970").replace("Amelia", "Grace").replace("Hughes", "O'Neil")
    result = result_of(post(http, request))
    assert model(result, "ResponseCode").text == "WSEC0206"
    assert model(result, "FoundULN").text == model(result, "IncomingULN").text == "6302822970"
    assert len(model(result, "LearnerRecord")) == 0


def test_linked_uln_answers_the_master_and_the_uln_sent(http):
    request = REQUEST.replace("9105106906", "5558175256").replace("Amelia", "Harry").replace("Hughes", "Patel")
    result = result_of(post(http, request))
    assert model(result, "ResponseCode").text == "WSRC0022"
    assert (model(result, "FoundULN").text, model(result, "IncomingULN").text) == ("2083498614", "5558175256")
    assert len(model(result, "LearnerRecord")) > 0


@pytest.mark.parametrize("soap_action", [SOAP_ACTION, None, '""', '"anything"'])
def test_dispatch_is_on_the_body_element_whatever_the_soapaction(http, soap_action):
    assert model(result_of(post(http, REQUEST, soap_action)), "ResponseCode").text == "WSRC0004"


def test_prefixed_request_and_absent_optional_parameters_are_accepted(http):
    request = (
        REQUEST.replace("<GetLearnerLearningEvents xmlns=", "<t:GetLearnerLearningEvents xmlns:t=")
        .replace("</GetLearnerLearningEvents>", "</t:GetLearnerLearningEvents>")
    )
    for name in (
        "invokingOrganisation", "userType", "vendorID", "language", "uln", "givenName", "familyName", "dateOfBirth", "gender", "getType"
    ):
        request = request.replace(f"<{name}", f"<t:{name}").replace(f"</{name}>", f"</t:{name}>")
    for absent in (
        '<t:dateOfBirth i:nil="true" xmlns:i="' + XSI + '"/>',
        '<t:gender i:nil="true" xmlns:i="' + XSI + '"/>',
        "<t:userType>LNR</t:userType>",
        "<t:language>ENG</t:language>",
    ):
        request = request.replace(absent, "")
    assert model(result_of(post(http, request)), "ResponseCode").text == "WSRC0004"


@pytest.mark.parametrize(
    "body, code, expected",
    [
        ("not xml at all", "WSEC0001", "not well-formed"),
        ('<!DOCTYPE x [<!ENTITY e "boom">]>' + REQUEST.replace("Amelia", "&e;"), "WSEC0001", "DOCTYPE"),
        (REQUEST.replace("<uln>9105106906</uln>", '<uln xmlns="">9105106906</uln>'), "WSEC0001", "uln"),
        (REQUEST.replace("<a:Password>", "<Password>").replace("</a:Password>", "</Password>"), "WSEC0001", "Password"),
        (REQUEST.replace("<getType>FULL", "<getType>ALL"), "WSEC0001", "getType"),
        (REQUEST.replace("<vendorID>0", "<vendorID>zero"), "WSEC0001", "vendorID"),
        (REQUEST.replace("<getType>FULL</getType>", ""), "WSEC0001", "getType"),
        (REQUEST.replace("GetLearnerLearningEvents", "LearnerByUlnAndMore"), "WSEC0002", "LearnerByUlnAndMore"),
        (REQUEST.replace(TEMPURI, "http://api.lrs.miap.gov.uk/findmsg", 1), "WSEC0002", "findmsg"),
    ],
)
def test_refused_requests_get_domain_faults(http, body, code, expected):
    response = post(http, body)
    assert response.status_code == 500
    got_code, detail = fault_of(response)
    assert (got_code, expected in detail) == (code, True), detail
    assert b"Traceback" not in response.content and b"MIAPAPIException" not in response.content
    assert model(result_of(post(http, REQUEST)), "ResponseCode").text == "WSRC0004"  # still serving


def test_credential_faults_are_soap_client_faults_with_a_domain_fault(http):
    response = post(http, REQUEST.replace(ORG["password"], "WrongPassword001"))
    assert response.status_code == 500
    envelope = etree.fromstring(response.content)
    fault = envelope.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault.findtext("faultcode").endswith(":Client")
    assert fault_of(response)[0] == "WSEC0005"


def test_other_http_verbs_get_a_domain_fault(http):
    response = http.request("DELETE", LEARNER_SERVICE_R9)
    assert response.status_code == 405
    assert fault_of(response)[0] == "WSEC0001"


@pytest.mark.parametrize("query", ["wsdl", "singleWsdl"])
def test_wsdl_is_served_with_the_configured_address(http, query):
    response = http.get(f"{LEARNER_SERVICE_R9}?{query}", headers={"Host": "evil.example"})
    assert response.status_code == 200
    wsdl = etree.fromstring(response.content)
    (address,) = wsdl.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == LEARNER_SERVICE_R9
    actions = [operation.get("soapAction") for operation in wsdl.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")]
    assert SOAP_ACTION.strip('"') in actions
    assert b"evil.example" not in response.content
