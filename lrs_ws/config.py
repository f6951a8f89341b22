"""Settings of a running lrs-ws, from arguments or `LRS_WS_*` environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

# Relative to the working directory, so a fresh checkout runs with no configuration.
DEFAULT_DATABASE_URL = "sqlite:///lrs-ws.sqlite3"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def _words(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(w.strip() for w in text.split(",") if w.strip())


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    # Base URL that clients reach us at; the WSDLs' soap:address is built from it, never from Host.
    public_url: str = DEFAULT_PUBLIC_URL
    # More possible matches than this gives WSRC0002 (too many).
    possible_match_limit: int = 10
    # A register needs a FUL demographic search of the same five key fields within this window.
    find_before_register_minutes: int = 30
    # None: the domain's default list (lrs_ws.domain.rules.DEFAULT_PROHIBITED_WORDS).
    prohibited_words: tuple[str, ...] | None = None
    max_request_bytes: int = 2 * 1024 * 1024
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None, **overrides: object) -> "Settings":
        env = os.environ if environ is None else environ
        settings = cls(
            database_url=env.get("LRS_WS_DATABASE_URL", DEFAULT_DATABASE_URL),
            public_url=env.get("LRS_WS_PUBLIC_URL", DEFAULT_PUBLIC_URL),
            possible_match_limit=int(env.get("LRS_WS_POSSIBLE_MATCH_LIMIT", "10")),
            find_before_register_minutes=int(env.get("LRS_WS_FIND_BEFORE_REGISTER_MINUTES", "30")),
            prohibited_words=_words(env.get("LRS_WS_PROHIBITED_WORDS")),
            max_request_bytes=int(env.get("LRS_WS_MAX_REQUEST_BYTES", str(2 * 1024 * 1024))),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **given) if given else settings

    def endpoint(self, path: str) -> str:
        return self.public_url.rstrip("/") + "/" + path.lstrip("/")
