"""The WSGI application: routes, WSDL documents, request screening, then spyne.

Screening happens before spyne parses anything, so that every refusal is a SOAP fault and never
an HTML error page: method, size, well-formed XML without DOCTYPE, a SOAP 1.1 envelope, a known
Body element, and validation against our `xsd/`. The screening is shared by every endpoint; each
endpoint answers in its own fault kind (MIAPAPIException for the Learner Register, DomainFault
for the learning records service).
"""
from __future__ import annotations

import html
import io
import json
import logging
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qs

from lxml import etree
from lxml.builder import E

with warnings.catch_warnings():  # spyne 2.14 imports deprecated modules; nothing we can act on
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", ImportWarning)
    import spyne.const
    from spyne import Application
    from spyne.protocol.soap import Soap11
    from spyne.server.wsgi import WsgiApplication

from lrs_ws import contract
from lrs_ws.contract.namespaces import (
    BATCHMSG,
    FINDMSG,
    REGMSG,
    REPORTMSG,
    SOAP_ENV,
    TEMPURI,
    VLDMSG,
)
from lrs_ws.domain.codes import ErrorCode
from lrs_ws.runtime import Runtime
from lrs_ws.services.ports import DatabaseUnavailable
from lrs_ws.soap import writer
from lrs_ws.soap.faults import DOMAIN, MIAP, FaultKind
from lrs_ws.soap.learner_service import LearnerService
from lrs_ws.soap.r9_service import LearnerServiceR9
from lrs_ws.worker import served_worker_state

# spyne runs a full gc.collect() at the end of a request once a second (to close uploaded files,
# which we never keep): some 80 ms with every thread of the worker stopped. Python's own
# generational collector is enough. (Read at each request, so set here after the imports.)
spyne.const.MIN_GC_INTERVAL = float("inf")

log = logging.getLogger(__name__)

# spyne logs every Fault with a traceback; bad requests are normal traffic for a public service.
logging.getLogger("spyne.application").setLevel(logging.CRITICAL)
logging.getLogger("spyne.application.client").setLevel(logging.CRITICAL)
logging.getLogger("spyne.application.server").setLevel(logging.CRITICAL)


# The WSGI environ key under which the screening hands spyne the envelope it parsed.
PARSED_ENVELOPE = "lrs_ws.parsed_envelope"


class LrsSoap11(Soap11):
    """Responses through the compiled writer (`lrs_ws.soap.writer`); faults as the screening
    writes them too: faultcode, faultstring, detail (no empty faultactor)."""

    compiled_writer = True  # False: spyne's own serializer (the tests compare the two)

    def to_parent(self, ctx, cls, inst, parent, ns, *args, **kwargs):
        plan = writer.plan_for(cls) if self.compiled_writer else None
        if plan is None:
            return super().to_parent(ctx, cls, inst, parent, ns, *args, **kwargs)
        name = cls.Attributes.sub_name or (args[0] if args else kwargs.get("name")) or cls.get_type_name()
        writer.write(plan, inst, parent, ns, name)

    def create_in_document(self, ctx, charset=None):
        parsed = ctx.transport.req_env.get(PARSED_ENVELOPE) if hasattr(ctx.transport, "req_env") else None
        if parsed is None:
            return super().create_in_document(ctx, charset)
        ctx.in_document = parsed

    def fault_to_parent(self, ctx, cls, inst, parent, ns, *args, **kwargs):
        subelts = [E("faultcode", f"{self.soap_env}:{inst.faultcode}"), E("faultstring", inst.faultstring)]
        return self._fault_to_parent_impl(ctx, cls, inst, parent, ns, subelts)


