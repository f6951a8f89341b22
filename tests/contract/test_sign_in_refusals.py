"""Refused requests: the backoff after wrong passwords, and the audit row of every refusal.

In-process (zeep over the WSGI app), with the client's address set as a server would set
REMOTE_ADDR, and the settable test clock moving time on.
"""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import requests
import zeep
import zeep.exceptions
from sqlalchemy import select

from lrs_ws.adapters.orm import audit_events, sign_in_failures
from lrs_ws.contract.namespaces import EXCEPTIONS, QCF_FAULTS
from lrs_ws.domain import passwords
from tests.conftest import BINDING, BINDING_R9, LEARNER_SERVICE, LEARNER_SERVICE_R9, PUBLIC_URL
from tests.contract.conftest import credentials, invoking_organisation

AMELIA = {"ULN": "9105106906", "GivenName": "Amelia", "FamilyName": "Hughes"}
FREE_FAILURES = 3


class ClientAddress:
    """WSGI middleware: requests come from `address`, as the HTTP server reports it."""

    def __init__(self, app) -> None:
        self.app = app
        self.address = "192.0.2.10"

    def __call__(self, environ, start_response):
        return self.app({**environ, "REMOTE_ADDR": self.address}, start_response)


@pytest.fixture
def served(runtime):
    from wsgiadapter import WSGIAdapter

    from lrs_ws.bootstrap import web_app

    settings = dataclasses.replace(runtime.settings, sign_in_failures=FREE_FAILURES, sign_in_backoff_max=8.0)
    app = ClientAddress(web_app(dataclasses.replace(runtime, settings=settings)))
    session = requests.Session()
    session.mount(PUBLIC_URL, WSGIAdapter(app))
    client = zeep.Client(f"{LEARNER_SERVICE}?singlewsdl", transport=zeep.Transport(session=session))
    r9 = zeep.Client(f"{LEARNER_SERVICE_R9}?singlewsdl", transport=zeep.Transport(session=session))
    return app, client.create_service(BINDING, LEARNER_SERVICE), r9.create_service(BINDING_R9, LEARNER_SERVICE_R9)


@pytest.fixture
def scrypt_runs(monkeypatch):
    """How many passwords were really hashed (not answered from the verified cache)."""
    runs = []
    real = passwords._verify_uncached
    monkeypatch.setattr(passwords, "_verify_uncached", lambda *args: runs.append(1) or real(*args))
    passwords.clear_cache()
    return runs


def find(lrs, **overrides):
    return lrs.learnerByULN(FindType="FUL", **credentials(**overrides), **AMELIA)


def refusal(lrs, **overrides) -> tuple[str, str]:
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        find(lrs, **overrides)
    detail = excinfo.value.detail.find(f"{{{EXCEPTIONS}}}MIAPAPIException")
    return detail.findtext("ErrorCode"), detail.findtext("FurtherDetails")


def audit_rows(engine) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(audit_events).order_by(audit_events.c.id)).mappings()]


def test_wrong_passwords_back_off_and_cost_no_scrypt_while_blocked(served, engine, clock, scrypt_runs) -> None:
    _, lrs, _ = served
    for attempt in range(FREE_FAILURES):
        code, detail = refusal(lrs, OrgPassword=f"WrongPassword{attempt:03d}")
        assert (code, detail) == ("WSEC0005", "The password is incorrect for this organisation")
    assert len(scrypt_runs) == FREE_FAILURES
    # Blocked now: wrong and right passwords alike are refused, and none is hashed.
    for attempt in range(10):
        code, detail = refusal(lrs, OrgPassword=f"AnotherWrong{attempt:04d}")
        assert code == "WSEC0005" and "sign-in is refused for 1 more seconds" in detail
    code, detail = refusal(lrs)  # the correct password
    assert code == "WSEC0005" and "Too many incorrect passwords" in detail
    assert len(scrypt_runs) == FREE_FAILURES

    clock.at += timedelta(seconds=1)  # the block ends: the correct password works and clears the count
    assert find(lrs).ResponseCode == "WSRC0004"
    with engine.connect() as connection:
        assert connection.execute(select(sign_in_failures)).all() == []


