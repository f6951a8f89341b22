"""What answers a path under no mount: the site's own pages, and faults for the rest."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lrs_ws.domain.codes import ErrorCode
from lrs_ws.runtime import Runtime
from lrs_ws.soap.faults import MIAP
from lrs_ws.web.answers import Answer
from lrs_ws.web.health import health_answer, health_refusal
from lrs_ws.web.index_page import Described, index_page
from lrs_ws.web.soap_endpoint import SoapFaults


class SiteRoot:
    """GET / (the index page) and GET /health; any other path is a 404 MIAPAPIException fault
    (WSEC0002) naming the services, as the Learner Register answers. The front's refusals here are
    such faults too, but those of /health, which keep its JSON."""

    def __init__(self, runtime: Runtime, services: Sequence[Described]) -> None:
        self.runtime = runtime
        self.faults = SoapFaults(MIAP, runtime)
        self.index = index_page(runtime, services)
        self.services = ", ".join(service.path for service in services)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "").rstrip("/").lower() or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path not in ("/", "/health"):
            return self.faults(404, f"No service at {path}; services: {self.services}").send(start_response)
        if method not in ("GET", "HEAD"):
            refused = self.faults.fault(405, ErrorCode.INVALID_REQUEST, f"{path} answers GET only", [("Allow", "GET, HEAD")])
            return refused.send(start_response)
        page = self.index if path == "/" else health_answer(self.runtime)
        return page.send(start_response, head_only=method == "HEAD")

    def refusal(self, path: str, status: int, detail: str) -> Answer:
        if path.rstrip("/").lower() == "/health":
            return health_refusal(status, detail)
        return self.faults(status, detail)
