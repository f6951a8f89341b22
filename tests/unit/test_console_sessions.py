"""The console's signed session cookie and CSRF tokens (lrs_ws.console.sessions)."""
from __future__ import annotations

from lrs_ws.console.sessions import LIFETIME, SessionSigner

NOW = 1_800_000_000.0


def test_a_session_reads_back_until_it_ends():
    signer = SessionSigner(b"secret")
    session = signer.new(42, now=NOW)
    value = signer.cookie_value(session)
    assert signer.read(value, now=NOW + 1) == session
    assert signer.read(value, now=NOW + LIFETIME - 1) == session
    assert signer.read(value, now=NOW + LIFETIME) is None


def test_another_secret_or_any_changed_character_reads_as_no_session():
    signer = SessionSigner(b"secret")
    value = signer.cookie_value(signer.new(None, now=NOW))
    assert SessionSigner(b"other").read(value, now=NOW) is None
    for index in range(len(value)):
        changed = value[:index] + ("A" if value[index] != "A" else "B") + value[index + 1:]
        assert signer.read(changed, now=NOW) is None, index
    for junk in ("", ".", "x.y", "a.b.c", "e30." + "A" * 43):
        assert signer.read(junk, now=NOW) is None


def test_each_session_has_its_own_csrf_token():
    signer = SessionSigner(b"secret")
    first, second = signer.new(None, now=NOW), signer.new(None, now=NOW)
    token = signer.csrf_token(first)
    assert signer.csrf_ok(first, token)
    assert not signer.csrf_ok(second, token)
    assert not signer.csrf_ok(first, "")
    assert not signer.csrf_ok(first, None)
    assert not signer.csrf_ok(first, token[:-1] + "é")