def test_each_further_failure_doubles_the_block_up_to_the_cap(served, clock) -> None:
    _, lrs, _ = served
    blocks = []
    for attempt in range(FREE_FAILURES + 5):
        code, detail = refusal(lrs, OrgPassword=f"WrongPassword{attempt:03d}")
        assert code == "WSEC0005"
        if attempt >= FREE_FAILURES - 1:
            blocked = refusal(lrs, OrgPassword="WrongButBlocked1")[1]
            blocks.append(int(blocked.split("refused for ")[1].split()[0]))
            clock.at += timedelta(seconds=blocks[-1])
    assert blocks == [1, 2, 4, 8, 8, 8]  # sign_in_backoff_max is 8 s here


def test_the_backoff_is_per_address_and_per_organisation(served, clock) -> None:
    app, lrs, _ = served
    for attempt in range(FREE_FAILURES):
        refusal(lrs, OrgPassword=f"WrongPassword{attempt:03d}")
    assert "Too many" in refusal(lrs)[1]
    app.address = "198.51.100.7"  # another client of the same organisation is not blocked
    assert find(lrs).ResponseCode == "WSRC0004"


def test_every_refusal_is_audited_with_its_reason_and_address(served, engine) -> None:
    _, lrs, r9 = served
    refusal(lrs, UKPRN="99999999")
    refusal(lrs, OrgPassword="WrongPassword000")
    refusal(lrs, UserName="nobody")
    with pytest.raises(zeep.exceptions.Fault):
        lrs.registerSingleLearner(
            **credentials("viewonly"),
            Learner={
                "GivenName": "Ann",
                "FamilyName": "Baker",
                "DateOfBirth": "2001-01-01",
                "Gender": "2",
                "LastKnownPostCode": "B1 1AA",
                "AbilityToShare": "1",
            },
        )
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        r9.GetLearnerLearningEvents(
            invokingOrganisation=invoking_organisation("viewonly"), userType="LNR", vendorID=0, language="ENG",
            uln=AMELIA["ULN"], givenName="Amelia", familyName="Hughes", getType="FULL",
        )
    assert excinfo.value.detail.findtext(f".//{{{QCF_FAULTS}}}ErrorCode") == "WSEC0006"
    rows = audit_rows(engine)
    assert [(r["operation"], r["organisation_id"] is not None, r["username"], r["outcome"], r["address"]) for r in rows] == [
        ("learnerByULN", False, "online", "WSEC0003 unknown organisation", "192.0.2.10"),
        ("learnerByULN", True, "online", "WSEC0005 wrong password", "192.0.2.10"),
        ("learnerByULN", True, "nobody", "WSEC0006 insufficient access", "192.0.2.10"),
        ("registerSingleLearner", True, "viewonly", "WSEC0006 insufficient access", "192.0.2.10"),
        ("GetLearnerLearningEvents", True, "viewonly", "WSEC0006 insufficient access", "192.0.2.10"),
    ]
    assert all(r["at"] is not None for r in rows)


def test_a_rule_break_after_sign_in_is_audited_and_writes_nothing_else(served, engine) -> None:
    _, lrs, _ = served
    too_young = {"GivenName": "Tom", "FamilyName": "Baker", "DateOfBirth": "2020-01-01", "Gender": "1", "LastKnownPostCode": "B1 1AA"}
    lrs.learnerByDemographics(FindType="FUL", **credentials(), **too_young)
    with pytest.raises(zeep.exceptions.Fault):
        lrs.registerSingleLearner(**credentials(), Learner={**too_young, "AbilityToShare": "1"})
    last = audit_rows(engine)[-1]
    assert last["operation"] == "registerSingleLearner" and last["outcome"].startswith("WSEC0001 Learner/DateOfBirth")
    assert last["uln"] is None


def test_successful_requests_carry_the_address_too(served, engine) -> None:
    _, lrs, _ = served
    assert find(lrs).ResponseCode == "WSRC0004"
    assert audit_rows(engine)[-1]["address"] == "192.0.2.10"


def test_a_correct_password_clears_the_count_even_when_the_request_then_fails(served, engine) -> None:
    _, lrs, _ = served
    for attempt in range(FREE_FAILURES - 1):
        refusal(lrs, OrgPassword=f"WrongPassword{attempt:03d}")
    assert refusal(lrs, UserName="nobody")[0] == "WSEC0006"  # the password was right, the user is not
    with engine.connect() as connection:
        assert connection.execute(select(sign_in_failures)).all() == []
    refusal(lrs, OrgPassword="WrongPassword999")  # one typo later: counted from 1, so no block yet
    assert find(lrs).ResponseCode == "WSRC0004"
