"""Every setting of lrs-ws, in one place.

Each setting is a click option of the commands that use it, with its `LRS_WS_*` environment
variable (shown in `--help`), its type and range, its default and its help text. A value out of
range, from the command line or the environment, is refused by click with one line naming the
option and the variable. The README's configuration table is :func:`markdown_table` (a test
keeps them equal).
"""
from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

import click

# Relative to the working directory, so a fresh checkout runs with no configuration.
DEFAULT_DATABASE_URL = "sqlite:///lrs-ws.sqlite3"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
MIB = 1024 * 1024
if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


class _HttpUrl(click.ParamType):
    name = "URL"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        text = str(value).strip()
        if not text.startswith(("http://", "https://")) or len(text.split("://", 1)[1].strip("/")) == 0:
            self.fail(f"{value!r} is not an http:// or https:// URL", param, ctx)
        return text.rstrip("/")


class _Words(click.ParamType):
    """A comma-separated list: `test, dummy` -> ("test", "dummy")."""

    name = "WORD,WORD..."

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        return tuple(word.strip() for word in str(value).split(",") if word.strip())


class _Proxies(click.ParamType):
    """Comma-separated IP addresses and networks (`10.0.0.0/8`), or `*` (every peer)."""

    name = "IP,NETWORK..."

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        entries = tuple(entry.strip() for entry in str(value).split(",") if entry.strip())
        for entry in entries:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                self.fail(f"{entry!r} is not an IP address or network (or *)", param, ctx)
        return entries


class _Seconds(click.FloatRange):
    """A finite number of seconds in range (FloatRange lets `nan` through)."""

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


