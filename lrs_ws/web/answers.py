"""What the front and the applications mounted on it answer with.

An :class:`Answer` is a whole answer (status line, headers, body): the WSGI applications return
one, and the ASGI front sends its refusals as one. An error form (:data:`ErrorForm`) is how a
mount answers a request it refuses or a path it does not serve: SOAP faults on the services
(lrs_ws.web.soap_endpoint.SoapFaults), :func:`json_error` under an API, :func:`html_error` for
pages. :class:`DropConnection` asks the front to close the connection without answering.
"""
from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterable
from functools import cache
from http import HTTPStatus
from typing import Any, NamedTuple

Headers = list[tuple[str, str]]


class Answer(NamedTuple):
    """A whole HTTP answer."""

    status: str  # the status line: "404 Not Found"
    headers: Headers
    body: bytes

    @property
    def status_code(self) -> int:
        return int(self.status.partition(" ")[0])

    def send(self, start_response: Callable[..., Any], *, head_only: bool = False) -> list[bytes]:
        """Give it as the answer of a WSGI request."""
        start_response(self.status, self.headers)
        return [b"" if head_only else self.body]


@cache
def status_line(status: int) -> str:
    return f"{status} {HTTPStatus(status).phrase}"


def answer(status: int, content_type: str, body: bytes, headers: Iterable[tuple[str, str]] = ()) -> Answer:
    """An answer with its Content-Type and Content-Length (then `headers`)."""
    return Answer(status_line(status), [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers], body)


def json_answer(status: int, value: object, headers: Iterable[tuple[str, str]] = ()) -> Answer:
    return answer(status, "application/json", json.dumps(value).encode("utf-8"), headers)


# (HTTP status, what went wrong) -> the answer in a mount's own form.
ErrorForm = Callable[[int, str], Answer]


def json_error(status: int, detail: str) -> Answer:
    """The error form of a JSON API: `{"error": "..."}`."""
    return json_answer(status, {"error": detail})


def html_error(status: int, detail: str) -> Answer:
    """The error form of HTML pages: a small page that says what went wrong."""
    title = html.escape(status_line(status))
    page = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><p>{html.escape(detail)}</p></body></html>"
    )
    return answer(status, "text/html; charset=utf-8", page.encode("utf-8"))


class DropConnection(Exception):
    """Raised by a WSGI application for the front to close the connection without any answer
    (lrs_ws.web.asgi.BufferedWsgi)."""
