"""HTTP at its edges, against the real server: HTTP/2 attempts, hostile paths, the access log."""
from __future__ import annotations

import socket
import time

from tests.e2e.serving import answer, fault_detail, find_by_uln, serving

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")  # + an empty SETTINGS frame


def test_http2_attempts_get_http1_and_idle_ones_are_closed(tmp_path) -> None:
    with serving(tmp_path, "--workers", "1", "--keep-alive", "1", sqlite=True) as server:
        # Prior knowledge: not switched to HTTP/2 (where an idle connection was never closed).
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(H2_PREFACE)
            started = time.monotonic()
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
            assert time.monotonic() - started < 1 + 3
        assert received.startswith(b"HTTP/1.1 "), received[:80]
        # An h2c upgrade is ignored: the answer is HTTP/1.1 and the request is served.
        response = server.get("/health", headers={"Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c", "HTTP2-Settings": ""})
        assert response.status_code == 200 and response.raw.version == 11
        assert answer(server.post("/LearnerService.svc", find_by_uln())) == "WSRC0004"


def test_control_characters_in_a_path_are_a_fault_and_cannot_forge_log_lines(tmp_path) -> None:
    access_log = tmp_path / "access.log"
    options = ("--workers", "1", "--log-level", "error", "--access-log", str(access_log))
    with serving(tmp_path, *options, sqlite=True) as server:
        forged = "[2026-11-25 18:00:00 +0000] [1] [INFO] forged: admin signed in"
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(f"GET /x%01%0a{forged.replace(' ', '%20')} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 404"), head
        assert fault_detail(body)[1] == "WSEC0002"
        assert server.post("/health", b"").status_code == 405
        time.sleep(0.5)  # the access log line is written after the response
        # Every request is in the access log even at --log-level error, each on one line.
        lines = access_log.read_text().splitlines()
        assert any('"GET /x\\x01\\x0a[2026-11-25' in line for line in lines), lines
        assert not any(line.startswith("[2026-11-25 18:00:00 +0000] [1]") for line in lines)
        assert any('"POST /health HTTP/1.1" 405' in line for line in lines), lines
        assert "Traceback" not in server.log()


def test_absolute_form_request_targets_are_served_as_their_path(tmp_path) -> None:
    """RFC 9112 3.2.2: a server MUST accept the absolute form (what a client sends to a proxy)."""
    from tests.e2e.serving import R9_ACTION, answer_of, learning_events

    with serving(tmp_path, "--workers", "1", "--no-worker", sqlite=True) as server:
        def exchange(request: bytes) -> tuple[bytes, bytes]:
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                sock.sendall(request)
                received = b""
                while chunk := sock.recv(65536):
                    received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            return head, body

        base = f"http://127.0.0.1:{server.port}"
        envelope = learning_events().encode()
        head, body = exchange(
            f"POST {base}/LearnerServiceR9.svc HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: text/xml; charset=utf-8\r\n"
            f"SOAPAction: {R9_ACTION}\r\nContent-Length: {len(envelope)}\r\nConnection: close\r\n\r\n".encode() + envelope
        )
        assert head.startswith(b"HTTP/1.1 200"), head
        assert answer_of(body) == "WSRC0004"
        envelope = find_by_uln().encode()
        head, body = exchange(
            f"POST {base}/LearnerService.svc?x=1 HTTP/1.1\r\nHost: elsewhere\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(envelope)}\r\nConnection: close\r\n\r\n".encode() + envelope
        )
        assert head.startswith(b"HTTP/1.1 200") and answer_of(body) == "WSRC0004", head
        head, body = exchange(f"GET {base}/LearnerService.svc?wsdl HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert head.startswith(b"HTTP/1.1 200") and b"wsdl:definitions" in body, head
        head, body = exchange(f"GET {base}/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert head.startswith(b"HTTP/1.1 200") and b'"ok"' in body, head
        head, body = exchange(f"GET {base}/nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert head.startswith(b"HTTP/1.1 404") and fault_detail(body)[1] == "WSEC0002", head