class BodyDispatchSoap11(LrsSoap11):
    """Dispatch on the QName of the Body's first child, whatever the SOAPAction.

    spyne keys every method under the application's namespace; our request elements live in
    several message namespaces, so the endpoint maps each known QName to its method key.
    """

    def __init__(self, method_keys: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self.method_keys = method_keys

    def decompose_incoming_envelope(self, ctx, message):
        super().decompose_incoming_envelope(ctx, message)
        ctx.method_request_string = self.method_keys.get(ctx.method_request_string, ctx.method_request_string)


@dataclass(frozen=True)
class Endpoint:
    """One service: where it is served, its WSDL, the requests it accepts, how it reports errors."""

    path: str
    wsdl_name: str  # file under wsdl/
    requests: tuple[str, ...]  # Clark names of the request elements this endpoint accepts
    wsgi: Callable
    faults: FaultKind = MIAP  # the detail of every fault this endpoint answers with


def make_endpoint(
    runtime: Runtime,
    *,
    path: str,
    wsdl_name: str,
    service: type,
    name: str,
    requests: tuple[str, ...],
    faults: FaultKind,
) -> Endpoint:
    """A spyne application for `service` behind the shared screening.

    Every request element is dispatched on its QName (spyne keys methods under the application's
    namespace, tempuri, whatever namespace the element is in). The fault kind is set on the spyne
    application too, so that `lrs_ws.soap.calls.call` raises faults of the same kind as the
    screening answers with.
    """
    method_keys = {qname: f"{{{TEMPURI}}}{qname.partition('}')[2]}" for qname in requests}
    application = Application(
        [service],
        tns=TEMPURI,
        name=name,
        in_protocol=BodyDispatchSoap11(method_keys, validator=None),
        out_protocol=LrsSoap11(),
    )
    application.runtime = runtime
    application.fault_kind = faults
    wsgi = WsgiApplication(application, max_content_length=runtime.settings.max_request_bytes)
    return Endpoint(path, wsdl_name, requests, wsgi, faults)


def _learner_service_endpoint(runtime: Runtime) -> Endpoint:
    """Learner Register: document/literal bare, MIAPAPIException faults."""
    return make_endpoint(
        runtime,
        path="/LearnerService.svc",
        wsdl_name="LearnerService.wsdl",
        service=LearnerService,
        name="LearnerServiceProxy",
        requests=(
            f"{{{FINDMSG}}}FindLearnerByULN",
            f"{{{FINDMSG}}}FindLearnerByDemographics",
            f"{{{REGMSG}}}RegisterLearner",
            f"{{{REGMSG}}}UpdateLearner",
            f"{{{BATCHMSG}}}SubmitBatch",
            f"{{{BATCHMSG}}}GetSubmitBatchOutput",
            f"{{{REPORTMSG}}}RetrieveULNs",
            f"{{{REPORTMSG}}}VerifyLearner",
            f"{{{VLDMSG}}}SubmitVerifyBatch",
            f"{{{VLDMSG}}}GetVerifyBatchOutput",
        ),
        faults=MIAP,
    )


def _learner_service_r9_endpoint(runtime: Runtime) -> Endpoint:
    """Learning records (PLR): WCF document/literal wrapped, DomainFault faults."""
    return make_endpoint(
        runtime,
        path="/LearnerServiceR9.svc",
        wsdl_name="LearnerServiceR9.wsdl",
        service=LearnerServiceR9,
        name="LearnerServiceR9Proxy",
        requests=tuple(
            f"{{{TEMPURI}}}{name}"
            for name in ("GetLearnerLearningEvents", "LearnerByUln", "GetOrganisation", "ViewAudit", "UpdateLearnerSubsetFields")
        ),
        faults=DOMAIN,
    )


class LrsWsgiApp:
    def __init__(self, runtime: Runtime, endpoints: Iterable[Endpoint]) -> None:
        self.runtime = runtime
        self.endpoints = {e.path.lower(): e for e in endpoints}
        self.max_bytes = runtime.settings.max_request_bytes
        contract.message_schema()  # build before the first request, not inside one
        # Built once from the configured public URL, never from a request's Host header.
        self.wsdls = {
            e.path.lower(): contract.single_wsdl(runtime.settings.endpoint(e.path), e.wsdl_name)
            for e in self.endpoints.values()
        }
        self.index_page = _index_page(runtime, self.endpoints.values(), self.wsdls)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "").rstrip("/").lower() or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if path in ("/", "/health"):
            if method not in ("GET", "HEAD"):
                return self._fault(
                    start_response, MIAP, "405 Method Not Allowed", ErrorCode.INVALID_REQUEST,
                    f"{path} answers GET only", [("Allow", "GET, HEAD")],
                )
            status, content_type, body = (
                ("200 OK", "text/html; charset=utf-8", self.index_page) if path == "/" else self._health()
            )
            start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return [b"" if method == "HEAD" else body]
        endpoint = self.endpoints.get(path)
        if endpoint is None:
            known = ", ".join(e.path for e in self.endpoints.values())
            return self._fault(start_response, MIAP, "404 Not Found", ErrorCode.UNKNOWN_REQUEST, f"No service at {path}; services: {known}")
        if method in ("GET", "HEAD"):
            query = {k.lower() for k in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)}
            if query & {"wsdl", "singlewsdl"}:
                body = self.wsdls[path]
                start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))])
                return [b"" if method == "HEAD" else body]
        if method != "POST":
            return self._fault(
                start_response,
                endpoint.faults,
                "405 Method Not Allowed",
                ErrorCode.INVALID_REQUEST,
                f"UnsupportedHttpVerb {method}: POST a SOAP 1.1 envelope, or GET ?wsdl",
                [("Allow", "GET, POST")],
            )
        body = _read_body(environ, self.max_bytes)
        if body is None:
            return self._fault(
                start_response,
                endpoint.faults,
                "413 Request Entity Too Large",
                ErrorCode.INVALID_REQUEST,
                f"The request body exceeds the limit of {self.max_bytes} bytes",
            )
        parsed, refusal = _screen(body, endpoint)
        if refusal is not None:
            code, detail = refusal
            return self._fault(start_response, endpoint.faults, "500 Internal Server Error", code, detail)
        # spyne reads the very document the screening parsed and validated (PARSED_ENVELOPE),
        # not the bytes again; CONTENT_TYPE without a charset in case it ever parses them.
        environ = dict(
            environ,
            **{"wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "text/xml",
               PARSED_ENVELOPE: parsed},
        )
        try:
            # One write: spyne yields many small chunks, and the server would send each one
            # separately (Nagle's algorithm then holds them back: milliseconds per request).
            return [b"".join(endpoint.wsgi(environ, start_response))]
        except Exception:  # spyne handles method errors itself; this is the last line of defence
            log.exception("unexpected error serving %r", path)
            return self._fault(
                start_response,
                endpoint.faults,
                "500 Internal Server Error",
                ErrorCode.UNEXPECTED_ERROR,
                "The request could not be completed.",
            )


    def _health(self) -> tuple[str, str, bytes]:
        """200 when the database answers with the current schema, with the state of the batch
        worker `serve` runs (which never changes the status code); 503 and the reason when not."""
        try:
            with self.runtime.unit_of_work() as uow:
                uow.ping()
                worker = served_worker_state(uow, self.runtime.batch_worker)  # its reasons: `lrs-ws batch status`
        except DatabaseUnavailable as unavailable:  # the reason only: paths and hosts go to the log
            log.warning("health check: %s", unavailable)
            return "503 Service Unavailable", "application/json", _json({"status": "unavailable", "reason": unavailable.reason})
        except Exception as error:  # reported, never raised: the health check must answer
            log.warning("health check failed: %s", error)
            return "503 Service Unavailable", "application/json", _json({"status": "unavailable", "reason": error.__class__.__name__})
        return "200 OK", "application/json", _json({"status": "ok", "batch_worker": worker.value})

    def _fault(self, start_response, kind: FaultKind, status: str, code: ErrorCode, detail: str, headers: list | None = None):
        body = kind.envelope(code, detail, self.runtime.clock.now())
        start_response(
            status,
            [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))] + (headers or []),
        )
        return [body]

    def refusal(self, path: str, status: int, detail: str) -> tuple[str, list[tuple[str, str]], bytes]:
        """A request the HTTP front refuses before the application sees it (too large, too slow,
        failed), as a SOAP fault of the endpoint at `path`: (status line, headers, body)."""
        status_line = f"{status} {HTTPStatus(status).phrase}"
        extra = [("Retry-After", "1")] if status == 503 else []
        if path.rstrip("/").lower() == "/health":  # the health check answers in its own form
            body = _json({"status": "unavailable", "reason": detail})
            return status_line, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))] + extra, body
        endpoint = self.endpoints.get(path.rstrip("/").lower())
        kind = endpoint.faults if endpoint is not None else MIAP
        code = ErrorCode.UNEXPECTED_ERROR if status >= 500 else ErrorCode.INVALID_REQUEST
        body = kind.envelope(code, detail, self.runtime.clock.now())
        return status_line, [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))] + extra, body