@dataclass(frozen=True)
class Option:
    """One setting: `flag` on the command line, `envvar` in the environment."""

    flag: str
    envvar: str
    type: Any
    default: Any
    help: str
    shown_default: str | None = None  # for the README and --help when `default` is not the text
    is_flag: bool = False
    flag_value: Any = None  # set: the option may also be given without a value

    @property
    def name(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def decorate(self, command: Callable) -> Callable:
        extra: dict[str, Any] = {}
        if self.is_flag:
            extra["is_flag"] = True
        else:
            extra["type"] = self.type
        if self.flag_value is not None:
            extra["flag_value"] = self.flag_value
            extra["is_flag"] = False
        return click.option(
            self.flag,
            self.name,
            envvar=self.envvar,
            show_envvar=True,
            default=self.default,
            show_default=self.shown_default if self.shown_default is not None else not self.is_flag,
            help=self.help,
            **extra,
        )(command)

    @property
    def default_text(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        if self.is_flag:
            return "off"
        return "none" if self.default is None else str(self.default)

    @property
    def range_text(self) -> str:
        kind = self.type
        if self.is_flag:
            return "flag"
        if isinstance(kind, (click.IntRange, click.FloatRange)):
            unit = "integer" if isinstance(kind, click.IntRange) else "number"
            return f"{unit} {kind.min}-{kind.max}"
        if isinstance(kind, click.Choice):
            return " \\| ".join(kind.choices)
        if isinstance(kind, click.Path):
            return "file"
        return getattr(kind, "name", "text")


OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        # The database: every command.
        Option(
            "--database-url", "LRS_WS_DATABASE_URL", str, DEFAULT_DATABASE_URL,
            "SQLAlchemy URL: sqlite:///file.sqlite3 (embedded default) or postgresql://user@host:5432/db "
            "(extra 'postgres').",
        ),
        # The service's behaviour.
        Option(
            "--public-url", "LRS_WS_PUBLIC_URL", _HttpUrl(), None,
            "Base URL clients reach the service at; the WSDLs' soap:address.",
            shown_default="http(s)://HOST:PORT",
        ),
        Option(
            "--possible-match-limit", "LRS_WS_POSSIBLE_MATCH_LIMIT", click.IntRange(1, 1000), 10,
            "More possible matches than this answers WSRC0002 (too many).",
        ),
        Option(
            "--find-before-register-minutes", "LRS_WS_FIND_BEFORE_REGISTER_MINUTES", click.IntRange(1, 1440), 30,
            "A register needs a FUL demographic search of the same five fields within this window.",
        ),
        Option(
            "--prohibited-words", "LRS_WS_PROHIBITED_WORDS", _Words(), None,
            "Comma-separated words refused (as whole words) in names.",
            shown_default="built-in list",
        ),
        Option(
            "--max-request-bytes", "LRS_WS_MAX_REQUEST_BYTES", click.IntRange(1024, 256 * MIB), 2 * MIB,
            "Larger request bodies are refused with a SOAP fault (HTTP 413) before they are read.",
        ),
        Option(
            "--sign-in-failures", "LRS_WS_SIGN_IN_FAILURES", click.IntRange(1, 1_000_000), 5,
            "Wrong OrgPasswords from one address for one organisation before the backoff starts.",
        ),
        Option(
            "--sign-in-backoff-max", "LRS_WS_SIGN_IN_BACKOFF_MAX", _Seconds(1, 3600), 60.0,
            "Longest backoff in seconds (it starts at 1 s and doubles with each further failure).",
        ),
        Option(
            "--find-log-delay", "LRS_WS_FIND_LOG_DELAY", _Seconds(0, 10), 0.2,
            "Seconds within which what finds log (audit rows, the FUL search log) is written, in batches, off "
            "the request (0: in the find's own transaction). PLR reads and changes are always audited in theirs.",
        ),
        Option(
            "--batch-retention-days", "LRS_WS_BATCH_RETENTION_DAYS", click.IntRange(1, 3650), 45,
            "Batch jobs and their output are kept this many days after submission; then WSRC0018.",
        ),
        Option(
            "--batch-chunk", "LRS_WS_BATCH_CHUNK", click.IntRange(1, 10_000), 200,
            "Learners a batch worker runs per transaction (all lost and redone if it dies mid-chunk).",
        ),
        # How the server runs.
        Option("--host", "LRS_WS_HOST", str, "127.0.0.1", "Interface to listen on (0.0.0.0: every interface)."),
        Option("--port", "LRS_WS_PORT", click.IntRange(0, 65535), 8000, "TCP port (0: any free port)."),
        Option("--workers", "LRS_WS_WORKERS", click.IntRange(1, 64), 2, "Worker processes."),
        Option("--threads", "LRS_WS_THREADS", click.IntRange(1, 256), 4, "Threads per worker that run requests."),
        Option(
            "--read-timeout", "LRS_WS_READ_TIMEOUT", _Seconds(0.1, 3600), 10.0,
            "Seconds a client has to send a request body once its head has arrived; then 408 and closed.",
        ),
        Option(
            "--keep-alive", "LRS_WS_KEEP_ALIVE", _Seconds(0.1, 3600), 5.0,
            "Seconds an idle connection, or one whose TLS handshake or request head is incomplete, stays open.",
        ),
        Option(
            "--certfile", "LRS_WS_CERTFILE", click.Path(exists=True, dir_okay=False), None,
            "TLS: the server certificate (PEM); serve HTTPS.",
        ),
        Option(
            "--keyfile", "LRS_WS_KEYFILE", click.Path(exists=True, dir_okay=False), None,
            "TLS: the server's private key (PEM).",
        ),
        Option(
            "--ca-certs", "LRS_WS_CA_CERTS", click.Path(exists=True, dir_okay=False), None,
            "TLS: require a client certificate signed by one of these CAs (PEM), as the live LRS does.",
        ),
        Option(
            "--forwarded-allow-ips", "LRS_WS_FORWARDED_ALLOW_IPS", _Proxies(), None,
            "Proxies (addresses, networks, or *) whose X-Forwarded-For is believed: the client is then the first "
            "address in it, from the right, that is not one of them (the backoff and the audit use it).",
            shown_default="none",
        ),
        Option(
            "--access-log", "LRS_WS_ACCESS_LOG", str, None,
            "Log every request to this file ('-' or no value: standard output).",
            flag_value="-",
        ),
        Option(
            "--log-level", "LRS_WS_LOG_LEVEL", click.Choice(["debug", "info", "warning", "error"], case_sensitive=False), "info",
            "Level of the timestamped log on standard error.",
        ),
        Option(
            "--no-worker", "LRS_WS_NO_WORKER", None, False,
            "Run no batch worker beside the service (run `lrs-ws worker` separately).", is_flag=True,
        ),
        Option(
            "--no-demo", "LRS_WS_NO_DEMO", None, False,
            "Do not load the demo data into a new database.", is_flag=True,
        ),
        # Sandbox mode: what an MIS team tests against.
        Option(
            "--sandbox", "LRS_WS_SANDBOX", None, False,
            "Sandbox mode: a JSON control API under /sandbox/ (request journal, reset, organisations, planted "
            "learners, faults, clock) for testing an MIS.", is_flag=True,
        ),
        Option(
            "--sandbox-token", "LRS_WS_SANDBOX_TOKEN", str, None,
            "The bearer token of the sandbox API (required beyond loopback).",
            shown_default="a random one, printed at start",
        ),
        Option(
            "--journal-size", "LRS_WS_JOURNAL_SIZE", click.IntRange(1, 1_000_000), 10_000,
            "Sandbox mode: requests the journal keeps (the oldest are dropped).",
        ),
        # The web console: on in sandbox mode; --console outside it (super users sign in).
        Option(
            "--console", "LRS_WS_CONSOLE", None, False,
            "Serve the web console at /console/ outside sandbox mode: users with the super_user role sign in "
            "with their organisation's credentials (in sandbox mode it is always on, signed in with the sandbox token).",
            is_flag=True,
        ),
        Option(
            "--console-secret", "LRS_WS_CONSOLE_SECRET", str, None,
            "The key that signs console sessions; give every host behind one address the same one.",
            shown_default="a random one per start (sessions end when the server restarts)",
        ),
    )
}

