"""What the server refuses in a request beyond its schema, before it looks at the register: the
same domain rules, run on the message's values.

Calendar dates (the schemas' patterns admit 2007-02-30), ages, the learner rules of a
registration (prohibited words, a description with VerificationType 999, ...), an update's
rules on the fields it changes (a mandatory field cleared, ...), and a batch's count of learners
(WSRC0017). An update is judged against a learner who agrees with nothing it sends, so every
field sent counts as changed: what the live register holds can still make a difference.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from lxml import etree

from lrs_ws.contract.namespaces import BATCHMSG, FINDMSG, REGMSG, REPORTMSG, TEMPURI, VLDMSG
from lrs_ws.domain.errors import AbilityToShareRefused, InvalidField
from lrs_ws.domain.learner import DATE_FIELDS, DETAIL_FIELDS, FIELD_NAMES, Learner
from lrs_ws.domain.rules import DEFAULT_PROHIBITED_WORDS, calendar_date, decide_update, details_to_register, validate_details

# (the element the problem is at, its path below the message, the reason)
Found = tuple[etree._Element, str, str]
Rule = Callable[[etree._Element, date], list[Found]]


def _dates(message: etree._Element, *paths: str) -> list[Found]:
    found = []
    for path in paths:
        element = message.find(path)
        if element is not None and element.text:
            shown = re.sub(r"\{[^}]*\}", "", path)  # local names, as every path is shown
            try:
                calendar_date(shown, element.text)
            except InvalidField as invalid:
                found.append((element, shown, invalid.reason))
    return found


def _learner_values(learner: etree._Element, prefix: str) -> tuple[dict[str, object], list[Found]]:
    """The detail fields sent in `learner` (absent ones left out; empty ones None), dates parsed."""
    values: dict[str, object] = {}
    problems: list[Found] = []
    for child in learner:
        field = FIELD_NAMES.get(str(child.tag))
        if field not in DETAIL_FIELDS:
            continue
        text = child.text or ""
        if field in DATE_FIELDS and text:
            try:
                values[field] = calendar_date(str(child.tag), text)
            except InvalidField as invalid:
                problems.append((child, f"{prefix}{invalid.field}", invalid.reason))
        else:
            values[field] = text or None
    return values, problems


def _invalid(learner: etree._Element, prefix: str, invalid: InvalidField) -> Found:
    element = learner.find(invalid.field)
    return (learner if element is None else element, f"{prefix}{invalid.field}", invalid.reason)


def _judge_learner(message: etree._Element, judge: Callable[[dict[str, Any]], InvalidField | None]) -> list[Found]:
    """The message's Learner read as the service reads it, then judged by a rule of the service."""
    learner = message.find("Learner")
    if learner is None:
        return []
    values, problems = _learner_values(learner, "Learner/")
    if problems:
        return problems
    invalid = judge(values)
    return [] if invalid is None else [_invalid(learner, "Learner/", invalid)]


def _register(message: etree._Element, today: date) -> list[Found]:
    def judge(values: dict[str, Any]) -> InvalidField | None:
        try:
            validate_details(details_to_register(values), today, DEFAULT_PROHIBITED_WORDS)
        except InvalidField as invalid:
            return invalid
        return None

    return _judge_learner(message, judge)


# Agrees with no name, postcode or date an MIS would send, and breaks no rule itself.
_NOBODY = Learner(
    given_name="\u2063", family_name="\u2063", date_of_birth=date(1, 1, 1), gender="9", last_known_post_code="\u2063",
    verification_type="0", ability_to_share="0", created_date=date(1, 1, 1), last_updated_date=date(1, 1, 1), uln="",
)


def _update(message: etree._Element, today: date) -> list[Found]:
    def judge(values: dict[str, Any]) -> InvalidField | None:
        refusal = decide_update(_NOBODY, values, today, DEFAULT_PROHIBITED_WORDS).refusal
        assert not isinstance(refusal, AbilityToShareRefused)  # nobody has seen the notice
        return refusal

    return _judge_learner(message, judge)


def _count(message: etree._Element, today: date) -> list[Found]:
    declared = message.find("LearnerRecordCount")
    if declared is None:
        return []
    sent = len(message.findall("Learner"))
    try:
        count = int((declared.text or "").strip())  # xs:int: "+3" is 3
    except ValueError:  # the schema said so already
        return []
    if count != sent:
        return [(declared, "LearnerRecordCount", f"is {count} but {sent} learners are sent (answered WSRC0017)")]
    return []


RULES: dict[str, Rule] = {
    f"{{{FINDMSG}}}FindLearnerByDemographics": lambda message, today: _dates(message, "DateOfBirth"),
    f"{{{REGMSG}}}RegisterLearner": _register,
    f"{{{REGMSG}}}UpdateLearner": _update,
    f"{{{BATCHMSG}}}SubmitBatch": _count,
    f"{{{VLDMSG}}}SubmitVerifyBatch": _count,
    f"{{{REPORTMSG}}}VerifyLearner": lambda message, today: _dates(message, "LearnerToVerify/DateOfBirth"),
    f"{{{TEMPURI}}}GetLearnerLearningEvents": lambda message, today: _dates(message, f"{{{TEMPURI}}}dateOfBirth"),
}


def request_problems(message: etree._Element, today: date) -> list[Found]:
    """What the server would refuse in `message` (valid against the schemas) before looking at the register."""
    rule = RULES.get(str(message.tag))
    return [] if rule is None else rule(message, today)