def _json(value: dict) -> bytes:
    return json.dumps(value).encode("utf-8")


_WSDL_NS = {"wsdl": "http://schemas.xmlsoap.org/wsdl/"}


def _index_page(runtime: Runtime, endpoints: Iterable[Endpoint], wsdls: dict[str, bytes]) -> bytes:
    """What GET / shows, as a WCF service does: each service, its operations and WSDL links."""
    sections = []
    for endpoint in endpoints:
        address = html.escape(runtime.settings.endpoint(endpoint.path))
        operations = etree.fromstring(wsdls[endpoint.path.lower()]).xpath(
            "/wsdl:definitions/wsdl:portType/wsdl:operation/@name", namespaces=_WSDL_NS
        )
        items = "".join(f"<li><code>{html.escape(name)}</code></li>" for name in operations)
        sections.append(
            f"<h2>{html.escape(endpoint.wsdl_name.removesuffix('.wsdl'))}</h2>"
            f"<p>SOAP 1.1 endpoint: <code>{address}</code></p>"
            f'<p>WSDL: <a href="{address}?wsdl">{address}?wsdl</a> '
            f'(<a href="{address}?singlewsdl">?singlewsdl</a>)</p>'
            f"<p>Operations:</p><ul>{items}</ul>"
        )
    page = (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>lrs-ws</title></head><body>"
        "<h1>lrs-ws: the LRS Learner web services</h1>"
        "<p>These are SOAP services. Build a client from a WSDL below (zeep, svcutil, wsimport...) "
        "and call the endpoint. Health: <a href=\"/health\">/health</a>.</p>"
        + "".join(sections)
        + "</body></html>"
    )
    return page.encode("utf-8")


