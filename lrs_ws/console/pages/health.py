"""Health: what /health says (the database, the batch worker serve runs), every batch worker's
report, and the clock the register reads."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lrs_ws import __version__
from lrs_ws.clock import SYSTEM_CLOCK
from lrs_ws.services import batch_workers
from lrs_ws.services.ports import DatabaseUnavailable
from lrs_ws.worker import report_gone, served_worker_state

if TYPE_CHECKING:
    from lrs_ws.console.app import ConsoleApp, Page, RouteTable
    from lrs_ws.web.answers import Answer


def routes(console: ConsoleApp) -> RouteTable:
    return {"/health": {"GET": health_page}}


def health_page(page: Page) -> Answer:
    from lrs_ws.adapters.engines import redacted

    runtime = page.runtime
    problem, served, workers, now = None, None, [], None
    try:
        with runtime.unit_of_work() as uow:
            uow.ping()
            now = uow.clock.now()
            served = served_worker_state(uow, runtime.batch_worker)
            workers = batch_workers.every_worker(uow, SYSTEM_CLOCK.now(), report_gone)
    except DatabaseUnavailable as unavailable:
        problem = unavailable.reason
    # The deployment's detail (database, hosts, processes) is the operator's: the sandbox token's
    # holder sees it; a super user of one organisation sees how the service is, not where it runs.
    operator = page.viewer.sandbox
    states = sorted({worker.state.value for worker in workers})
    return page.render(
        "health.html", 200 if problem is None else 503, problem=problem, served=served,
        workers=workers if operator else [], worker_states=", ".join(f"{sum(w.state.value == s for w in workers)} {s}" for s in states),
        register_now=now, host_now=SYSTEM_CLOCK.now(), version=__version__,
        database=redacted(runtime.settings.database_url) if operator else None, public_url=runtime.settings.public_url,
    )
