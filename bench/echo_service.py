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

from lrs_ws.server import run

NS = "urn:lrs-ws:bench:echo"


class Echo(ComplexModel):
    __namespace__ = NS
    _type_info = [("ULN", Unicode), ("FamilyName", Unicode), ("GivenName", Unicode)]


class EchoService(ServiceBase):
    @rpc(Echo, _returns=Echo, _body_style="bare", _in_message_name="Echo", _out_message_name="EchoResponse")
    def echo(ctx, request):
        return request


def make_app():
    app = Application([EchoService], tns=NS, in_protocol=Soap11(validator=None), out_protocol=Soap11())
    return WsgiApplication(app)


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
    run(make_app, host="127.0.0.1", port=args.port, workers=args.workers, threads=args.threads)