# The options of `lrs-ws serve`, in the order --help shows them.
SERVE_OPTIONS = tuple(name for name in OPTIONS if name != "database_url")


def options(*names: str) -> Callable[[Callable], Callable]:
    """Decorate a click command with these settings' options (in this order in --help)."""

    def decorate(command: Callable) -> Callable:
        for name in reversed(names):
            command = OPTIONS[name].decorate(command)
        return command

    return decorate


def from_options(cls: type[T], values: dict[str, Any]) -> T:
    """A settings dataclass from a command's parsed options (the names of :data:`OPTIONS`):
    the fields it has, from the options given a value; its own defaults for the rest."""
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in known and v is not None})


def markdown_table() -> str:
    """The README's configuration table."""
    rows = ["| option | environment variable | default | values | |", "|---|---|---|---|---|"]
    for option in OPTIONS.values():
        flag = option.flag + ("" if option.is_flag else f" {_metavar(option)}")
        rows.append(f"| `{flag}` | `{option.envvar}` | {option.default_text} | {option.range_text} | {option.help} |")
    return "\n".join(rows)


def _metavar(option: Option) -> str:
    if option.flag_value is not None:
        return "[FILE]"
    if isinstance(option.type, click.Path):
        return "FILE"
    if isinstance(option.type, (click.IntRange, click.FloatRange)):
        return "N"
    return option.name.upper().split("_")[-1] if option.type is str else getattr(option.type, "name", "VALUE").upper()


@dataclass(frozen=True)
class Settings:
    """What the running service needs to know (the behaviour settings above)."""

    database_url: str = DEFAULT_DATABASE_URL
    # Base URL that clients reach us at; the WSDLs' soap:address is built from it, never from Host.
    public_url: str = DEFAULT_PUBLIC_URL
    possible_match_limit: int = 10
    find_before_register_minutes: int = 30
    # None: the domain's default list (lrs_ws.domain.rules.DEFAULT_PROHIBITED_WORDS).
    prohibited_words: tuple[str, ...] | None = None
    max_request_bytes: int = 2 * MIB
    sign_in_failures: int = 5
    sign_in_backoff_max: float = 60.0
    batch_retention_days: int = 45
    batch_chunk: int = 200
    find_log_delay: float = 0.2
    sandbox: bool = False
    # Never shown: repr leaves it out, so a logged Settings holds no secret.
    sandbox_token: str | None = field(default=None, repr=False)
    journal_size: int = 10_000
    console: bool = False
    console_secret: str | None = field(default=None, repr=False)
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_options(cls, values: dict[str, Any]) -> Settings:
        return from_options(cls, values)

    def endpoint(self, path: str) -> str:
        return self.public_url.rstrip("/") + "/" + path.lstrip("/")
