"""The buffering HTTP front (lrs_ws.web.asgi.BufferedWsgi), driven as an ASGI server drives it."""
from __future__ import annotations

import asyncio
import threading

import pytest

from lrs_ws.web.answers import DropConnection
from lrs_ws.web.asgi import DROP_MESSAGE, BufferedWsgi, TrustedProxies


def refuse(path: str, status: int, detail: str):
    return f"{status} Refused", [("Content-Type", "text/plain")], detail.encode()


class App:
    """A WSGI app that answers `ok` and counts its calls; `gate` can hold every call."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, environ, start_response):
        self.calls += 1
        self.gate.wait(10)
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok " + body]


def scope(method: str = "POST", path: str = "/LearnerService.svc", length: int | None = None) -> dict:
    headers = [(b"content-type", b"text/xml")] + ([(b"content-length", str(length).encode())] if length is not None else [])
    return {"type": "http", "method": method, "path": path, "query_string": b"", "headers": headers, "client": ("192.0.2.1", 5000)}


class Client:
    """One request: the body in `chunks`, then (optionally) a disconnect after `leave_after` s."""

    def __init__(self, chunks: list[bytes], *, stall: bool = False, leave: asyncio.Event | None = None) -> None:
        self.messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1 or stall} for i, c in enumerate(chunks)]
        self.leave = leave
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        if self.messages:
            return self.messages.pop(0)
        if self.leave is not None:
            await self.leave.wait()
            return {"type": "http.disconnect"}
        await asyncio.sleep(3600)  # a stalled client
        raise AssertionError("unreachable")

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        return next((m["status"] for m in self.sent if m["type"] == "http.response.start"), None)

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_whole_body_reaches_the_application_and_the_answer_comes_back() -> None:
    front = BufferedWsgi(App(), refuse=refuse, threads=2, max_body=100, read_timeout=1)
    client = Client([b"<a>", b"</a>"])
    run(front(scope(), client.receive, client.send))
    assert (client.status, client.body) == (200, b"ok <a></a>")


def test_declared_too_large_is_refused_without_reading_and_a_stall_times_out() -> None:
    app = App()
    front = BufferedWsgi(app, refuse=refuse, threads=2, max_body=100, read_timeout=0.2)
    large = Client([b"x" * 10])
    run(front(scope(length=101), large.receive, large.send))
    assert large.status == 413 and large.messages, "the body was read"
    stalled = Client([b"half"], stall=True)
    run(front(scope(length=50), stalled.receive, stalled.send))
    assert stalled.status == 408 and b"0.2 seconds (4 bytes received)" in stalled.body
    assert app.calls == 0


def test_the_bodies_held_at_once_have_a_budget() -> None:
    front = BufferedWsgi(App(), refuse=refuse, threads=2, max_body=150, read_timeout=0.3, buffer_budget=250)

    async def scenario():
        stalled = [Client([b"x" * 100], stall=True) for _ in range(3)]
        tasks = [asyncio.create_task(front(scope(length=150), c.receive, c.send)) for c in stalled]
        await asyncio.sleep(0.05)
        assert front.buffered == 200  # the third did not fit in 250 bytes
        await asyncio.gather(*tasks)
        return stalled

    stalled = run(scenario())
    assert sorted(c.status for c in stalled) == [408, 408, 503]
    assert front.buffered == 0  # given back, whatever the outcome


def test_the_queue_is_bounded_and_requests_of_clients_that_left_are_not_run() -> None:
    app = App()
    app.gate.clear()  # every thread busy until released
    front = BufferedWsgi(app, refuse=refuse, threads=1, max_body=100, read_timeout=1, queue_limit=3)

    async def scenario():
        left = asyncio.Event()
        waiting = [Client([b"a"]), Client([b"b"], leave=left), Client([b"c"])]
        tasks = [asyncio.create_task(front(scope(), c.receive, c.send)) for c in waiting]
        await asyncio.sleep(0.05)
        refused = Client([b"d"])
        await front(scope(), refused.receive, refused.send)  # the fourth: queue full
        left.set()  # the second client gives up while it waits for the thread
        await asyncio.sleep(0.05)
        app.gate.set()
        await asyncio.gather(*tasks)
        return waiting, refused

    waiting, refused = run(scenario())
    assert refused.status == 503
    assert [c.status for c in waiting] == [200, None, 200]
    assert app.calls == 2  # the request whose client left was never run


def test_get_answers_from_its_own_threads_while_every_request_thread_is_busy() -> None:
    app = App()
    front = BufferedWsgi(app, refuse=refuse, threads=1, max_body=100, read_timeout=1, get_deadline=0.2)

    async def scenario():
        app.gate.clear()
        busy = Client([b"slow"])
        task = asyncio.create_task(front(scope(), busy.receive, busy.send))
        await asyncio.sleep(0.05)
        app.gate.set()  # GETs may pass; the POST already holds the only request thread
        wsdl = Client([b""])
        await front(scope("GET", "/LearnerService.svc"), wsdl.receive, wsdl.send)
        await task
        return wsdl

    assert run(scenario()).status == 200
    held = App()
    held.gate.clear()
    slow_get = BufferedWsgi(held, refuse=refuse, threads=1, max_body=100, read_timeout=1, get_deadline=0.1)
    health = Client([b""])
    run(slow_get(scope("GET", "/health"), health.receive, health.send))
    held.gate.set()
    assert health.status == 503 and b"0.1 seconds" in health.body


def test_a_body_in_one_chunk_reaches_the_application_uncopied_and_a_dropped_request_gets_no_answer() -> None:
    read = []

    def dropping(environ, start_response):
        read.append(environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"])))
        raise DropConnection

    front = BufferedWsgi(dropping, refuse=refuse, threads=1, max_body=100, read_timeout=1)
    chunk = b"<a>" + b"x" * 50 + b"</a>"
    client = Client([chunk, b""])  # as Hypercorn: the data, then an empty last message
    run(front(scope(), client.receive, client.send))
    assert client.sent == [{"type": DROP_MESSAGE}]  # no response at all: the server closes
    assert read[0] is chunk
    chunked = Client([b"<a>", b"</a>"])
    run(BufferedWsgi(App(), refuse=refuse, threads=1, max_body=100, read_timeout=1)(scope(), chunked.receive, chunked.send))
    assert chunked.body == b"ok <a></a>"


# --- X-Forwarded-For from trusted proxies -------------------------------------------------------


def _forwarded(*values: str) -> list[tuple[bytes, bytes]]:
    return [(b"X-Forwarded-For", value.encode()) for value in values]


@pytest.mark.parametrize(
    "trusted, peer, headers, client",
    [
        ((), "127.0.0.1", _forwarded("203.0.113.7"), "127.0.0.1"),  # nothing trusted: the header is ignored
        (("127.0.0.1",), "127.0.0.2", _forwarded("203.0.113.7"), "127.0.0.2"),  # not from a trusted proxy
        (("127.0.0.1",), "127.0.0.1", [], "127.0.0.1"),  # a trusted proxy that sent no header
        (("127.0.0.1",), "127.0.0.1", _forwarded("203.0.113.7"), "203.0.113.7"),
        # a client's own made-up entries come first; the proxy appended what it saw
        (("127.0.0.1",), "127.0.0.1", _forwarded("198.51.100.1, 203.0.113.7"), "203.0.113.7"),
        # two proxies, the header given twice: read as one list
        (("127.0.0.1", "10.0.0.0/8"), "127.0.0.1", _forwarded("198.51.100.1", "203.0.113.7, 10.1.2.3"), "203.0.113.7"),
        # what is not an address ends the reading at the nearest address known
        (("127.0.0.1", "10.0.0.0/8"), "127.0.0.1", _forwarded("unknown, 10.1.2.3"), "10.1.2.3"),
        (("127.0.0.1",), "127.0.0.1", _forwarded("[2001:db8::1]:443"), "2001:db8::1"),
        (("127.0.0.1",), "127.0.0.1", _forwarded("203.0.113.9:5123"), "203.0.113.9"),
        (("*",), "192.0.2.1", _forwarded("203.0.113.7, 198.51.100.1"), "203.0.113.7"),  # all trusted: the first
    ],
)
def test_the_client_behind_trusted_proxies(trusted, peer, headers, client):
    assert TrustedProxies(trusted).client(peer, headers) == client
