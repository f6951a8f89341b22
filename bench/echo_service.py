"""A trivial spyne service, served exactly like lrs-ws: the framework's own ceiling.

    python bench/echo_service.py --port 8099 --workers 2
"""
from __future__ import annotations

import argparse
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from spyne import Application, ComplexModel, ServiceBase, Unicode, rpc
    from spyne.protocol.soap import Soap11
    from spyne.server.wsgi import WsgiApplication

from lrs_ws.server import ServerOptions, listen, run
from lrs_ws.web.asgi import BufferedWsgi

NS = "urn:lrs-ws:bench:echo"


class Echo(ComplexModel):
    __namespace__ = NS
    _type_info = [("ULN", Unicode), ("FamilyName", Unicode), ("GivenName", Unicode)]


class EchoService(ServiceBase):
    @rpc(Echo, _returns=Echo, _body_style="bare", _in_message_name="Echo", _out_message_name="EchoResponse")
    def echo(ctx, request):
        return request


def make_wsgi():
    app = Application([EchoService], tns=NS, in_protocol=Soap11(validator=None), out_protocol=Soap11())
    return WsgiApplication(app)


def _refuse(path: str, status: int, detail: str):
    body = detail.encode()
    return f"{status} Refused", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))], body


def make_app(options: ServerOptions):
    """The echo behind the same HTTP front as lrs-ws (whole requests to the threads)."""
    wsgi = make_wsgi()

    def joined(environ, start_response):  # one write, as lrs-ws's app does
        return [b"".join(wsgi(environ, start_response))]

    return BufferedWsgi(joined, refuse=_refuse, threads=options.threads, max_body=2 * 1024 * 1024, read_timeout=options.read_timeout)


REQUEST = (
    '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
    f'<e:Echo xmlns:e="{NS}"><e:ULN>1026893096</e:ULN><e:FamilyName>Hughes</e:FamilyName>'
    "<e:GivenName>Amelia</e:GivenName></e:Echo></s:Body></s:Envelope>"
)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    options = ServerOptions(port=args.port, workers=args.workers, threads=args.threads, log_level="warning")
    run(lambda: make_app(options), listen("127.0.0.1", args.port), options)
