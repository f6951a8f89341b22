"""(being written)"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lrs_ws.console.app import ConsoleApp, RouteTable


def routes(console: ConsoleApp) -> RouteTable:
    return {}
