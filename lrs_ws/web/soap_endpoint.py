"""A SOAP service as the front serves it, mounted at its path.

GET or HEAD `?wsdl` / `?singlewsdl`: its WSDL. POST: the body (read once, whole: the ASGI front
has read it within the size limit) is screened (lrs_ws.web.screening), shown to the before-hooks,
answered by the spyne service (lrs_ws.web.spyne_service) or with the screening's fault, and the
outcome shown to the after-hooks (lrs_ws.web.hooks). Anything else, and every error, is a SOAP
fault of the endpoint's kind: MIAPAPIException for the Learner Register, DomainFault for the
learning records service; never an HTML page.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from lxml import etree

from lrs_ws import contract
from lrs_ws.domain.codes import ErrorCode
from lrs_ws.runtime import Runtime
from lrs_ws.soap.faults import FaultKind
from lrs_ws.web.answers import Answer, DropConnection, answer
from lrs_ws.web.hooks import CallerAsSent, Drop, SoapCall, SoapHooks, SoapOutcome
from lrs_ws.web.screening import Screened, screen
from lrs_ws.web.spyne_service import SpyneService

log = logging.getLogger(__name__)


class SoapFaults:
    """The error form of a SOAP service: whole fault envelopes of its kind, at the service's time
    (read from the runtime at each fault, whatever clock it has then)."""

    def __init__(self, kind: FaultKind, runtime: Runtime) -> None:
        self.kind = kind
        self.runtime = runtime

    def fault(self, status: int, code: ErrorCode, detail: str, headers: Iterable[tuple[str, str]] = ()) -> Answer:
        body = self.kind.envelope(code, detail, self.runtime.clock.now())
        return answer(status, "text/xml; charset=utf-8", body, headers)

    def __call__(self, status: int, detail: str) -> Answer:
        """A refusal or a path not served, its code read from its status: 404 is WSEC0002."""
        if status == 404:
            return self.fault(status, ErrorCode.UNKNOWN_REQUEST, detail)
        return self.fault(status, ErrorCode.UNEXPECTED_ERROR if status >= 500 else ErrorCode.INVALID_REQUEST, detail)


class SoapEndpoint:
    """One SOAP service at `path`; see the module's docstring."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        path: str,
        wsdl_name: str,
        service: type,
        name: str,
        faults: FaultKind,
        read_caller: Callable[[etree._Element], CallerAsSent],
        hooks: SoapHooks,
    ) -> None:
        """`service`: the spyne service class, `name` its application's; `faults`: the kind of
        every fault this endpoint answers with, the methods' own included."""
        self.path = path
        self.wsdl_name = wsdl_name  # file under wsdl/
        self.service = SpyneService(service, name=name, runtime=runtime, faults=faults)
        self.faults = SoapFaults(faults, runtime)
        self.read_caller = read_caller  # where this service's requests name their caller
        self.hooks = hooks
        contract.message_schema()  # build before the first request, not inside one
        # Built once from the configured public URL, never from a request's Host header.
        self.wsdl = contract.single_wsdl(runtime.settings.endpoint(path), wsdl_name)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if environ.get("PATH_INFO", "").strip("/"):
            where = environ.get("SCRIPT_NAME", "") + environ["PATH_INFO"]
            return self.faults(404, f"No service at {where}; this service is at {self.path}").send(start_response)
        if method == "POST":
            return self.answer(environ).send(start_response)
        if method in ("GET", "HEAD") and _asks_for_wsdl(environ):
            wsdl = answer(200, "text/xml; charset=utf-8", self.wsdl)
            return wsdl.send(start_response, head_only=method == "HEAD")
        detail = f"UnsupportedHttpVerb {method}: POST a SOAP 1.1 envelope, or GET ?wsdl"
        return self.faults.fault(405, ErrorCode.INVALID_REQUEST, detail, [("Allow", "GET, POST")]).send(start_response)

    def refusal(self, path: str, status: int, detail: str) -> Answer:
        return self.faults(status, detail)

    def answer(self, environ: dict[str, Any]) -> Answer:
        """The answer to a POSTed envelope."""
        if self.hooks:
            return self._answer_with_hooks(environ)
        screened = screen(read_body(environ), self.service.methods, self.path)
        return self._serve(screened, environ)[0]

    def _answer_with_hooks(self, environ: dict[str, Any]) -> Answer:
        started = time.perf_counter()
        body = read_body(environ)
        screened = screen(body, self.service.methods, self.path)
        call = SoapCall(
            endpoint=self.path,
            operation=None if screened.method is None else screened.method.operation_name,
            raw_request=body,
            client_address=environ.get("REMOTE_ADDR", ""),
            request=screened.request,
            soap_action=environ.get("HTTP_SOAPACTION"),
            read_caller=self.read_caller,
            fault=lambda code, detail: self.faults.fault(500, code, detail),
        )
        early = self.hooks.run_before(call)
        if isinstance(early, Drop):
            self.hooks.run_after(call, SoapOutcome(None, None, False, "hook", time.perf_counter() - started, b""))
            raise DropConnection
        if early is not None:
            answered, code, fault, answered_by = early.answer(), early.code, early.fault, "hook"
        else:
            answered, code, fault, answered_by = self._serve(screened, environ)
        outcome = SoapOutcome(answered.status_code, code, fault, answered_by, time.perf_counter() - started, answered.body)
        self.hooks.run_after(call, outcome)
        return answered

    def _serve(self, screened: Screened[Any], environ: dict[str, Any]) -> tuple[Answer, str | None, bool, str]:
        """(the answer, its outcome code, whether it is a fault, "screening" or "service")."""
        if screened.refusal is not None:
            code, detail = screened.refusal
            return self.faults.fault(500, code, detail), code.value, True, "screening"
        try:
            served = self.service.call(screened, environ)
        except Exception:  # spyne answers the methods' errors itself; this is the last line of defence
            log.exception("unexpected error serving %s", self.path)
            refused = self.faults.fault(500, ErrorCode.UNEXPECTED_ERROR, "The request could not be completed.")
            return refused, ErrorCode.UNEXPECTED_ERROR.value, True, "service"
        return served.answer, served.code, served.fault is not None, "service"


def read_body(environ: dict[str, Any]) -> bytes:
    """The request body, read once. Its size is not checked here: the ASGI front refuses a body
    over the limit before any thread runs, and hands over one whose bytes BytesIO gives back
    without a copy."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _asks_for_wsdl(environ: dict[str, Any]) -> bool:
    query = {key.lower() for key in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)}
    return bool(query & {"wsdl", "singlewsdl"})
