"""The same learners through the single operations and through a batch job: each pair of outcomes
holds to the correspondence in docs/our-readings.md ("Batch and the single operations").

The single path is what an MIS does one learner at a time: without a ULN, learnerByDemographics
(FUL) and, when nothing is found, registerSingleLearner; with a ULN, learnerByULN and, when the
learner is found, updateSingleLearner with the fields it holds. The batch path is one FUL job's
learner. Both run on copies of the same register (the demo learners), in memory.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lrs_ws.domain.batch import JobType, LearnerOutcome, ReturnCode
from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.errors import InvalidField
from lrs_ws.domain.learner import DETAIL_FIELDS, FIELD_NAMES, Learner
from lrs_ws.domain.matching import SearchKey
from lrs_ws.domain.rules import DEFAULT_PROHIBITED_WORDS, calendar_date, details_to_register
from lrs_ws.domain.uln import check_digit
from lrs_ws.services import find, register, update
from lrs_ws.services.batch_learner import BatchRules, process_learner
from lrs_ws.services.ports import Caller
from lrs_ws.services.seed import load_demo_file

from .fakes import FakeUnitOfWork, demo_register

DEMO = load_demo_file()
FIND_WINDOW = timedelta(minutes=30)
LIMIT = 10
STORED = {row["ULN"]: row for row in DEMO["learners"]}
NEVER_ISSUED = "1026893096"


def _caller(uow: FakeUnitOfWork) -> Caller:
    organisation = uow.organisations.by_ukprn(DEMO["organisation"]["ukprn"])
    user = uow.organisations.user(organisation.id, "online")
    return Caller(organisation.id, organisation.name, user.id, user.username, user.roles)


SEEDED = demo_register()
CALLER = _caller(SEEDED)


def _typo(name: str) -> str:
    """Another name, not a spelling of this one (no case or spacing variants: a batch reads those
    as the same name and a single update does not; that difference is stated on its own)."""
    return name[:1] + "zq" + name[1:]


@dataclass(frozen=True)
class Sent:
    row: dict[str, str]  # the learner as an MIS sends it (wire names, text)

    @property
    def details(self) -> dict[str, object]:
        """The fields sent, by field name, as the single operations read them (dates parsed)."""
        return {
            FIELD_NAMES[wire]: calendar_date(wire, text) if wire in ("DateOfBirth", "DateOfAddressCapture") else text
            for wire, text in self.row.items()
            if wire in FIELD_NAMES and FIELD_NAMES[wire] in DETAIL_FIELDS and text
        }


@st.composite
def learners_sent(draw) -> Sent:
    base = STORED[draw(st.sampled_from(sorted(STORED)))]
    row = {name: base[name] for name in ("GivenName", "FamilyName", "DateOfBirth", "Gender", "LastKnownPostCode")}
    given_name = draw(st.sampled_from(["same"] * 7 + ["typo", "other", "prohibited"]))
    if given_name != "same":
        row["GivenName"] = {"typo": _typo(row["GivenName"]), "other": "Zainab", "prohibited": "Test"}[given_name]
    if draw(st.integers(0, 5)) == 0:
        row["FamilyName"] = _typo(row["FamilyName"])
    if draw(st.integers(0, 3)) == 0:
        born = date.fromisoformat(row["DateOfBirth"]) + timedelta(days=draw(st.sampled_from([1, 31, 365, -400])))
        row["DateOfBirth"] = born.isoformat()
    if draw(st.integers(0, 3)) == 0:
        row["Gender"] = "2" if row["Gender"] == "1" else "1"
    if draw(st.integers(0, 2)) == 0:
        row["LastKnownPostCode"] = draw(st.sampled_from(["M60 1QD", "B15 2TT", "LS1 4AP"]))
    if draw(st.booleans()):
        row["EmailAddress"] = draw(st.sampled_from(["a.learner@example.org", "other@example.org"]))
    share = draw(st.sampled_from([None, "0", "1", "2"]))
    if share is not None:
        row["AbilityToShare"] = share
    uln = draw(st.sampled_from(["own", "own", "none", "none", "bad check digit", "never issued"]))
    if uln == "own":
        row["ULN"] = base["ULN"]
    elif uln == "bad check digit":
        row["ULN"] = base["ULN"][:9] + str((int(check_digit(base["ULN"][:9])) + 1) % 10)
    elif uln == "never issued":
        row["ULN"] = NEVER_ISSUED
    return Sent(row)


# --------------------------------------------------------------------------- the two paths


@dataclass(frozen=True)
class Single:
    steps: tuple[str, ...]  # the codes of each operation called, in order
    uln: str | None = None  # the ULN found or issued
    learner: Learner | None = None  # the record registered or updated


def single(uow: FakeUnitOfWork, sent: Sent, now, rng: random.Random) -> Single:
    details = sent.details
    if sent.row.get("ULN"):
        found = find.find_by_uln(uow, CALLER, sent.row["ULN"], sent.row["FamilyName"], sent.row["GivenName"], now)
        if found.code not in (ResponseCode.EXACT_MATCH, ResponseCode.POSSIBLE_MATCHES):
            uln = found.learners[0].learner.uln if found.learners else None
            return Single((found.code.value,), uln)
        current = found.learners[0].learner
        try:
            code = update.update(
                uow, CALLER, current.uln, current.version_number, details, now=now, prohibited_words=DEFAULT_PROHIBITED_WORDS
            )
        except InvalidField as invalid:
            return Single((found.code.value, f"WSEC0001 {invalid.field}"), current.uln)
        return Single((found.code.value, code.value), current.uln, uow.learners.get(current.uln))
    search = SearchKey(
        sent.row["GivenName"], sent.row["FamilyName"], calendar_date("DateOfBirth", sent.row["DateOfBirth"]),
        sent.row["Gender"], sent.row["LastKnownPostCode"],
    )
    found = find.find_by_demographics(uow, CALLER, search, full=True, possible_match_limit=LIMIT, now=now)
    if found.code is not ResponseCode.NO_MATCH:
        uln = found.learners[0].learner.uln if found.code in (ResponseCode.EXACT_MATCH, ResponseCode.MASTER_SUBSTITUTED) else None
        return Single((found.code.value,), uln)
    try:
        registered = register.register(
            uow, CALLER, details_to_register(details), now=now, find_window=FIND_WINDOW,
            prohibited_words=DEFAULT_PROHIBITED_WORDS, rng=rng,
        )
    except InvalidField as invalid:
        return Single((found.code.value, f"WSEC0001 {invalid.field}"))
    learner = uow.learners.get(registered.uln) if registered.uln else None
    return Single((found.code.value, registered.code.value), registered.uln, learner)


def batch(uow: FakeUnitOfWork, sent: Sent, now, rng: random.Random) -> LearnerOutcome:
    return process_learner(uow, JobType.FULL, sent.row, now=now, rules=BatchRules(DEFAULT_PROHIBITED_WORDS, LIMIT, rng))


KEY_FIELDS = ("GivenName", "FamilyName", "DateOfBirth", "Gender", "LastKnownPostCode")


def _key_fields_changed(sent: Sent, stored_uln: str) -> int:
    stored = STORED[stored_uln]
    return sum(sent.row[name] != stored[name] for name in KEY_FIELDS)


def expected(single_outcome: Single, sent: Sent) -> set[ReturnCode]:
    """The batch codes that correspond to what the single operations answered."""
    steps = single_outcome.steps
    if not sent.row.get("ULN"):
        return {
            ("WSRC0004",): {ReturnCode.MATCHED},
            ("WSRC0022",): {ReturnCode.MASTER_RETURNED},
            ("WSRC0003",): {ReturnCode.POSSIBLE_MATCHES},
            ("WSRC0002",): {ReturnCode.TOO_MANY_MATCHES},
            ("WSRC0001", "WSRC0005"): {ReturnCode.CREATED},
        }.get(steps, {ReturnCode.INVALID} if steps[0] == "WSRC0001" and steps[1].startswith("WSEC0001") else set())
    if steps == ("WSRC0001",):  # not found by ULN: never issued (or a bad check digit), or the names disagree
        return {ReturnCode.ULN_NOT_FOUND} if sent.row["ULN"] not in STORED else {ReturnCode.DETAILS_DISAGREE}
    if steps == ("WSRC0022",):
        return {ReturnCode.MASTER_RETURNED}
    if _key_fields_changed(sent, sent.row["ULN"]) > 1:  # a batch changes one key field at most
        return {ReturnCode.DETAILS_DISAGREE}
    return {
        "WSRC0006": {ReturnCode.UPDATED},
        "WSRC0020": {ReturnCode.ULN_CONFIRMED},
        "WSRC0014": {ReturnCode.INVALID},
    }.get(steps[1], {ReturnCode.INVALID} if steps[1].startswith("WSEC0001") else set())


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(learners_sent(), st.integers(0, 2**32))
def test_a_batch_answers_what_the_single_operations_answer(sent: Sent, seed: int):
    single_uow, batch_uow = demo_register(), demo_register()
    now = single_uow.clock.now()
    one = single(single_uow, sent, now, random.Random(seed))
    outcome = batch(batch_uow, sent, now, random.Random(seed))
    event(f"{one.steps} -> {outcome.code.value}")
    assert outcome.code in expected(one, sent), (sent.row, one.steps, outcome)
    if outcome.code in (ReturnCode.MATCHED, ReturnCode.MASTER_RETURNED, ReturnCode.UPDATED, ReturnCode.ULN_CONFIRMED):
        assert outcome.uln == one.uln  # the same learner
    if outcome.code in (ReturnCode.CREATED, ReturnCode.UPDATED):
        # the same record written: the same details (a new learner's ULN is drawn at random)
        written = batch_uow.learners.get(outcome.uln)
        assert one.learner is not None and written is not None
        assert written.details() == one.learner.details(), (sent.row, one.steps)
        assert written.version_number == one.learner.version_number
    if outcome.code not in (ReturnCode.CREATED, ReturnCode.UPDATED):
        assert batch_uow.learners.rows == SEEDED.learners.rows  # nothing written
