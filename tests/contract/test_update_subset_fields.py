"""R9 UpdateLearnerSubsetFields through a zeep client from our R9 WSDL: updateSingleLearner's
rules and version check, for its few fields."""
from __future__ import annotations

import pytest
import zeep.exceptions
from lxml import etree

from lrs_ws.contract.namespaces import QCF_COMMON, SOAP_ENV, TEMPURI, XSI
from tests.conftest import DEMO, LEARNER_SERVICE_R9
from tests.contract.conftest import validate_envelope
from tests.contract.test_get_organisation import domain_fault, invoking

AMELIA = "9105106906"  # version 1, AbilityToShare 1, e-mail amelia.hughes@example.org
ORG = DEMO["organisation"]


def update(r9, user="online", uln=AMELIA, version=1, share="NotProvided", **fields):
    return r9.UpdateLearnerSubsetFields(
        invokingOrganisation=invoking(user), userType="LNR", vendorId=0, language="ENG",
        uln=uln, versionNumber=version, abilityToShare=share, **fields,
    )


def stored(runtime, uln=AMELIA):
    with runtime.unit_of_work() as uow:
        return uow.learners.get(uln)


def test_an_update_moves_the_version_on(r9, runtime):
    assert update(r9, emailAddress="amelia@example.ac.uk", telephoneNumber="+44 (0)121 496 0000") == "WSRC0006"
    learner = stored(runtime)
    assert (learner.email_address, learner.telephone_number, learner.version_number) == (
        "amelia@example.ac.uk", "+44 (0)121 496 0000", 2)
    assert update(r9, version=1, schoolAtAge16="Another School") == "WSRC0013"  # stale now
    assert update(r9, version=2, emailAddress="amelia@example.ac.uk") == "WSRC0020"  # nothing changed
    assert update(r9, version=2, telephoneNumber="0121 496 0001") == "WSRC0006"  # the telephone alone
    assert stored(runtime).version_number == 3


def test_an_empty_value_clears_and_an_absent_one_keeps(r9, runtime):
    assert update(r9, emailAddress="", preferredGivenName="Millie") == "WSRC0006"
    learner = stored(runtime)
    assert learner.email_address is None and learner.preferred_given_name == "Millie"
    assert learner.school_at_age16 == "King Edward VI High School"  # not sent: kept


def test_ability_to_share_cannot_go_back_to_0(r9):
    assert update(r9, share="FPNNotSeen") == "WSRC0014"


def test_fpn_seen_unable_to_share_is_2(r9, runtime):
    assert update(r9, share="FPNSeenUnableShareData") == "WSRC0006"
    assert stored(runtime).ability_to_share == "2"


@pytest.mark.parametrize("uln", ["1026893096", "5558175256"])  # never issued; retired (merged)
def test_an_unknown_or_retired_uln_is_wsrc0019(r9, uln):
    assert update(r9, uln=uln, emailAddress="x@example.org") == "WSRC0019"


def test_a_rule_break_is_a_wsec0001_fault(r9):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        update(r9, preferredGivenName="Test")  # prohibited text
    assert domain_fault(excinfo) == "WSEC0001"


@pytest.mark.parametrize("user", ["viewonly", "batch"])
def test_only_online_users_may_update(r9, user):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        update(r9, user, emailAddress="x@example.org")
    assert domain_fault(excinfo) == "WSEC0006"


def test_nil_leaves_a_field_as_it_is(http, runtime):
    body = (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><UpdateLearnerSubsetFields xmlns="{TEMPURI}" xmlns:i="{XSI}">'
        f'<invokingOrganisation xmlns:a="{QCF_COMMON}"><a:Password>{ORG["password"]}</a:Password>'
        f'<a:Ukprn>{ORG["ukprn"]}</a:Ukprn><a:Username>online</a:Username></invokingOrganisation>'
        '<userType>LNR</userType><vendorId>0</vendorId><language>ENG</language>'
        f'<uln>{AMELIA}</uln><versionNumber>1</versionNumber><emailAddress i:nil="true"/>'
        '<telephoneNumber i:nil="true"/><abilityToShare>NotProvided</abilityToShare>'
        '<schoolAtAge16>Bluecoat Academy</schoolAtAge16><preferredGivenName i:nil="true"/>'
        "</UpdateLearnerSubsetFields></s:Body></s:Envelope>"
    )
    response = http.post(LEARNER_SERVICE_R9, data=body.encode(), headers={
        "Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"http://tempuri.org/ILearnerServiceR9/UpdateLearnerSubsetFields"'})
    assert response.status_code == 200, response.text[:300]
    assert validate_envelope(etree.fromstring(response.content)).findtext(f"{{{TEMPURI}}}UpdateLearnerSubsetFieldsResult") == "WSRC0006"
    learner = stored(runtime)
    assert learner.email_address == "amelia.hughes@example.org" and learner.school_at_age16 == "Bluecoat Academy"
