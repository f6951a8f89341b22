"""R9 GetOrganisation through a zeep client from our R9 WSDL: the other operations' credentials
(InvokingOrganisation, vendorId) and their faults."""
from __future__ import annotations

import pytest
import zeep.exceptions

from lrs_ws.contract.namespaces import QCF_FAULTS
from tests.conftest import DEMO

ORG = DEMO["organisation"]


def invoking(user="viewonly", **overrides):
    values = {"Ukprn": ORG["ukprn"], "Password": ORG["password"], "Username": user}
    values.update(overrides)
    return values


def look_up(r9, user="viewonly", **parameters):
    return r9.GetOrganisation(invokingOrganisation=invoking(user), userType="ORG", vendorId=0, language="ENG", **parameters)


def domain_fault(excinfo) -> str:
    return excinfo.value.detail.findtext(f".//{{{QCF_FAULTS}}}ErrorCode")


@pytest.mark.parametrize("parameters", [{"ukPrn": ORG["ukprn"]}, {"orgRef": ORG["organisation_ref"]}])
def test_an_organisation_by_ukprn_or_reference(r9, parameters):
    result = look_up(r9, **parameters)
    assert (result.ResponseCode, result.DisplayName, result.OrgRef, result.Ukprn, result.Status) == (
        "WSRC0004", ORG["name"], ORG["organisation_ref"], ORG["ukprn"], "Active")


@pytest.mark.parametrize("user", ["online", "viewonly", "batch", "super"])
def test_any_user_may_look_up(r9, user):
    assert look_up(r9, user, ukPrn=ORG["ukprn"]).ResponseCode == "WSRC0004"


def test_an_unknown_organisation_is_wsrc0001_alone(r9):
    result = look_up(r9, ukPrn="99999999")
    assert result.ResponseCode == "WSRC0001" and result.DisplayName is None and result.Ukprn is None


def test_neither_ukprn_nor_reference_is_a_wsec0001_fault(r9):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        look_up(r9)
    assert domain_fault(excinfo) == "WSEC0001"


def test_the_credentials_are_checked_by_reference_too(r9):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        r9.GetOrganisation(invokingOrganisation=invoking(Password="WrongPassword001"), userType="ORG", vendorId=0, ukPrn=ORG["ukprn"])
    assert domain_fault(excinfo) == "WSEC0005"
    by_reference = {"Reference": ORG["organisation_ref"], "Password": ORG["password"], "Username": "viewonly"}
    assert r9.GetOrganisation(invokingOrganisation=by_reference, userType="ORG", vendorId=0, ukPrn=ORG["ukprn"]).ResponseCode == "WSRC0004"
