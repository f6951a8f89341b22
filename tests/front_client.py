"""One request through the buffering ASGI front (lrs_ws.web.asgi.BufferedWsgi), in-process, as an
ASGI server hands it over: for what only the front does (the body's size limit, dropping)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from requests.structures import CaseInsensitiveDict


@dataclass
class Exchanged:
    """What the front sent back: `status_code`, `headers` and `content` as requests has them, and
    every ASGI message (a drop sends no response at all)."""

    messages: list[dict] = field(default_factory=list)

    @property
    def status_code(self) -> int | None:
        return next((m["status"] for m in self.messages if m["type"] == "http.response.start"), None)

    @property
    def headers(self) -> CaseInsensitiveDict:
        start = next((m for m in self.messages if m["type"] == "http.response.start"), {"headers": []})
        return CaseInsensitiveDict({name.decode("latin-1"): value.decode("latin-1") for name, value in start["headers"]})

    @property
    def content(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")


def exchange(front, method: str, path: str, body: bytes = b"", headers: tuple[tuple[str, str], ...] = ()) -> Exchanged:
    """Send one request (its body in one message, as Hypercorn does with a small one) and gather
    what the front sends."""
    scope = {
        "type": "http", "method": method, "path": path, "query_string": b"", "client": ("192.0.2.1", 5000),
        "headers": [(b"content-type", b"text/xml; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        + [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers],
    }
    received = [{"type": "http.request", "body": body, "more_body": False}]
    exchanged = Exchanged()

    async def receive() -> dict:
        if received:
            return received.pop(0)
        await asyncio.sleep(3600)  # the client waits for its answer
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        exchanged.messages.append(message)

    asyncio.run(front(scope, receive, send))
    return exchanged
