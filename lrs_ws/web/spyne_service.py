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

from lxml import etree

from lrs_ws.contract.namespaces import TEMPURI
from lrs_ws.runtime import Runtime
from lrs_ws.soap import reader, writer
from lrs_ws.soap.faults import FaultKind
from lrs_ws.web.answers import Answer
from lrs_ws.web.screening import Screened
from lrs_ws.web.spyne_protocol import LrsSoap11

with warnings.catch_warnings():  # spyne 2.14 imports deprecated modules; nothing we can act on
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", ImportWarning)
    from spyne import BODY_STYLE_BARE, BODY_STYLE_WRAPPED, Application, Fault
    from spyne.application import get_fault_string_from_exception
    from spyne.const.xml import DEFAULT_NS
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
    element, and one call of a method on a screened request.

    A method whose request and response models both compile (lrs_ws.soap.reader and .writer)
    is called directly: its request read by the compiled reader, the method run on a small
    context holding what our methods use (the application, their descriptor, the request
    element, the WSGI environ), its answer written into the envelope spyne writes. spyne's
    method context, its event dispatch and its generic serializer, a sixth of a find's time, are
    then not run. Faults, and anything the compiled parts step aside from, go through spyne's
    own path. The contract tests compare both paths on every request and answer."""

    compiled_reader = True  # False: spyne's own deserializer (the tests compare the two)
    direct_calls = True  # False: every call through spyne's method context

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
        self._direct = {d for d in descriptors if self._may_call_directly(d)}

    def _may_call_directly(self, descriptor: Any) -> bool:
        """Whether spyne would do no more with this method than we do on the direct path."""
        application, in_protocol, out_protocol = self.application, self.application.in_protocol, self.application.out_protocol
        wraps_one_answer = descriptor.body_style is BODY_STYLE_WRAPPED and len(descriptor.out_message._type_info) == 1
        return (
            (descriptor.body_style is BODY_STYLE_BARE or wraps_one_answer)
            and descriptor.no_self
            and not descriptor.no_ctx
            and descriptor.in_header is None
            and descriptor.out_header is None
            and not (application.event_manager.handlers or in_protocol.event_manager.handlers)
            and not (out_protocol.event_manager.handlers or descriptor.service_class.event_manager.handlers)
            and reader.plan_for(descriptor.in_message, in_protocol) is not None
            and writer.plan_for(descriptor.out_message) is not None
        )

    def read_request(self, descriptor: Any, element: etree._Element, ctx: WsgiMethodContext | None = None) -> Any:
        """The method's argument from its request element: by the compiled reader, or by spyne
        (as its deserialize reads a Body without a header, on `ctx`, which an xsi:type needs)
        for what the reader leaves to it."""
        in_protocol = self.application.in_protocol
        plan = reader.plan_for(descriptor.in_message, in_protocol) if self.compiled_reader else None
        if plan is not None:
            try:
                return reader.read(plan, element)
            except reader.NotCompiled:
                pass
        return in_protocol.from_element(ctx, descriptor.in_message, element)

    def call(self, screened: Screened[Any], environ: dict[str, Any]) -> Served:
        """Run the method the screening found (one of `methods`) on the request it accepted."""
        method = screened.method
        assert screened.envelope is not None and screened.request is not None and method is not None
        if self.direct_calls and method in self._direct and not screened.ids:
            served = self._call_directly(method, screened.request, environ)
            if served is not None:
                return served
        return self._call_through_spyne(screened, environ)

    def _call_directly(self, method: Any, request: etree._Element, environ: dict[str, Any]) -> Served | None:
        """The call without spyne's method context; None, before the method has run, for a
        request the reader cannot make arguments of (spyne's path then reads it and answers).
        A fault, or an answer the direct path cannot write, is answered by spyne's serializer."""
        try:
            argument = self.read_request(method, request)
        except Exception:  # spyne reads it again, and refuses it in its own words
            return None
        if method.body_style is BODY_STYLE_WRAPPED:  # the arguments are the wrapper's members
            if argument is None:
                return None
            arguments = [getattr(argument, key, None) for key in method.in_message._type_info]
        else:
            arguments = [argument]
        context = _DirectContext(self.application, method, request, environ)
        try:
            result = method.function(context, *arguments)
        except Fault as fault:
            return self._answer_with_spyne(method, environ, None, fault)
        except Exception as error:  # as spyne's process_request
            log.critical("unexpected error in %s", method.name, exc_info=True)
            return self._answer_with_spyne(method, environ, None, Fault("Server", get_fault_string_from_exception(error)))
        try:
            body = self.write_response(method, result)
        except Exception:  # spyne's serializer gives the fault it gives
            return self._answer_with_spyne(method, environ, result, None)
        answer = Answer("200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))], body)
        return Served(answer, result, None)

    def write_response(self, method: Any, result: Any) -> bytes:
        """The response envelope as spyne's Soap11.serialize and create_out_string write the
        answer of a bare method, or of a wrapped one with one member: the same XML declaration,
        envelope and elements (only the prefixes lxml picks inside may differ, as with the
        compiled writer alone)."""
        protocol = self.application.out_protocol
        interface = self.application.interface
        document = etree.Element(f"{{{protocol.ns_soap_env}}}Envelope", nsmap=interface.nsmap)
        body = etree.Element(f"{{{protocol.ns_soap_env}}}Body")
        model = method.out_message
        if method.body_style is BODY_STYLE_WRAPPED:
            wrapper = writer.instance(model, **{next(iter(model._type_info)): result})
            protocol.to_parent(None, model, wrapper, body, model.get_namespace())
        else:
            namespace = model.Attributes.sub_ns
            if namespace is None:
                namespace = model.get_namespace()
            if namespace is DEFAULT_NS:
                namespace = interface.get_tns()
            protocol.to_parent(None, model, result, body, namespace, model.Attributes.sub_name or model.get_type_name())
        document.append(body)
        if protocol.cleanup_namespaces:
            etree.cleanup_namespaces(document)
        return etree.tostring(
            document, encoding=protocol.encoding, pretty_print=protocol.pretty_print, xml_declaration=protocol.xml_declaration
        )

    def _call_through_spyne(self, screened: Screened[Any], environ: dict[str, Any]) -> Served:
        assert screened.envelope is not None and screened.request is not None and screened.method is not None
        ctx = self._context(screened.method, environ)
        if screened.ids:
            resolve_hrefs(screened.envelope, screened.ids)
        ctx.in_document = screened.envelope
        ctx.in_header_doc = None if screened.header is None else list(screened.header)
        ctx.in_body_doc = screened.request
        ctx.method_request_string = screened.request.tag
        in_protocol = self.application.in_protocol
        try:
            if ctx.descriptor.in_header is None and not in_protocol.event_manager.handlers:
                ctx.in_object = self.read_request(ctx.descriptor, screened.request, ctx)
            else:
                in_protocol.deserialize(ctx, message=in_protocol.REQUEST)
        except Fault as fault:  # as spyne's servers: a request its types refuse is a fault
            ctx.in_error = ctx.out_error = fault
        if ctx.in_error is None:
            self.application.process_request(ctx)  # the method's faults and errors: ctx.out_error
        return self._write_with_spyne(ctx)

    def _answer_with_spyne(self, method: Any, environ: dict[str, Any], result: Any, fault: Fault | None) -> Served:
        """What spyne answers for a method that returned `result` or raised `fault`."""
        ctx = self._context(method, environ)
        ctx.out_object = [result]
        ctx.out_error = fault
        return self._write_with_spyne(ctx)

    def _context(self, method: Any, environ: dict[str, Any]) -> WsgiMethodContext:
        ctx = WsgiMethodContext(self.transport, environ, CONTENT_TYPE)
        ctx.descriptor = method
        return ctx

    def _write_with_spyne(self, ctx: WsgiMethodContext) -> Served:
        out_protocol = self.application.out_protocol
        try:
            out_protocol.serialize(ctx, message=out_protocol.RESPONSE)
        except Exception as error:  # as spyne's servers: an answer it cannot write is a fault
            log.exception("could not write the answer of %s", ctx.descriptor.name)
            ctx.out_error = Fault("Server", get_fault_string_from_exception(error))
            out_protocol.serialize(ctx, message=out_protocol.RESPONSE)
        out_protocol.create_out_string(ctx)
        body = b"".join(ctx.out_string)
        ctx.close()
        status = "200 OK" if ctx.out_error is None else "500 Internal Server Error"
        answer = Answer(status, [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))], body)
        result = ctx.out_object[0] if ctx.out_error is None and ctx.out_object else None
        return Served(answer, result, ctx.out_error)


class _DirectContext:
    """What our methods read from spyne's method context, and nothing else: ctx.app (the
    runtime, the fault kind), ctx.descriptor, ctx.in_body_doc and ctx.transport.req_env (the
    client's address)."""

    __slots__ = ("app", "descriptor", "in_body_doc", "transport")

    def __init__(self, app: Application, descriptor: Any, request: etree._Element, environ: dict[str, Any]) -> None:
        self.app = app
        self.descriptor = descriptor
        self.in_body_doc = request
        self.transport = _Environ(environ)


class _Environ:
    __slots__ = ("req_env",)

    def __init__(self, environ: dict[str, Any]) -> None:
        self.req_env = environ


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
