import time

import pytest

from lrs_ws.domain import passwords
from lrs_ws.domain.passwords import hash_password, verify_password


@pytest.fixture(autouse=True)
def fresh_cache():
    passwords.clear_cache()
    yield
    passwords.clear_cache()


def test_hash_format():
    stored = hash_password("s3cret!")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", str(2**14), "8", "1")
    assert len(salt) == 24 and len(digest) == 44  # base64 of 16 and 32 bytes
    assert "s3cret" not in stored


def test_right_and_wrong_password():
    stored = hash_password("correct horse")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horse ", stored)
    assert not verify_password("", stored)


def test_salts_differ():
    assert hash_password("same") != hash_password("same")


def test_unicode_password():
    stored = hash_password("pässwörd✓")
    assert verify_password("pässwörd✓", stored)
    assert not verify_password("passwörd✓", stored)


@pytest.mark.parametrize(
    "stored",
    ["", "plain", "bcrypt$1$2$3$AAAA$BBBB", "scrypt$x$8$1$AAAA$BBBB", "scrypt$16384$8$1$!!$BBBB",
     "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$"],
)
def test_malformed_stored_values_never_verify(stored):
    assert verify_password("anything", stored) is False


def test_repeat_verification_is_cached_and_cheap():
    stored = hash_password("pw")
    start = time.perf_counter()
    assert verify_password("pw", stored)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(100):
        assert verify_password("pw", stored)
    repeats = (time.perf_counter() - start) / 100
    assert repeats < first / 10


def test_cache_keeps_wrong_and_right_apart():
    stored = hash_password("pw")
    assert not verify_password("wrong", stored)
    assert verify_password("pw", stored)
    assert not verify_password("wrong", stored)
    other = hash_password("other")
    assert not verify_password("pw", other)


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(passwords, "CACHE_SIZE", 3)
    monkeypatch.setattr(passwords, "_verify_uncached", lambda pw, stored: pw == "ok")
    for i in range(10):
        verify_password(f"pw{i}", "stored")
    assert len(passwords._cache) == 3
