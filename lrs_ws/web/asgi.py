"""The HTTP front of a worker: an ASGI application that reads each request whole, within a size
limit and a deadline, before a thread runs the WSGI application on it.

Why: a WSGI thread that reads a slow client's body is a thread lost to everyone else (twelve
clients stalled half-way through their bodies starved gunicorn's eight gthread threads). Here a
stalled client costs one coroutine on the event loop; the threads only ever see whole requests.
Hypercorn closes connections whose request head is incomplete after its keep-alive timeout;
this front answers 408 when the body has not arrived `read_timeout` seconds after the head, 413
as soon as the declared or received body outgrows `max_body` (the body is not read on), and 503
when the worker holds too many bodies or requests already (see BufferedWsgi). Those refusals are
in the application's own form (`refuse`: lrs_ws.web.mounts.MountTable.refusal), not bare status
lines. An application that raises DropConnection gets no answer sent: the connection is closed
(DROP_MESSAGE).
"""
from __future__ import annotations

import asyncio
import io
import ipaddress
import logging
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from lrs_ws.balance import note_request
from lrs_ws.web.answers import DropConnection

log = logging.getLogger(__name__)

# Requests that may wait for a thread, per thread, before new ones are answered 503.
QUEUE_PER_THREAD = 16
# Bodies held in memory at once, in request-size limits (2 MiB by default: 64 MiB a worker).
BUFFER_BODIES = 32

Headers = list[tuple[str, str]]
# (path, HTTP status, what went wrong) -> (status line, headers, body): a refusal in the
# application's own form.
Refuse = Callable[[str, int, str], tuple[str, Headers, bytes]]
# The ASGI message by which the front asks the server to close the connection without answering.
# No ASGI message says that (an application that ends without answering gets a 500 from
# Hypercorn): the workers' Hypercorn is taught this one (lrs_ws.server.allow_dropped_connections).
DROP_MESSAGE = "lrs_ws.http.drop"
_DROPPED = object()  # what a thread hands back for a dropped request


class BufferedWsgi:
    """ASGI application running `wsgi` on whole requests in a pool of `threads` threads.

    Bounds, so that no client, however many connections it opens, can exhaust the worker:

    - bodies held in memory, all requests together: `buffer_budget` bytes (503 beyond);
    - requests waiting for or in a thread: `queue_limit` (503 beyond); a request whose client
      has gone by the time a thread is free is not run;
    - GET and HEAD (WSDLs, the index page, /health) run in a small pool of their own with a
      deadline, so they answer even while every request thread waits on the database.
    """

    def __init__(
        self,
        wsgi: Callable,
        *,
        refuse: Refuse,
        threads: int,
        max_body: int,
        read_timeout: float,
        queue_limit: int | None = None,
        buffer_budget: int | None = None,
        get_deadline: float = 10.0,
        proxies: TrustedProxies | None = None,
    ) -> None:
        self.wsgi = wsgi
        self.proxies = proxies or TrustedProxies()
        self.refuse = refuse
        self.max_body = max_body
        self.read_timeout = read_timeout
        self.threads = threads
        self.queue_limit = queue_limit or QUEUE_PER_THREAD * threads
        self.buffer_budget = buffer_budget or BUFFER_BODIES * max_body
        self.get_deadline = get_deadline
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="lrs-ws-request")
        self.get_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lrs-ws-get")
        self.buffered = 0  # bytes of bodies held now (the event loop's own: no lock)
        self.queued = 0  # requests waiting for or running in self.pool

    async def __call__(self, scope: dict, receive: Callable[[], Awaitable[dict]], send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)
        # Anything else (a WebSocket) is refused: Hypercorn closes it when the app returns.

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.pool.shutdown(wait=True)
                self.get_pool.shutdown(wait=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: dict, receive, send) -> None:
        note_request(scope.get("client"))  # this connection is busy (lrs_ws.balance)
        if self.proxies and scope.get("client"):
            # In place, as proxy middleware does: Hypercorn's access log then names the client too.
            scope["client"] = (self.proxies.client(scope["client"][0], scope["headers"]), scope["client"][1])
        scope = origin_form(scope)
        path = scope["path"]
        declared = _declared_length(scope["headers"])
        if declared is not None and declared > self.max_body:
            return await self._refuse(
                send, path, 413, f"The request body ({declared} bytes) exceeds the limit of {self.max_body} bytes", unread=True
            )
        held = 0
        try:
            chunks: list[bytes] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.read_timeout
            while True:
                try:
                    message = await asyncio.wait_for(receive(), timeout=max(deadline - loop.time(), 0))
                except TimeoutError:
                    return await self._refuse(
                        send,
                        path,
                        408,
                        f"The request body did not arrive within {self.read_timeout:g} seconds ({held} bytes received)",
                        unread=True,
                    )
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                if held + len(chunk) > self.max_body:
                    return await self._refuse(send, path, 413, f"The request body exceeds the limit of {self.max_body} bytes", unread=True)
                if self.buffered + len(chunk) > self.buffer_budget:
                    return await self._refuse(send, path, 503, "The service is busy; try again later.", unread=True)
                if chunk:
                    chunks.append(chunk)
                held += len(chunk)
                self.buffered += len(chunk)
                if not message.get("more_body", False):
                    break
            # A body that came in one chunk (Hypercorn's for a small one) is handed over as it is.
            environ = wsgi_environ(scope, chunks[0] if len(chunks) == 1 else b"".join(chunks))
            del chunks
            if scope["method"] in ("GET", "HEAD"):
                await self._run_get(send, path, environ)
            else:
                await self._run(send, receive, path, environ)
        finally:
            self.buffered -= held

    async def _run(self, send, receive, path: str, environ: dict) -> None:
        if self.queued >= self.queue_limit:
            return await self._refuse(send, path, 503, "The service is busy; try again later.")
        self.queued += 1
        gone = threading.Event()  # set when the client leaves before a thread takes the request
        watcher = asyncio.create_task(_watch_disconnect(receive, gone))
        try:
            result = await asyncio.get_running_loop().run_in_executor(self.pool, _run_unless_gone, self.wsgi, environ, gone)
        except Exception:  # the application answers its own errors; this is the last line of defence
            log.exception("unexpected error serving %r", path)
            result = self.refuse(path, 500, "The request could not be completed.")
        finally:
            self.queued -= 1
            watcher.cancel()
        if result is _DROPPED:
            await send({"type": DROP_MESSAGE})
        elif result is not None:
            await _respond(send, *result)

    async def _run_get(self, send, path: str, environ: dict) -> None:
        loop = asyncio.get_running_loop()
        try:
            result = await asyncio.wait_for(loop.run_in_executor(self.get_pool, _run_wsgi, self.wsgi, environ), self.get_deadline)
        except TimeoutError:
            result = self.refuse(path, 503, f"No answer within {self.get_deadline:g} seconds.")
        except Exception:
            log.exception("unexpected error serving %r", path)
            result = self.refuse(path, 500, "The request could not be completed.")
        if result is _DROPPED:
            await send({"type": DROP_MESSAGE})
        else:
            await _respond(send, *result)

    async def _refuse(self, send, path: str, status: int, detail: str, *, unread: bool = False) -> None:
        """Answer with the application's refusal. `unread`: the body was not read to its end, so
        the connection closes with this answer (else what the client goes on sending would be
        read as its next request, or hold the connection open while it comes)."""
        status_line, headers, body = self.refuse(path, status, detail)
        if unread:
            headers = [*headers, ("Connection", "close")]
        await _respond(send, status_line, headers, body)


