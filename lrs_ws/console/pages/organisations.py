"""Organisations and users: the sandbox's every organisation, or a super user's own, with each
user's roles (never a password or its hash)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lrs_ws.services import console

if TYPE_CHECKING:
    from lrs_ws.console.app import ConsoleApp, Page, RouteTable
    from lrs_ws.web.answers import Answer


def routes(console_app: ConsoleApp) -> RouteTable:
    return {"/organisations": {"GET": organisations_page}}


def organisations_page(page: Page) -> Answer:
    with page.runtime.unit_of_work() as uow:
        shown = console.organisations(uow, page.viewer)
    return page.render("organisations.html", organisations=shown, role_names=console.role_names)
