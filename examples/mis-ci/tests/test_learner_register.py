"""The MIS's LRS link tested against an lrs-ws sandbox, with only the fixtures of lrs-ws's pytest
plugin (`pip install 'lrs-ws[testing]'`): no conftest, no server to start by hand.

`lrs` is the sandbox, reset to its baseline (the demo data) before each test; the MIS builds
its own zeep client from the sandbox's WSDL, as it would from the LRS's. Set MIS_CAPTURE_DIR to
keep every envelope the MIS sends and receives, for `lrs-ws check`.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests
from mis_client import Credentials, LearnerRegister, RegistrationRefused
from zeep.exceptions import Fault

CAPTURE = Path(os.environ["MIS_CAPTURE_DIR"]) if os.environ.get("MIS_CAPTURE_DIR") else None
AMELIA = {"uln": "9105106906", "family_name": "Hughes", "given_name": "Amelia"}  # on the demo register
NEW = {"GivenName": "Tamsin", "FamilyName": "Verity", "DateOfBirth": "2006-02-03", "Gender": "2",
       "LastKnownPostCode": "LS1 4AP", "AbilityToShare": "1"}


def register_of(lrs, credentials: dict[str, str] | None = None, capture: bool = True) -> LearnerRegister:
    """The MIS's link, pointed at the sandbox; `capture=False` for a test that sends what the LRS
    refuses on purpose (`lrs-ws check` would rightly fail it)."""
    sent = credentials or lrs.credentials
    return LearnerRegister(lrs.wsdl_url, lrs.learner_service_url, Credentials(sent["UKPRN"], sent["OrgPassword"]),
                           CAPTURE if capture else None)


def test_a_find_by_uln(lrs):
    learner = register_of(lrs).find(**AMELIA)
    assert learner is not None and learner.DateOfBirth == "2007-03-14"
    lrs.assert_called("learnerByULN", times=1, outcome="WSRC0004")


def test_a_find_with_the_wrong_name_finds_nobody(lrs):
    assert register_of(lrs).find(AMELIA["uln"], "Hughes", "Zara") is None
    (entry,) = lrs.assert_called("learnerByULN", times=1)
    assert entry["outcome"] == "WSRC0001"


def test_register_then_find(lrs):
    mis = register_of(lrs)
    uln = mis.register(NEW)
    assert mis.find(uln, NEW["FamilyName"], NEW["GivenName"]) is not None
    assert mis.register(NEW) == uln  # known now: the search finds her, no second registration
    lrs.assert_called("registerSingleLearner", times=1, outcome="WSRC0005")
    lrs.assert_called("learnerByDemographics", times=2)


def test_a_batch_run_on_demand(lrs):
    mis = register_of(lrs)
    job = mis.submit_batch([NEW, {**NEW, "GivenName": "Ifan", "Gender": "1"}])
    lrs.run_jobs()  # no waiting for the batch worker
    output = mis.batch_output(job)
    assert output is not None and [code for code, _ in output] == ["RC003", "RC003"]  # both new: ULNs issued
    assert all(uln for _, uln in output)


def test_a_retry_on_a_fault_and_on_a_5xx(lrs):
    mis = register_of(lrs)
    with lrs.fault("learnerByULN", "fault", code="WSEC0999", times=1):
        assert mis.find(**AMELIA) is not None
    with lrs.fault("learnerByULN", "http", status=503, times=2):
        assert mis.find(**AMELIA) is not None
    calls = lrs.assert_called("learnerByULN", times=5)
    assert sorted(entry["outcome"] for entry in calls) == ["503", "503", "WSEC0999", "WSRC0004", "WSRC0004"]


def test_no_retry_on_what_the_mis_must_fix(lrs):
    with lrs.fault("learnerByULN", "fault", code="WSEC0005", times=3), pytest.raises(Fault, match="password"):
        register_of(lrs).find(**AMELIA)
    lrs.assert_called("learnerByULN", times=1)


def test_gives_up_after_three_attempts(lrs):
    started = time.monotonic()
    with lrs.fault("learnerByULN", "drop", times=None), pytest.raises(requests.ConnectionError):
        register_of(lrs).find(**AMELIA)
    assert time.monotonic() - started < 10
    lrs.assert_called("learnerByULN", times=3, outcome="dropped")


def test_an_age_rule_under_the_clock(lrs):
    """Born 1 September 2014: 12 on the last day of August 2027, 13 the next morning."""
    young = {**NEW, "DateOfBirth": "2014-09-01"}
    mis = register_of(lrs, capture=False)  # `lrs-ws check` judges an age by today, not by the sandbox's clock
    with lrs.clock("2027-08-31T16:00:00"), pytest.raises(RegistrationRefused) as refused:
        mis.register(young)
    assert refused.value.code == "WSEC0001"
    (entry,) = lrs.assert_called("registerSingleLearner", times=1)
    assert "DateOfBirth" in entry["problem"]
    with lrs.clock("2027-09-01T09:00:00"):
        assert mis.register(young)


def test_an_organisation_of_its_own(lrs):
    """What tests running side by side on one sandbox use (pytest-xdist, several pipelines)."""
    mine = lrs.new_organisation("example suite")
    mis = register_of(lrs, mine.credentials())
    mis.register(NEW)
    lrs.assert_called("registerSingleLearner", times=1, ukprn=mine.ukprn)
    lrs.assert_called("registerSingleLearner", times=0, ukprn=lrs.credentials["UKPRN"])


def test_a_planted_learner_is_matched_by_the_real_rules(lrs):
    (uln,) = lrs.plant([{**NEW, "GivenName": "Rhiannon", "FamilyName": "Price-Jones"}])
    mis = register_of(lrs)
    assert mis.find(uln, "Price-Jones", "Rhiannon") is not None
    assert mis.find(uln, "Price Jones", "Rhiannon") is None  # a possible match only: the MIS asks a person
    lrs.assert_called("learnerByULN", times=1, outcome="WSRC0003")
