"""One spyne service behind the screening: spyne deserializes, runs and serializes, nothing more.

The screening has parsed the body and found the request element and its method; here spyne's
protocol reads that element into the method's arguments, its application runs the method (its
faults and errors become SOAP faults, as in spyne's own servers), and its protocol writes the
answer. spyne neither reads the body nor looks the method up again: its WSGI server (which did
both, and checked the body's size a third time) is not used.
"""
from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

from lrs_ws.contract.namespaces import TEMPURI
from lrs_ws.runtime import Runtime
from lrs_ws.soap.faults import FaultKind
from lrs_ws.web.answers import Answer
from lrs_ws.web.screening import Screened
from lrs_ws.web.spyne_protocol import LrsSoap11

with warnings.catch_warnings():  # spyne 2.14 imports deprecated modules; nothing we can act on
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", ImportWarning)
    from spyne import Application, Fault
    from spyne.application import get_fault_string_from_exception
    from spyne.protocol.soap.soap11 import resolve_hrefs
    from spyne.server import ServerBase
    from spyne.server.wsgi import WsgiMethodContext

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/xml; charset=utf-8"


class _Transport(ServerBase):
    """What spyne's method contexts belong to: an HTTP server, to spyne (we are it)."""

    transport = "http://schemas.xmlsoap.org/soap/http"


@dataclass(frozen=True)
class Served:
    """A call as spyne answered it: the HTTP answer, and what the method returned or raised."""

    answer: Answer
    result: Any  # what the method returned (None when it raised)
    fault: Fault | None

    @property
    def code(self) -> str | None:
        """The outcome code: the fault's ErrorCode, or the answer's ResponseCode."""
        if self.fault is not None:
            code = getattr(self.fault, "code", None)  # our ServiceFault; spyne's own faults carry none
            return None if code is None else code.value
        return response_code(self.result)


class SpyneService:
    """A spyne service class as an application: its methods by the Clark name of their request
    element, and one call of a method on a screened request."""

    def __init__(self, service: type, *, name: str, runtime: Runtime, faults: FaultKind) -> None:
        self.application = Application(
            [service], tns=TEMPURI, name=name, in_protocol=LrsSoap11(validator=None), out_protocol=LrsSoap11()
        )
        # What the methods find on ctx.app: the runtime, and the kind of fault that
        # lrs_ws.soap.calls.call raises (the same as the screening answers with).
        self.application.runtime = runtime
        self.application.fault_kind = faults
        self.transport = _Transport(self.application)
        descriptors = [methods[0] for methods in self.application.interface.service_method_map.values()]
        self.methods = {f"{{{d.in_message.get_namespace()}}}{d.in_message.get_type_name()}": d for d in descriptors}

    def call(self, screened: Screened[Any], environ: dict[str, Any]) -> Served:
        """Run the method the screening found (one of `methods`) on the request it accepted."""
        method = screened.method
        assert screened.envelope is not None and screened.request is not None and method is not None
        ctx = WsgiMethodContext(self.transport, environ, CONTENT_TYPE)
        if screened.ids:
            resolve_hrefs(screened.envelope, screened.ids)
        ctx.in_document = screened.envelope
        ctx.in_header_doc = None if screened.header is None else list(screened.header)
        ctx.in_body_doc = screened.request
        ctx.method_request_string = screened.request.tag
        ctx.descriptor = method
        in_protocol, out_protocol = self.application.in_protocol, self.application.out_protocol
        try:
            in_protocol.deserialize(ctx, message=in_protocol.REQUEST)
        except Fault as fault:  # as spyne's servers: a request its types refuse is a fault
            ctx.in_error = ctx.out_error = fault
        if ctx.in_error is None:
            self.application.process_request(ctx)  # the method's faults and errors: ctx.out_error
        try:
            out_protocol.serialize(ctx, message=out_protocol.RESPONSE)
        except Exception as error:  # as spyne's servers: an answer it cannot write is a fault
            log.exception("could not write the answer of %s", method.name)
            ctx.out_error = Fault("Server", get_fault_string_from_exception(error))
            out_protocol.serialize(ctx, message=out_protocol.RESPONSE)
        out_protocol.create_out_string(ctx)
        body = b"".join(ctx.out_string)
        ctx.close()
        status = "200 OK" if ctx.out_error is None else "500 Internal Server Error"
        answer = Answer(status, [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))], body)
        result = ctx.out_object[0] if ctx.out_error is None and ctx.out_object else None
        return Served(answer, result, ctx.out_error)


def response_code(result: Any) -> str | None:
    """The ResponseCode a method's answer carries: its own, or that of the one element it wraps
    (VerifyLearner); an answer that is a string is the code (UpdateLearnerSubsetFields). None for
    answers without one code (ViewAudit; RetrieveULNs, one code per ULN)."""
    if result is None or isinstance(result, str):
        return result
    code = getattr(result, "ResponseCode", None)
    if code is None:
        fields = getattr(type(result), "_type_info", {})
        if len(fields) == 1:
            code = getattr(getattr(result, next(iter(fields))), "ResponseCode", None)
    return code if isinstance(code, str) else None
