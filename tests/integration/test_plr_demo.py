"""The demo PLR scenarios through authenticate + get_learning_events, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date

import pytest

from lrs_ws.domain.codes import ErrorCode
from lrs_ws.domain.roles import Operation
from lrs_ws.services.auth import AccessDenied, Credentials, authenticate
from lrs_ws.services.plr import PlrQuery, get_learning_events
from tests.conftest import DEMO

ORG = DEMO["organisation"]


def credentials(username: str = "online") -> Credentials:
    return Credentials(ukprn=ORG["ukprn"], organisation_ref=None, password=ORG["password"], username=username)


def query_of(request: dict, brief: bool = False) -> PlrQuery:
    born = request.get("DateOfBirth")
    return PlrQuery(
        uln=request["ULN"], given_name=request["GivenName"], family_name=request["FamilyName"],
        date_of_birth=date.fromisoformat(born) if born else None, gender=request.get("Gender"), brief=brief,
    )


@pytest.mark.parametrize("scenario", DEMO["plr_scenarios"], ids=lambda s: s["name"])
def test_demo_plr_scenarios_give_their_documented_outcome(runtime, scenario) -> None:
    with runtime.unit_of_work() as uow:
        caller = authenticate(uow, credentials(), Operation.READ_PLR, now=uow.clock.now())
        result = get_learning_events(uow, caller, query_of(scenario["request"]), runtime.clock.now())
    assert result.code.value == scenario["ResponseCode"]
    assert result.found_uln == scenario["FoundULN"]
    assert result.incoming_uln == scenario["request"]["ULN"]
    assert [e.id for e in result.events] == scenario["EventIDs"]
    assert all(e.restriction == "0" for e in result.events)


def test_brief_returns_the_same_events_with_fewer_fields(runtime) -> None:
    request = {"ULN": "9105106906", "GivenName": "Amelia", "FamilyName": "Hughes"}
    with runtime.unit_of_work() as uow:
        caller = authenticate(uow, credentials(), Operation.READ_PLR, now=uow.clock.now())
        full = get_learning_events(uow, caller, query_of(request), runtime.clock.now())
    with runtime.unit_of_work() as uow:
        brief = get_learning_events(uow, caller, query_of(request, brief=True), runtime.clock.now())
    assert [e.id for e in brief.events] == [e.id for e in full.events]
    assert all(e.achievement_provider_name is None and e.date_loaded is None for e in brief.events)
    assert [e.subject for e in brief.events] == [e.subject for e in full.events]


def test_only_learner_record_users_may_read_a_plr(runtime) -> None:
    with runtime.unit_of_work() as uow, pytest.raises(AccessDenied) as denied:
        authenticate(uow, credentials("viewonly"), Operation.READ_PLR, now=uow.clock.now())
    assert denied.value.code is ErrorCode.INSUFFICIENT_ACCESS
