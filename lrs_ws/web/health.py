"""GET /health: whether this worker can serve, for monitors and load balancers (JSON)."""
from __future__ import annotations

import logging

from lrs_ws.runtime import Runtime
from lrs_ws.services.ports import DatabaseUnavailable
from lrs_ws.web.answers import Answer, json_answer
from lrs_ws.worker import served_worker_state

log = logging.getLogger(__name__)


def health_answer(runtime: Runtime) -> Answer:
    """200 when the database answers with the current schema, with the state of the batch worker
    `serve` runs (which never changes the status code); 503 and the reason when not."""
    try:
        with runtime.unit_of_work() as uow:
            uow.ping()
            worker = served_worker_state(uow, runtime.batch_worker)  # its reasons: `lrs-ws batch status`
    except DatabaseUnavailable as unavailable:  # the reason only: paths and hosts go to the log
        log.warning("health check: %s", unavailable)
        return health_refusal(503, unavailable.reason)
    except Exception as error:  # reported, never raised: the health check must answer
        log.warning("health check failed: %s", error)
        return health_refusal(503, error.__class__.__name__)
    return json_answer(200, {"status": "ok", "batch_worker": worker.value})


def health_refusal(status: int, reason: str) -> Answer:
    """The health check's error form, its refusals included: what a monitor reads, in JSON."""
    return json_answer(status, {"status": "unavailable", "reason": reason})
