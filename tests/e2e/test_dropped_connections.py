"""A call dropped without an answer (a before-hook's DROP), over a real socket: Hypercorn patched
as the workers patch it (lrs_ws.server), in front of the application as composed."""
from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator

import requests

from lrs_ws.bootstrap import web_app
from lrs_ws.web.asgi import BufferedWsgi
from lrs_ws.web.hooks import DROP, SoapHooks
from tests.e2e.serving import answer_of, find_by_uln, learning_events


@contextlib.contextmanager
def hypercorn_serving(app) -> Iterator[int]:
    """Hypercorn serving `app` on a free loopback port, in a thread; yields the port."""
    import hypercorn.asyncio
    from hypercorn.config import Config

    from lrs_ws.server import allow_dropped_connections, listen

    allow_dropped_connections()
    listener = listen("127.0.0.1", 0)
    port = listener.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{os.dup(listener.fileno())}"]
    config.keep_alive_timeout = 5
    stopped = threading.Event()

    async def until_stopped() -> None:
        while not stopped.is_set():
            await asyncio.sleep(0.05)

    thread = threading.Thread(target=lambda: asyncio.run(hypercorn.asyncio.serve(app, config, shutdown_trigger=until_stopped, mode="asgi")))
    thread.start()
    try:
        yield port
    finally:
        stopped.set()
        thread.join(10)
        listener.close()


def exchange(port: int, *answered: bytes, last: bytes, timeout: float = 10) -> tuple[list[bytes], bytes, float]:
    """On one connection: each of `answered` and its whole answer, then `last`; the answers, what
    came after `last` until the server closed the connection, and how long that took."""
    answers = []
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        stream = sock.makefile("rb")
        for request in answered:
            sock.sendall(request)
            head = b"".join(iter(stream.readline, b"\r\n"))
            length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")).split(b":")[1])
            answers.append(head + b"\r\n" + stream.read(length))
        sock.sendall(last)
        after = stream.read()
    return answers, after, time.monotonic() - started


def post(path: str, envelope: str, *, close: bool = False) -> bytes:
    body = envelope.encode()
    head = f"POST {path} HTTP/1.1\r\nHost: lrs.test\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {len(body)}\r\n"
    return (head + ("Connection: close\r\n" if close else "") + "\r\n").encode() + body


def test_a_dropped_call_is_closed_without_a_byte_and_the_server_goes_on(runtime) -> None:
    hooks = SoapHooks()
    hooks.before(lambda call: DROP if call.operation == "GetLearnerLearningEvents" else None)
    seen = []
    hooks.after(lambda call, outcome: seen.append((call.operation, outcome.status)))
    wsgi = web_app(runtime, hooks)
    front = BufferedWsgi(wsgi, refuse=wsgi.refusal, threads=2, max_body=runtime.settings.max_request_bytes, read_timeout=5)
    with hypercorn_serving(front) as port:
        _, after, took = exchange(port, last=post("/LearnerServiceR9.svc", learning_events()))
        assert after == b"" and took < 5  # closed at once, not after a timeout
        # On a kept-alive connection: the first call answered, the second dropped.
        (answered,), after, took = exchange(
            port, post("/LearnerService.svc", find_by_uln()), last=post("/LearnerServiceR9.svc", learning_events())
        )
        head, _, body = answered.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and answer_of(body) == "WSRC0004"
        assert after == b"" and took < 5
        # A client library sees the connection end without an answer; the next request is served.
        try:
            requests.post(f"http://127.0.0.1:{port}/LearnerServiceR9.svc", data=learning_events(), timeout=10)
            raise AssertionError("the dropped call was answered")
        except requests.ConnectionError:
            pass
        response = requests.post(f"http://127.0.0.1:{port}/LearnerService.svc", data=find_by_uln(), timeout=10)
        assert response.status_code == 200
    assert seen == [
        ("GetLearnerLearningEvents", None), ("learnerByULN", 200), ("GetLearnerLearningEvents", None),
        ("GetLearnerLearningEvents", None), ("learnerByULN", 200),
    ]
