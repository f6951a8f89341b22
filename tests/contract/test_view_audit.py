"""R9 ViewAudit through a zeep client from our R9 WSDL: a learner's access log, newest first."""
from __future__ import annotations

import pytest
import zeep.exceptions

from tests.contract.conftest import invoking_organisation
from tests.contract.test_get_organisation import domain_fault, invoking

AMELIA = {"learnerUln": "9105106906", "learnerGivenName": "Amelia", "learnerFamilyName": "Hughes"}


def view(r9, user="online", page=1, **learner):
    return r9.ViewAudit(invokingOrganisation=invoking(user), userType="LNR", vendorId=0, language="ENG",
                        page=page, **(learner or AMELIA))


def read_plr(r9):
    return r9.GetLearnerLearningEvents(
        invokingOrganisation=invoking_organisation(), userType="LNR", vendorID=0, language="ENG",
        uln="9105106906", givenName="Amelia", familyName="Hughes", dateOfBirth=None, gender=None, getType="FULL",
    )


def test_the_log_lists_record_reads_newest_first_and_its_own_reads(r9, runtime):
    start = runtime.clock.at
    for minutes in range(12):
        runtime.clock.at = start.replace(minute=minutes)
        assert read_plr(r9).ResponseCode == "WSRC0004"
    runtime.clock.at = start.replace(minute=30)
    first = view(r9)
    assert (first.TotalItems, first.PageCount, first.PageIndex, first.PageSize, first.SortIndex, first.SortOrder) == (12, 2, 1, 10, 0, 1)
    entries = first.List.PlrAccessEntryResponse
    assert len(entries) == 10 and {e.Action for e in entries} == {"GetLearnerLearningEvents"}
    assert [e.DateTime.minute for e in entries] == list(range(11, 1, -1))  # newest first
    assert entries[0].Organisation == "lrs-ws Demo College" and entries[0].User == "online"
    second = view(r9, page=2)  # the first page's read is in the log now, newest
    assert (second.PageIndex, second.TotalItems, len(second.List.PlrAccessEntryResponse)) == (2, 13, 3)
    assert view(r9, page=0).PageIndex == 1  # 0 or less counts as 1
    latest = view(r9)
    assert latest.TotalItems == 12 + 3 and latest.List.PlrAccessEntryResponse[0].Action == "ViewAudit"


def test_a_learner_not_verified_has_an_empty_log(r9):
    result = view(r9, learnerUln="9105106906", learnerGivenName="Zara", learnerFamilyName="Okafor")
    assert result.TotalItems == 0 and not (result.List and result.List.PlrAccessEntryResponse)


@pytest.mark.parametrize("user", ["viewonly", "batch"])
def test_only_learner_record_users_may_view_the_log(r9, user):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        view(r9, user)
    assert domain_fault(excinfo) == "WSEC0006"