class TrustedProxies:
    """The reverse proxies whose X-Forwarded-For header is believed (`--forwarded-allow-ips`).

    Behind them every client has a proxy's address; the client is the first address of the
    header, read from the right (each proxy appends the peer it saw), that is not a trusted
    proxy. Entries that are not IP addresses (`unknown`, obfuscated names) end the reading: the
    nearest address known is then the one used. Nothing trusted: the peer's own address.
    """

    def __init__(self, entries: tuple[str, ...] = ()) -> None:
        self.everyone = "*" in entries
        self.networks = tuple(ipaddress.ip_network(entry, strict=False) for entry in entries if entry != "*")

    def __bool__(self) -> bool:
        return self.everyone or bool(self.networks)

    def trusts(self, address: str) -> bool:
        if self.everyone:
            return True
        parsed = _address(address)
        return parsed is not None and any(parsed in network for network in self.networks)

    def client(self, peer: str, headers: list[tuple[bytes, bytes]]) -> str:
        if not self or not self.trusts(peer):
            return peer
        forwarded = [
            entry.strip()
            for name, value in headers
            if name.lower() == b"x-forwarded-for"
            for entry in value.decode("latin-1").split(",")
        ]
        client = peer
        for entry in reversed(forwarded):
            parsed = _address(entry)
            if parsed is None:
                break
            client = str(parsed)
            if not self.trusts(client):
                break
        return client


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address as X-Forwarded-For may write it: bare, `[v6]`, `v4:port` or `[v6]:port`."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def origin_form(scope: dict) -> dict:
    """The scope of a request whose target is in absolute form (`POST http://host/path HTTP/1.1`,
    which RFC 9112 section 3.2.2 says a server must accept) with its path alone."""
    path = scope["path"]
    if path.startswith("/") or "://" not in path:
        return scope
    raw = scope.get("raw_path", path.encode("utf-8")).decode("latin-1")
    return {**scope, "path": urlsplit(path).path or "/", "raw_path": (urlsplit(raw).path or "/").encode("latin-1")}


async def _watch_disconnect(receive, gone: threading.Event) -> None:
    """After the whole body, the next message can only be http.disconnect: the client left."""
    while (await receive())["type"] != "http.disconnect":
        pass
    gone.set()


def _run_unless_gone(wsgi: Callable, environ: dict, gone: threading.Event):
    if gone.is_set():
        return None  # nobody is waiting for this answer: spend nothing on it
    return _run_wsgi(wsgi, environ)


def _declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP layer refuses a malformed Content-Length itself
    return None


def wsgi_environ(scope: dict, body: bytes) -> dict[str, Any]:
    """A PEP 3333 environ for an ASGI HTTP scope and its whole body."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),  # shares `body`: reading it whole gives it back, uncopied
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_LENGTH":
            continue  # the body is whole: its real length is above
        key = name if name == "CONTENT_TYPE" else f"HTTP_{name}"
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _run_wsgi(wsgi: Callable, environ: dict) -> Any:
    """(status line, headers, body) of the application's answer, or _DROPPED."""
    started: dict[str, Any] = {}

    def start_response(status: str, headers: Headers, exc_info: Any = None) -> None:
        started["status"], started["headers"] = status, headers

    try:
        result = wsgi(environ, start_response)
    except DropConnection:
        return _DROPPED
    try:
        content = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return started["status"], started["headers"], content


async def _respond(send, status: str, headers: Headers, content: bytes) -> None:
    encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    await send({"type": "http.response.start", "status": int(status.split(" ", 1)[0]), "headers": encoded})
    await send({"type": "http.response.body", "body": content, "more_body": False})
