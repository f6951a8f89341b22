"""Organisation passwords: scrypt hashes, and a small cache so each request need not pay scrypt.

Stored form: ``scrypt$n$r$p$salt_b64$hash_b64``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32
_MAXMEM = 64 * 1024 * 1024  # scrypt needs 128 * r * n bytes (16 MiB here); leave headroom
CACHE_SIZE = 1024


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # never fail on odd input; it just won't match


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(_utf8(password), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=length)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, N, R, P, HASH_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def _verify_uncached(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme != SCHEME:
            return False
        salt = base64.b64decode(salt_b64, validate=True)
        expected = base64.b64decode(hash_b64, validate=True)
        actual = _scrypt(password, salt, int(n), int(r), int(p), len(expected))
    except ValueError:  # malformed stored value or parameters scrypt rejects
        return False
    return bool(expected) and hmac.compare_digest(actual, expected)


# (stored, password) -> verdict, keyed by an HMAC so no password is kept in memory.
_cache: OrderedDict[bytes, bool] = OrderedDict()
_cache_lock = threading.Lock()


def verify_password(password: str, stored: str) -> bool:
    """True when `password` hashes to `stored`; repeats of the same pair are answered cheaply."""
    key = hmac.new(_utf8(stored), _utf8(password), hashlib.sha256).digest()
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    verdict = _verify_uncached(password, stored)
    with _cache_lock:
        _cache[key] = verdict
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)  # least recently used
    return verdict


def clear_cache() -> None:
    """Forget cached verdicts (tests; or after a password change, though keys differ anyway)."""
    with _cache_lock:
        _cache.clear()
