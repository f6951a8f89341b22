"""GET /: what the services are, as a WCF service's page says: each one, its operations and WSDLs."""
from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Protocol

from lxml import etree

from lrs_ws.runtime import Runtime
from lrs_ws.web.answers import Answer, answer

_WSDL_NS = {"wsdl": "http://schemas.xmlsoap.org/wsdl/"}


class Described(Protocol):
    """What the page shows of a service (lrs_ws.web.soap_endpoint.SoapEndpoint)."""

    path: str
    wsdl_name: str
    wsdl: bytes


def index_page(runtime: Runtime, services: Iterable[Described]) -> Answer:
    sections = []
    for service in services:
        address = html.escape(runtime.settings.endpoint(service.path))
        operations = etree.fromstring(service.wsdl).xpath("/wsdl:definitions/wsdl:portType/wsdl:operation/@name", namespaces=_WSDL_NS)
        items = "".join(f"<li><code>{html.escape(name)}</code></li>" for name in operations)
        sections.append(
            f"<h2>{html.escape(service.wsdl_name.removesuffix('.wsdl'))}</h2>"
            f"<p>SOAP 1.1 endpoint: <code>{address}</code></p>"
            f'<p>WSDL: <a href="{address}?wsdl">{address}?wsdl</a> '
            f'(<a href="{address}?singlewsdl">?singlewsdl</a>)</p>'
            f"<p>Operations:</p><ul>{items}</ul>"
        )
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>lrs-ws</title></head><body>'
        "<h1>lrs-ws: the LRS Learner web services</h1>"
        "<p>These are SOAP services. Build a client from a WSDL below (zeep, svcutil, wsimport...) "
        'and call the endpoint. Health: <a href="/health">/health</a>.</p>' + "".join(sections) + "</body></html>"
    )
    return answer(200, "text/html; charset=utf-8", page.encode("utf-8"))
