"""The pytest plugin of lrs-ws (entry point `pytest11: lrs_ws`): fixtures for testing an MIS
against a sandbox server.

- `lrs_sandbox` (session): a server of the run's own (`lrs-ws serve --sandbox` on a temporary
  SQLite register with the demo data), or the one named by `--lrs-url URL --lrs-token TOKEN`
  (`LRS_WS_URL`, `LRS_WS_SANDBOX_TOKEN`); an :class:`lrs_ws.testing.LrsSandbox`.
- `lrs` (function): `lrs_sandbox`, reset to its baseline first.
- `lrs_client`, `lrs_r9_client` (function): zeep services of the two endpoints, built from the
  served WSDLs (zeep is imported only when they are used).
"""
from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from typing import Any

import pytest

from lrs_ws.testing.sandbox import LrsSandbox, StartedSandbox

LEARNER_BINDING = "{http://tempuri.org/}BasicHttpBinding_LearnerPortType"
R9_BINDING = "{http://tempuri.org/}BasicHttpBinding_ILearnerServiceR9"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lrs-ws", "lrs-ws sandbox")
    group.addoption("--lrs-url", default=os.environ.get("LRS_WS_URL"),
                    help="use the lrs-ws sandbox running at this URL (default: start one; env LRS_WS_URL)")
    group.addoption("--lrs-token", default=os.environ.get("LRS_WS_SANDBOX_TOKEN"),
                    help="its sandbox token (env LRS_WS_SANDBOX_TOKEN)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--lrs-url") and not config.getoption("--lrs-token"):
        raise pytest.UsageError("--lrs-url needs --lrs-token (or LRS_WS_SANDBOX_TOKEN)")


@pytest.fixture(scope="session")
def lrs_sandbox(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LrsSandbox]:
    url, token = request.config.getoption("--lrs-url"), request.config.getoption("--lrs-token")
    if url:
        yield LrsSandbox(url, token)
        return
    started = StartedSandbox(tmp_path_factory.mktemp("lrs-ws"))
    atexit.register(started.stop)  # an interrupted run stops it too
    try:
        yield LrsSandbox(started.url, started.token)
    finally:
        started.stop()


@pytest.fixture
def lrs(lrs_sandbox: LrsSandbox) -> LrsSandbox:
    lrs_sandbox.reset()
    return lrs_sandbox


@pytest.fixture(scope="session")
def _lrs_zeep_clients(lrs_sandbox: LrsSandbox) -> dict[str, Any]:
    import zeep

    return {"learner": zeep.Client(lrs_sandbox.wsdl_url), "r9": zeep.Client(lrs_sandbox.r9_wsdl_url)}


@pytest.fixture
def lrs_client(lrs_sandbox: LrsSandbox, _lrs_zeep_clients: dict[str, Any]) -> Any:
    """The Learner Register (learnerByULN, registerSingleLearner, ...) as a zeep service."""
    return _lrs_zeep_clients["learner"].create_service(LEARNER_BINDING, lrs_sandbox.learner_service_url)


@pytest.fixture
def lrs_r9_client(lrs_sandbox: LrsSandbox, _lrs_zeep_clients: dict[str, Any]) -> Any:
    """The learning records service (GetLearnerLearningEvents, LearnerByUln, ...) as a zeep service."""
    return _lrs_zeep_clients["r9"].create_service(R9_BINDING, lrs_sandbox.r9_url)
