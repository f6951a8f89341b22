"""Learners: a search (by ULN, or by names and date of birth) and a learner's page (the record,
its learning events, its audit trail). Who may see what, and the audit rows each view writes,
are the rules of lrs_ws.services.console; this module reads the form and renders."""
from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from lrs_ws.domain.learner import DETAIL_FIELDS, Learner
from lrs_ws.services import console

if TYPE_CHECKING:
    from lrs_ws.console.app import ConsoleApp, Page, RouteTable
    from lrs_ws.web.answers import Answer

SEARCH_FIELDS = ("uln", "given_name", "family_name", "date_of_birth")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits: \d takes "２" too
MAX_AUDIT_PAGE = 10**6

# What the codes of a few fields mean (docs/our-readings.md; lrs_ws.domain.rules holds the codes).
CODE_MEANINGS = {
    "gender": {"0": "not known", "1": "male", "2": "female", "9": "not specified"},
    "ability_to_share": {"0": "privacy notice not seen", "1": "may be shared", "2": "must not be shared"},
}


def routes(console_app: ConsoleApp) -> RouteTable:
    return {"/learners": {"GET": search_page}, "/learners/{uln}": {"GET": learner_page}}


def search_page(page: Page) -> Answer:
    from lrs_ws.console.app import PageError

    _require_access(page)
    sent = {name: page.query.get(name, "").strip()[:200] for name in SEARCH_FIELDS}  # echoed back, never longer
    if not any(name in page.query for name in SEARCH_FIELDS):
        return page.render("learners.html", sent=sent, result=None, problem="", problem_field="")
    try:
        search = _read_search(page)
        with page.runtime.unit_of_work() as uow:
            result = console.search_learners(
                uow, page.viewer, search, uow.clock.now(), possible_match_limit=page.runtime.settings.possible_match_limit,
            )
    except (PageError, console.SearchProblem) as problem:
        message = problem.message if isinstance(problem, PageError) else str(problem)
        return page.render("learners.html", 400, sent=sent, result=None, problem=message,
                           problem_field=message.partition(":")[0])
    return page.render("learners.html", sent=sent, result=result, problem="", problem_field="",
                       gender=_coded("gender"), rule_label=_rule_label)


def learner_page(page: Page) -> Answer:
    from lrs_ws.console.app import PageError

    uln = page.params["uln"]
    audit_page = page.number("page", low=1, high=MAX_AUDIT_PAGE) or 1
    try:
        with page.runtime.unit_of_work() as uow:
            shown = console.learner_view(uow, page.viewer, uln, audit_page, uow.clock.now())
    except console.LearnersNotAllowed as refused:
        raise PageError(403, str(refused)) from None
    except console.LearnerNotFound as missing:
        raise PageError(404, str(missing)) from None
    return page.render(
        "learner.html", shown=shown, learner=shown.learner, details=_details(shown.learner),
        several_ulns=len(shown.record_ulns) > 1, page_size=console.AUDIT_TRAIL_PAGE_SIZE,
    )


def _require_access(page: Page) -> None:
    from lrs_ws.console.app import PageError

    try:
        console.require_learner_access(page.viewer)
    except console.LearnersNotAllowed as refused:
        raise PageError(403, str(refused)) from None


def _read_search(page: Page) -> console.LearnerSearch:
    """The form's values; PageError (400) names a field that cannot be read."""
    from lrs_ws.console.app import PageError

    born = page.text("date_of_birth", limit=20)
    date_of_birth = None
    if born:
        try:
            if not ISO_DATE.fullmatch(born):
                raise ValueError(born)
            date_of_birth = date.fromisoformat(born)
        except ValueError:
            raise PageError(400, "date_of_birth: a date as YYYY-MM-DD, such as 2007-03-14") from None
    return console.LearnerSearch(
        uln=page.text("uln", limit=20),
        given_name=page.text("given_name", limit=console.NAME_LENGTH),
        family_name=page.text("family_name", limit=console.NAME_LENGTH),
        date_of_birth=date_of_birth,
    )


def _details(learner: Learner) -> list[tuple[str, Any]]:
    """Every detail of the record, labelled, in the register's order; None when not held."""
    return [(_label(name), _shown(name, getattr(learner, name))) for name in DETAIL_FIELDS]


def _label(field: str) -> str:
    words = field.replace("_", " ").replace("age16", "age 16").replace("line1", "line 1").replace("line2", "line 2")
    words = words.replace("post code", "postcode")
    return words[:1].upper() + words[1:]


def _shown(field: str, value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if field in CODE_MEANINGS and value not in (None, ""):
        meaning = CODE_MEANINGS[field].get(str(value))
        return f"{value} ({meaning})" if meaning else value
    return None if value in (None, "") else value


def _coded(field: str) -> Any:
    return lambda value: _shown(field, value)


def _rule_label(rule: Any) -> str:
    return "" if rule is None else rule.value.replace("_", " ")