def _read_body(environ, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` (declared or actual)."""
    try:
        declared = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    stream = environ["wsgi.input"]
    body = stream.read(declared) if declared else stream.read(limit + 1)
    return None if len(body) > limit else body


def _screen(body: bytes, endpoint: Endpoint) -> tuple[tuple | None, tuple[ErrorCode, str] | None]:
    """The parsed envelope (root, xml:ids, as spyne parses it), or why the request must be
    refused before dispatch."""
    try:
        parsed = etree.XMLID(body, contract.request_parser())
    except etree.XMLSyntaxError as error:
        return None, (ErrorCode.INVALID_REQUEST, f"The request is not well-formed XML: {error}")
    return parsed, _refusal(parsed[0], endpoint)


def _refusal(root: etree._Element, endpoint: Endpoint) -> tuple[ErrorCode, str] | None:
    if root.getroottree().docinfo.doctype:
        return ErrorCode.INVALID_REQUEST, "A DOCTYPE is not allowed in a SOAP message"
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        return ErrorCode.INVALID_REQUEST, f"Expected a SOAP 1.1 Envelope ({SOAP_ENV}), got {root.tag!s}"
    envelope_problem = _envelope_problem(root)
    if envelope_problem:
        return ErrorCode.INVALID_REQUEST, envelope_problem
    body = root.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None  # _envelope_problem found it, with one request element
    request = body[0]
    if request.tag not in endpoint.requests:
        return ErrorCode.UNKNOWN_REQUEST, f"Unknown request element {request.tag!s} at {endpoint.path}"
    try:
        contract.validate_body_element(request)
    except contract.ContractViolation as violation:
        return ErrorCode.INVALID_REQUEST, str(violation)
    return None


# Headers we understand (and ignore): WS-Addressing, which WCF clients of the R9 binding send.
_UNDERSTOOD_HEADERS = ("http://www.w3.org/2005/08/addressing", "http://schemas.xmlsoap.org/ws/2004/08/addressing")
_NEXT_ACTOR = "http://schemas.xmlsoap.org/soap/actor/next"


def _envelope_problem(root: etree._Element) -> str | None:
    """SOAP 1.1 envelope rules: an optional Header first, then one Body with one request element."""
    parts = [child for child in root if isinstance(child.tag, str)]
    names = [etree.QName(child).localname if etree.QName(child).namespace == SOAP_ENV else str(child.tag) for child in parts]
    if names not in (["Body"], ["Header", "Body"]):
        return f"The Envelope must hold an optional Header and then one Body; it holds {', '.join(names) or 'nothing'}"
    body = parts[-1]
    if (body.text or "").strip() or any((child.tail or "").strip() for child in body):
        return "The SOAP Body holds text outside the request element"
    requests = [child for child in body if isinstance(child.tag, str)]
    if len(requests) != 1:
        return f"The SOAP Body must hold exactly one request element; it holds {len(requests)}"
    if len(parts) == 2:
        for entry in parts[0]:
            if not isinstance(entry.tag, str) or etree.QName(entry).namespace in _UNDERSTOOD_HEADERS:
                continue
            must = entry.get(f"{{{SOAP_ENV}}}mustUnderstand", "0").strip() in ("1", "true")
            if must and entry.get(f"{{{SOAP_ENV}}}actor", _NEXT_ACTOR) == _NEXT_ACTOR:
                return f"MustUnderstand: header {entry.tag} is not understood by this service"
    return None


def make_app(runtime: Runtime) -> LrsWsgiApp:
    return LrsWsgiApp(runtime, [_learner_service_endpoint(runtime), _learner_service_r9_endpoint(runtime)])
