"""The published contract of the learning records service: wsdl/LearnerServiceR9.wsdl and the
xsd/plr-*.xsd files, offline."""
from __future__ import annotations

import pytest
import zeep
from lxml import etree

from lrs_ws import contract
from lrs_ws.contract.namespaces import (
    MIAP_ENTITIES,
    MIAP_MODEL,
    MS_ARRAYS,
    MS_SERIALIZATION,
    QCF_COMMON,
    QCF_FAULTS,
    QCF_INTERFACE,
    QCF_MODEL,
    TEMPURI,
)
from tests.contract.test_contract_files import SOAP_BINDING, SOAP_ENV, WSDL, XS, OfflineTransport

BINDING = "{http://tempuri.org/}BasicHttpBinding_ILearnerServiceR9"
WSDL_NAME = "LearnerServiceR9.wsdl"
ARGUMENTS = dict(
    invokingOrganisation=dict(OrganisationRef=None, Password="Tr0ub4dor.3xampl", Ukprn="10001234", Username="mis.records"),
    userType="LNR",
    vendorID=42,
    language="ENG",
    uln="9990000013",
    givenName="Amelia",
    familyName="Okafor",
    dateOfBirth=None,
    gender=None,
    getType="FULL",
)


@pytest.fixture(scope="module")
def zeep_client() -> zeep.Client:
    return zeep.Client(wsdl=str(contract.wsdl_path(WSDL_NAME)), transport=OfflineTransport())


def test_wsdl_loads_offline_with_its_operations(zeep_client):
    binding = zeep_client.wsdl.bindings[BINDING]
    assert set(binding._operations) == {
        "LearnerByUln", "GetLearnerLearningEvents", "GetOrganisation", "ViewAudit", "UpdateLearnerSubsetFields"}
    for name, operation in binding._operations.items():
        assert operation.soapaction == f"http://tempuri.org/ILearnerServiceR9/{name}"
        assert operation.input.body.qname == etree.QName(TEMPURI, name)
        assert operation.output.body.qname == etree.QName(TEMPURI, f"{name}Response")
        assert set(operation.faults) == {"DomainFaultFault"}
    port = zeep_client.wsdl.services["LearnerServiceR9Proxy"].ports["BasicHttpBinding_ILearnerServiceR9"]
    assert port.binding_options["address"] == "http://localhost:8000/LearnerServiceR9.svc"


@pytest.mark.parametrize("extra", [{}, {"dateOfBirth": "2008-02-29", "gender": "2"}, {"getType": "BRIEF"}])
def test_what_a_client_of_our_wsdl_sends_is_wrapped_qualified_and_valid(zeep_client, extra):
    message = zeep_client.create_message(zeep_client.service, "GetLearnerLearningEvents", **{**ARGUMENTS, **extra})
    request = message.find(f"{{{SOAP_ENV}}}Body")[0]
    assert request.tag == f"{{{TEMPURI}}}GetLearnerLearningEvents"
    assert {etree.QName(child).namespace for child in request} == {TEMPURI}
    assert {etree.QName(child).namespace for child in request[0]} == {QCF_INTERFACE}
    contract.validate_body_element(request)


def test_single_wsdl_inlines_the_nine_r9_schemas():
    url = "https://lrs.example.ac.uk/LearnerServiceR9.svc"
    root = etree.fromstring(contract.single_wsdl(url, WSDL_NAME))
    schemas = root.findall(f"{{{WSDL}}}types/{{{XS}}}schema")
    assert {s.get("targetNamespace") for s in schemas} == {
        TEMPURI, QCF_MODEL, QCF_INTERFACE, QCF_COMMON, QCF_FAULTS, MIAP_MODEL, MIAP_ENTITIES, MS_ARRAYS, MS_SERIALIZATION}
    assert not [el for el in root.iter(f"{{{XS}}}import") if el.get("schemaLocation")]
    assert [a.get("location") for a in root.iter(f"{{{SOAP_BINDING}}}address")] == [url]


def test_the_two_services_share_one_schema_set_without_collisions():
    schema = contract.message_schema()
    wrapper = etree.fromstring(
        f'<GetLearnerLearningEventsResponse xmlns="{TEMPURI}"><GetLearnerLearningEventsResult>'
        f'<a:ResponseCode xmlns:a="{QCF_MODEL}">WSEC0208</a:ResponseCode><a:FoundULN xmlns:a="{QCF_MODEL}"/>'
        f'<a:IncomingULN xmlns:a="{QCF_MODEL}">1234567890</a:IncomingULN><a:LearnerRecord xmlns:a="{QCF_MODEL}"/>'
        "</GetLearnerLearningEventsResult></GetLearnerLearningEventsResponse>"
    )
    assert schema.validate(wrapper), schema.error_log
    nil_result = etree.fromstring(
        etree.tostring(wrapper).replace(b"<a:FoundULN", b'<a:FoundULN xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"', 1)
    )
    with pytest.raises(contract.ContractViolation) as caught:
        contract.validate_body_element(nil_result)
    assert caught.value.field.endswith("FoundULN")
