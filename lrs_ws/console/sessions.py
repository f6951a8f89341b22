"""The console's session cookie and its CSRF tokens.

A session is a signed cookie (HMAC-SHA256 over a small JSON payload), so every server process
and every host given the same secret reads it without shared state: who signed in (the sandbox
token, or an organisation's user by id), a random session id, and when it ends. The CSRF token
of a session is an HMAC of its id: a form carries it, and a POST without the session's own is
refused. The cookie is HttpOnly and SameSite=Strict; Secure when the console is served over HTTPS.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from lrs_ws.clock import SYSTEM_CLOCK

COOKIE = "lrs_console"
LIFETIME = 8 * 3600  # seconds a session lasts (a working day); signing in again starts another


@dataclass(frozen=True)
class Session:
    """Who signed in: `user_id` None for the sandbox token."""

    session_id: str
    user_id: int | None
    ends: int  # epoch seconds

    @property
    def sandbox(self) -> bool:
        return self.user_id is None


class SessionSigner:
    def __init__(self, secret: bytes) -> None:
        self.key = hashlib.sha256(b"lrs-ws console session\0" + secret).digest()

    def new(self, user_id: int | None, now: float | None = None) -> Session:
        return Session(secrets.token_urlsafe(18), user_id, int(now if now is not None else _host_now()) + LIFETIME)

    def cookie_value(self, session: Session) -> str:
        payload = json.dumps({"s": session.session_id, "u": session.user_id, "e": session.ends}, separators=(",", ":"))
        body = _b64(payload.encode("utf-8"))
        return f"{body}.{self._sign(body)}"

    def read(self, value: str | None, now: float | None = None) -> Session | None:
        """The session of a cookie value, or None when it is missing, forged, malformed or over."""
        if not value or value.count(".") != 1:
            return None
        body, signature = value.split(".")
        if not hmac.compare_digest(signature.encode("ascii", "replace"), self._sign(body).encode("ascii")):
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            session = Session(str(payload["s"]), payload["u"], int(payload["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        if session.user_id is not None and not isinstance(session.user_id, int):
            return None
        return session if session.ends > (now if now is not None else _host_now()) else None

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self.key, b"csrf\0" + session.session_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(str(sent).encode("utf-8", "replace"), self.csrf_token(session).encode("ascii"))

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self.key, body.encode("ascii", "replace"), hashlib.sha256).digest())


def _host_now() -> float:
    """Sessions end by the host's time, never the sandbox clock (a clock set years ahead must
    not sign everyone out)."""
    return SYSTEM_CLOCK.now().timestamp()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
