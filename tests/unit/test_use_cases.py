"""The use cases of registering, updating and signing in, on the in-memory unit of work (the
same cases run against both databases in tests/contract and tests/integration)."""
from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from lrs_ws.domain.codes import ErrorCode, ResponseCode
from lrs_ws.domain.errors import InvalidField
from lrs_ws.domain.matching import SearchKey
from lrs_ws.domain.roles import Operation
from lrs_ws.domain.rules import DEFAULT_PROHIBITED_WORDS, details_to_register
from lrs_ws.domain.sign_in import Backoff
from lrs_ws.services import find, register, update
from lrs_ws.services.auth import AccessDenied, Credentials, authenticate, record_refusal
from lrs_ws.services.ports import Caller
from lrs_ws.services.seed import load_demo_file

from .fakes import FakeUnitOfWork, demo_register

DEMO = load_demo_file()
ORG = DEMO["organisation"]
WINDOW = timedelta(minutes=30)
AMELIA = "9105106906"  # AbilityToShare 1
NEWCOMER = {"given_name": "Zainab", "family_name": "Okafor", "date_of_birth": date(2006, 4, 2), "gender": "2",
            "last_known_post_code": "M60 1QD"}


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return demo_register()


def caller_of(uow: FakeUnitOfWork, username: str = "online") -> Caller:
    organisation = uow.organisations.by_ukprn(ORG["ukprn"])
    user = uow.organisations.user(organisation.id, username)
    return Caller(organisation.id, organisation.name, user.id, user.username, user.roles)


def search_for(details: dict) -> SearchKey:
    return SearchKey(details["given_name"], details["family_name"], details["date_of_birth"], details["gender"],
                     details["last_known_post_code"])


def register_newcomer(uow: FakeUnitOfWork, searched: bool = True, **changes):
    details = {**NEWCOMER, **changes}
    caller = caller_of(uow)
    now = uow.clock.now()
    if searched:
        find.find_by_demographics(uow, caller, search_for(details), full=True, possible_match_limit=10, now=now)
    return register.register(
        uow, caller, details_to_register(details), now=now, find_window=WINDOW,
        prohibited_words=DEFAULT_PROHIBITED_WORDS, rng=random.Random(5),
    )


# --- register ----------------------------------------------------------------------------------


def test_register_after_a_search_issues_a_new_uln_and_audits_it(uow):
    result = register_newcomer(uow)
    assert result.code is ResponseCode.LEARNER_REGISTERED
    stored = uow.learners.get(result.uln)
    assert (stored.given_name, stored.version_number, stored.created_date) == ("Zainab", 1, uow.clock.now().date())
    assert stored.last_known_post_code == "M60 1QD" and stored.ability_to_share == "0" and stored.verification_type == "0"
    assert uow.audit.rows[-1]["operation"] == "registerSingleLearner" and uow.audit.rows[-1]["outcome"] == "WSRC0005"


def test_register_without_a_search_is_refused_and_writes_no_learner(uow):
    before = dict(uow.learners.rows)
    result = register_newcomer(uow, searched=False)
    assert result.code is ResponseCode.REGISTRATION_REFUSED and "no FUL demographic search" in result.reason
    assert uow.learners.rows == before


def test_register_after_the_window_is_refused(uow):
    caller, details = caller_of(uow), dict(NEWCOMER)
    find.find_by_demographics(uow, caller, search_for(details), full=True, possible_match_limit=10, now=uow.clock.now())
    uow.clock.at += WINDOW + timedelta(seconds=1)
    result = register.register(uow, caller, details_to_register(details), now=uow.clock.now(), find_window=WINDOW,
                               prohibited_words=DEFAULT_PROHIBITED_WORDS, rng=random.Random(5))
    assert result.code is ResponseCode.REGISTRATION_REFUSED


def test_a_second_register_of_the_same_learner_is_refused(uow):
    first = register_newcomer(uow)
    second = register_newcomer(uow)
    assert first.code is ResponseCode.LEARNER_REGISTERED
    assert second.code is ResponseCode.REGISTRATION_REFUSED and first.uln in second.reason


def test_register_breaking_a_rule_raises_invalid_field_and_writes_nothing(uow):
    before = dict(uow.learners.rows)
    with pytest.raises(InvalidField) as refused:
        register_newcomer(uow, given_name="Test")
    assert refused.value.field == "GivenName" and uow.learners.rows == before


# --- update ------------------------------------------------------------------------------------


def run_update(uow: FakeUnitOfWork, sent: dict, version: int | None = None, uln: str = AMELIA) -> ResponseCode:
    current = uow.learners.get(uln)
    version = current.version_number if version is None and current else (version or 1)
    return update.update(uow, caller_of(uow), uln, version, sent, now=uow.clock.now(), prohibited_words=DEFAULT_PROHIBITED_WORDS)


