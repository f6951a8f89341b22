"""The console's pages, one module per part of the navigation; each gives its routes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lrs_ws.console.pages import health, jobs, learners, organisations, requests, sandbox_controls

if TYPE_CHECKING:
    from lrs_ws.console.app import ConsoleApp, RouteTable


def routes(console: ConsoleApp) -> RouteTable:
    table: RouteTable = {}
    for module in (learners, jobs, organisations, health):
        table.update(module.routes(console))
    if console.sandbox:  # the journal, faults, clock and scenarios exist in sandbox mode only
        for module in (requests, sandbox_controls):
            table.update(module.routes(console))
    return table
