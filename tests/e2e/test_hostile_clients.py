"""Clients that stall, trickle or send too much cannot take the service from everyone else.

One worker with two request threads: 48 connections that sent half a body and stopped must not
hold a thread; each gets a 408 SOAP fault and is closed after --read-timeout. A request head
that never completes is closed after --keep-alive. A body declared larger than
--max-request-bytes is refused (413) at once, without waiting for it.
"""
from __future__ import annotations

import http.client
import socket
import time

import pytest
import requests

from tests.e2e.serving import answer_of, fault_detail, find_by_uln, serving

READ_TIMEOUT = 3.0
KEEP_ALIVE = 2.0
MAX_REQUEST_BYTES = 4096
STALLED = 48


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serving(
        tmp_path_factory.mktemp("hostile"),
        "--workers", "1",
        "--threads", "2",
        "--read-timeout", f"{READ_TIMEOUT:g}",
        "--keep-alive", f"{KEEP_ALIVE:g}",
        "--max-request-bytes", str(MAX_REQUEST_BYTES),
    ) as served:
        yield served


def _connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=5)


def _head(content_length: int) -> bytes:
    return (
        "POST /LearnerService.svc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\n"
        f"Content-Length: {content_length}\r\n\r\n"
    ).encode("ascii")


def _read_response(sock: socket.socket, deadline: float, what: str = "the request") -> tuple[int, bytes]:
    """The HTTP response on `sock` (status, body), which must arrive before `deadline`."""
    sock.settimeout(max(deadline - time.monotonic(), 0.01))
    response = http.client.HTTPResponse(sock)
    try:
        response.begin()
        return response.status, response.read()
    except TimeoutError:
        raise AssertionError(f"no response to {what} in time") from None


def _closed_by(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closes `sock` (end of stream) before `deadline`."""
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data = sock.recv(4096)
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        if not data:
            return True
        if time.monotonic() > deadline:
            return False


def test_stalled_bodies_hold_no_thread_and_get_408_faults(server):
    stalled = []
    try:
        for _ in range(STALLED):
            sock = _connect(server)
            sock.sendall(_head(2000) + b"<" * 1000)  # half the body, then nothing
            stalled.append((sock, time.monotonic()))

        # Two threads, 48 stalled clients: every other client is still served at once.
        for i in range(20):
            started = time.monotonic()
            try:
                response = requests.post(
                    server.url("/LearnerService.svc"), data=find_by_uln(), headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=3
                )
            except requests.Timeout:
                pytest.fail(f"request {i} had no answer within 3 s behind {STALLED} stalled clients")
            took = time.monotonic() - started
            assert answer_of(response.content) == "WSRC0004", response.text[:300]
            assert took < 1.0, f"request {i} took {took:.2f} s behind {STALLED} stalled clients"

        for n, (sock, opened) in enumerate(stalled):
            deadline = opened + READ_TIMEOUT + 3
            status, body = _read_response(sock, deadline, f"stalled socket {n} within {READ_TIMEOUT + 3:g} s")
            arrived = time.monotonic() - opened
            assert status == 408, (n, status, body[:300])
            kind, code, details = fault_detail(body)
            assert (kind, code) == ("MIAPAPIException", "WSEC0001"), details
            assert "did not arrive within 3 seconds" in details
            assert arrived >= READ_TIMEOUT - 0.5, f"socket {n} refused after {arrived:.2f} s, before the read timeout"
            assert _closed_by(sock, deadline), f"socket {n} still open {READ_TIMEOUT + 3} s after its head"
    finally:
        for sock, _ in stalled:
            sock.close()
    assert answer_of(requests.post(server.url("/LearnerService.svc"), data=find_by_uln(), timeout=5).content) == "WSRC0004"


def test_an_incomplete_request_head_is_closed_after_keep_alive(server):
    sock = _connect(server)
    try:
        sent_at = time.monotonic()
        sock.sendall(b"POST /LearnerService.svc HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        closed_at = None
        while time.monotonic() - sent_at < KEEP_ALIVE + 4:
            # One more header byte a second: never a whole head, always some traffic.
            if _closed_by(sock, time.monotonic() + 1.0):
                closed_at = time.monotonic()
                break
            try:
                sock.sendall(b"a")
            except (BrokenPipeError, ConnectionResetError):
                closed_at = time.monotonic()
                break
        assert closed_at is not None, f"an incomplete head was still open after {KEEP_ALIVE + 4:g} s"
        assert closed_at - sent_at <= KEEP_ALIVE + 2, f"closed after {closed_at - sent_at:.2f} s (keep-alive {KEEP_ALIVE:g} s)"
    finally:
        sock.close()


def test_a_declared_body_over_the_limit_is_refused_at_once(server):
    sock = _connect(server)
    try:
        started = time.monotonic()
        sock.sendall(_head(MAX_REQUEST_BYTES * 25))  # and no body at all
        status, body = _read_response(sock, started + 1.0)
        assert status == 413, body[:300]
        kind, code, details = fault_detail(body)
        assert (kind, code) == ("MIAPAPIException", "WSEC0001")
        assert f"limit of {MAX_REQUEST_BYTES} bytes" in details
        assert time.monotonic() - started < 1.0
    finally:
        sock.close()


def test_a_body_over_the_limit_on_the_r9_endpoint_is_a_domain_fault(server):
    response = requests.post(
        server.url("/LearnerServiceR9.svc"), data=b"<" * (MAX_REQUEST_BYTES + 1), headers={"Content-Type": "text/xml"}, timeout=5
    )
    assert response.status_code == 413
    assert fault_detail(response.content)[:2] == ("DomainFault", "WSEC0001")


def test_a_chunked_body_over_the_limit_is_refused_and_the_connection_closed_at_once(server):
    """No Content-Length: the limit is found as the chunks arrive; the 413 fault is sent and the
    connection closed then, however long the client goes on sending."""
    sock = _connect(server)
    try:
        sock.sendall(
            b"POST /LearnerService.svc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"1000\r\n" + b"<" * 0x1000 + b"\r\n"
        started = time.monotonic()
        closed = False
        received = b""
        while time.monotonic() - started < 8 and not closed:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            sock.settimeout(0.05)
            try:
                data = sock.recv(65536)
                received += data
                closed = not data
            except TimeoutError:
                pass
            except ConnectionResetError:
                closed = True
        assert received.startswith(b"HTTP/1.1 413"), received[:200]
        assert b"connection: close" in received.lower().split(b"\r\n\r\n")[0]
        assert closed or _closed_by(sock, time.monotonic() + 1.0), "the connection stayed open after the 413"
        assert time.monotonic() - started < 3, f"closed only after {time.monotonic() - started:.1f} s"
        assert fault_detail(received.partition(b"\r\n\r\n")[2])[:2] == ("MIAPAPIException", "WSEC0001")
    finally:
        sock.close()