def test_update_changes_the_record_and_moves_its_version_on(uow):
    before = uow.learners.get(AMELIA)
    assert run_update(uow, {"email_address": "new@example.org"}) is ResponseCode.LEARNER_UPDATED
    after = uow.learners.get(AMELIA)
    assert after.email_address == "new@example.org" and after.version_number == before.version_number + 1
    assert after.last_updated_date == uow.clock.now().date()


@pytest.mark.parametrize(
    "sent, version, code",
    [
        ({"email_address": "x@example.org"}, 99, ResponseCode.VERSION_STALE),
        ({"ability_to_share": "0"}, None, ResponseCode.INVALID_ABILITY_TO_SHARE_CHANGE),
        ({"given_name": "Amelia"}, None, ResponseCode.NO_CHANGES),
    ],
)
def test_update_refusals_write_nothing(uow, sent, version, code):
    before = uow.learners.get(AMELIA)
    assert run_update(uow, sent, version) is code
    assert uow.learners.get(AMELIA) == before


def test_update_of_an_unknown_or_retired_uln(uow):
    assert run_update(uow, {"notes": "x"}, 1, uln="1026893096") is ResponseCode.ULN_NOT_FOUND
    assert run_update(uow, {"notes": "x"}, 1, uln="5558175256") is ResponseCode.ULN_NOT_FOUND  # retired into 2083498614


def test_update_clearing_a_mandatory_field_or_breaking_a_rule_raises(uow):
    with pytest.raises(InvalidField) as cleared:
        run_update(uow, {"family_name": ""})
    assert cleared.value.field == "FamilyName"
    with pytest.raises(InvalidField) as prohibited:
        run_update(uow, {"given_name": "Dummy"})
    assert prohibited.value.field == "GivenName"


# --- sign-in -----------------------------------------------------------------------------------


def credentials(password: str = ORG["password"], username: str = "online", address: str = "192.0.2.7") -> Credentials:
    return Credentials(ukprn=ORG["ukprn"], organisation_ref=None, password=password, username=username, address=address)


def test_sign_in_names_the_caller_and_its_roles(uow):
    caller = authenticate(uow, credentials(), Operation.FIND, now=uow.clock.now())
    assert caller.username == "online" and caller.address == "192.0.2.7" and not caller.failed_sign_ins


@pytest.mark.parametrize(
    "given, code",
    [
        (dict(password="WrongPassword000"), ErrorCode.INCORRECT_PASSWORD),
        (dict(username="nobody"), ErrorCode.INSUFFICIENT_ACCESS),
        (dict(username="viewonly"), ErrorCode.INSUFFICIENT_ACCESS),  # no role to register
    ],
)
def test_sign_in_refusals(uow, given, code):
    with pytest.raises(AccessDenied) as denied:
        authenticate(uow, credentials(**given), Operation.REGISTER, now=uow.clock.now())
    assert denied.value.code is code


def test_an_unknown_organisation_is_refused(uow):
    unknown = Credentials(ukprn="99999999", organisation_ref=None, password="x", username="online", address="a")
    with pytest.raises(AccessDenied) as denied:
        authenticate(uow, unknown, Operation.FIND, now=uow.clock.now())
    assert denied.value.code is ErrorCode.UNKNOWN_ORGANISATION


def test_wrong_passwords_back_off_then_a_right_one_after_the_block_signs_in(uow):
    backoff = Backoff(free_failures=2, max_delay=60)
    organisation_id = caller_of(uow).organisation_id
    for attempt in range(3):
        with pytest.raises(AccessDenied) as denied:
            authenticate(uow, credentials(password=f"Wrong{attempt:011d}"), Operation.FIND, now=uow.clock.now())
        record_refusal(uow, operation="learnerByULN", credentials=credentials(), organisation_id=organisation_id,
                       outcome=denied.value.outcome, now=uow.clock.now(), wrong_password=denied.value.wrong_password,
                       backoff=backoff)
    with pytest.raises(AccessDenied) as blocked:  # the right password, while blocked: not even checked
        authenticate(uow, credentials(), Operation.FIND, now=uow.clock.now())
    assert blocked.value.backoff and "more seconds" in blocked.value.detail
    authenticate(uow, credentials(address="198.51.100.1"), Operation.FIND, now=uow.clock.now())  # another address: free
    uow.clock.at += timedelta(seconds=2)
    caller = authenticate(uow, credentials(), Operation.FIND, now=uow.clock.now())
    assert caller.failed_sign_ins  # the count is there until the caller's request clears it
    # the third was refused unchecked: the second failure (the free limit) began the block
    assert [row["outcome"] for row in uow.audit.rows] == ["WSEC0005 wrong password", "WSEC0005 wrong password", "WSEC0005 backoff"]
