"""Requests: the sandbox's journal, newest first, refreshing; one request with its XML, its
problem and near misses, and the command to send it again."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lrs_ws.console.fields import is_number
from lrs_ws.console.xml_view import as_curl, highlighted
from lrs_ws.services import sandbox
from lrs_ws.services.ports import JournalFilter

if TYPE_CHECKING:
    from lrs_ws.console.app import ConsoleApp, Page, RouteTable
    from lrs_ws.web.answers import Answer

PAGE_SIZE = 100
FILTERS = ("operation", "outcome", "ukprn", "user")


def routes(console: ConsoleApp) -> RouteTable:
    return {"/requests": {"GET": journal_page}, "/requests/{id}": {"GET": request_page}}


def journal_page(page: Page) -> Answer:
    from lrs_ws.console.app import PageError

    chosen = {name: page.text(name, limit=100) for name in FILTERS}
    if chosen["ukprn"] and not is_number(chosen["ukprn"]):
        raise PageError(400, "ukprn: digits only (8 of them)")
    where = JournalFilter(
        operation=chosen["operation"] or None, outcome=chosen["outcome"] or None, ukprn=chosen["ukprn"] or None,
        user=chosen["user"] or None, limit=PAGE_SIZE,
    )
    with page.runtime.unit_of_work() as uow:
        entries = sandbox.journal(uow, where)
    return page.render("requests.html", entries=entries, chosen=chosen, query=page.environ.get("QUERY_STRING", ""))


def request_page(page: Page) -> Answer:
    from lrs_ws.console.app import PageError

    text = page.params["id"]
    if not is_number(text):
        raise PageError(404, f"No request {text!r} in the journal")
    with page.runtime.unit_of_work() as uow:
        entry = sandbox.journal_entry(uow, int(text))
    if entry is None:
        raise PageError(404, f"No request {text} in the journal (a reset empties it)")
    return page.render(
        "request.html",
        entry=entry,
        request_xml=highlighted(entry.request, entry.problem),
        response_xml=highlighted(entry.response, entry.problem),
        curl=as_curl(page.runtime.settings.endpoint(entry.endpoint), entry.soap_action, entry.request),
    )
