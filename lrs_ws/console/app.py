"""The web console, mounted at /console/: server-rendered pages (Jinja2) over the same use cases
as the SOAP services and the sandbox API.

Access (docs/console.md): in sandbox mode, the sandbox token, given once on the sign-in page;
outside it (`--console`), a super user of an organisation with its credentials. A sign-in sets a
signed session cookie (lrs_ws.console.sessions); every form carries the session's CSRF token.
Each page module (lrs_ws.console.pages) gives its routes; this module signs in, guards, parses
forms and renders. No page answers 500 for its input: a bad value is a 400 page naming the field.
"""
from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import jinja2

from lrs_ws.runtime import Runtime
from lrs_ws.services import console
from lrs_ws.services.auth import AccessDenied, Credentials
from lrs_ws.services.console import Viewer
from lrs_ws.services.ports import DatabaseUnavailable
from lrs_ws.web.answers import Answer, answer, status_line
from lrs_ws.web.mounts import Routes

from .fields import is_number
from .sessions import COOKIE, LIFETIME, Session, SessionSigner

log = logging.getLogger(__name__)

MAX_FORM = 64 * 1024  # bytes of a posted form: every console form is small
STATIC = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}
SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
]


class PageError(Exception):
    """A page that cannot be shown: its status and what to tell the viewer (a field named)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Page:
    """What a page handler reads and answers with."""

    console: ConsoleApp
    environ: dict[str, Any]
    viewer: Viewer
    session: Session
    params: Mapping[str, str]
    query: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> str:
        return self.environ.get("SCRIPT_NAME", "").rstrip("/")

    @property
    def runtime(self) -> Runtime:
        return self.console.runtime

    def render(self, template: str, status: int = 200, **context: Any) -> Answer:
        return self.console.render(template, status, environ=self.environ, viewer=self.viewer, session=self.session, **context)

    def redirect(self, path: str, **query: Any) -> Answer:
        shown = {name: value for name, value in query.items() if value not in (None, "")}
        return see_other(self.root + path + (f"?{urlencode(shown)}" if shown else ""))

    def text(self, name: str, *, limit: int = 200, source: Mapping[str, str] | None = None) -> str:
        """A field of the query (or `source`), trimmed; too long is a 400 naming it."""
        value = (self.query if source is None else source).get(name, "").strip()
        if len(value) > limit:
            raise PageError(400, f"{name}: at most {limit} characters")
        return value

    def number(self, name: str, *, low: int = 0, high: int = 10**12, source: Mapping[str, str] | None = None) -> int | None:
        text = self.text(name, limit=20, source=source)
        if not text:
            return None
        if not is_number(text) or not (low <= int(text) <= high):
            raise PageError(400, f"{name}: must be a whole number from {low} to {high}")
        return int(text)


Handler = Callable[[Page], Answer]
RouteTable = dict[str, dict[str, Handler]]


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    sandbox_only: bool = False


# The pages, in the order the navigation shows them (each module's routes live beside it).
NAVIGATION = (
    NavItem("/requests", "Requests", sandbox_only=True),
    NavItem("/learners", "Learners"),
    NavItem("/jobs", "Batch jobs"),
    NavItem("/organisations", "Organisations and users"),
    NavItem("/scenarios", "Scenarios", sandbox_only=True),
    NavItem("/controls", "Faults and clock", sandbox_only=True),
    NavItem("/health", "Health"),
)


class ConsoleApp:
    """The mount: sign-in, sessions and CSRF, then the page modules' routes."""

    def __init__(self, runtime: Runtime, *, secret: bytes | None = None) -> None:
        from lrs_ws.console import pages

        self.runtime = runtime
        self.sandbox = runtime.settings.sandbox
        token = runtime.settings.sandbox_token
        if self.sandbox and not token:
            raise ValueError("the sandbox console signs in with the sandbox token")
        self.token = (token or "").encode("utf-8")
        # Sessions must read the same in every process: the sandbox token, else the configured
        # secret (serve makes one per start when none is given).
        given = secret or (runtime.settings.console_secret or "").encode("utf-8") or None
        self.signer = SessionSigner(given or (b"token\0" + self.token if self.sandbox else secrets.token_bytes(32)))
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("lrs_ws.console", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        routes: dict[str, dict[str, Callable[[dict[str, Any]], Answer]]] = {
            "/": {"GET": self._guarded(self.home)},
            "/sign-in": {"GET": self.sign_in_page, "POST": self.sign_in},
            "/sign-out": {"POST": self._guarded(self.sign_out)},
            "/static/{name}": {"GET": self.static},
        }
        for path, methods in pages.routes(self).items():
            routes[path] = {method: self._guarded(handler) for method, handler in methods.items()}
        self.routes = Routes(self.error_page, routes)
        self.navigation = [item for item in NAVIGATION if item.path in routes]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.routes(environ, start_response)

    def refusal(self, path: str, status: int, detail: str) -> Answer:
        return self.error_page(status, detail)

    # --- rendering

    def render(self, template: str, status: int = 200, *, environ: dict[str, Any], viewer: Viewer | None,
               session: Session | None, **context: Any) -> Answer:
        root = environ.get("SCRIPT_NAME", "").rstrip("/")
        path = environ.get("PATH_INFO", "")
        body = self.templates.get_template(template).render(
            root=root, here=path, viewer=viewer, sandbox=self.sandbox,
            navigation=self.navigation if viewer is not None else [],
            csrf=self.signer.csrf_token(session) if session is not None else "", **context,
        )
        return html_page(status, body)

    def error_page(self, status: int, detail: str) -> Answer:
        try:
            body = self.templates.get_template("error.html").render(
                root="/console", here="", viewer=None, sandbox=self.sandbox, navigation=[], csrf="",
                title=status_line(status), detail=detail,
            )
        except Exception:  # the error page must answer whatever else failed
            log.exception("the console's error page could not be rendered")
            body = f"<!DOCTYPE html><title>{status}</title><p>{jinja2.utils.markupsafe.escape(detail)}</p>"
        return html_page(status, body)

    # --- guarding every page

    def _guarded(self, handler: Handler) -> Callable[[dict[str, Any]], Answer]:
        def guarded(environ: dict[str, Any]) -> Answer:
            method = environ.get("REQUEST_METHOD", "GET").upper()
            root = environ.get("SCRIPT_NAME", "").rstrip("/")
            session: Session | None = None
            viewer: Viewer | None = None
            try:
                session = self.signer.read(_cookies(environ).get(COOKIE))
                viewer = None if session is None else self._viewer(session, environ)
                if session is None or viewer is None:
                    if method in ("GET", "HEAD"):
                        wanted = root + environ.get("PATH_INFO", "") + _query_suffix(environ)
                        return see_other(f"{root}/sign-in?{urlencode({'next': wanted})}", clear_session=root if session else None)
                    return self.error_page(401, "Sign in first: the session is missing or has ended")
                form: dict[str, str] = {}
                if method == "POST":
                    form = _read_form(environ)
                    if not self.signer.csrf_ok(session, form.get("csrf")) or not _same_origin(environ, self.runtime.settings.public_url):
                        return self.error_page(403, "The form's CSRF token is missing or wrong: reload the page and try again")
                page = Page(self, environ, viewer, session, environ.get("wsgiorg.routing_args", ((), {}))[1], _query(environ), form)
                answered = handler(page)
                if not any(name == "Cache-Control" for name, _ in answered.headers):  # a download says its own
                    answered = _with_headers(answered, [("Cache-Control", "no-store")])
                return answered
            except PageError as error:
                if session is not None and viewer is not None:  # signed in: the page keeps its navigation
                    return self.render("error.html", error.status, environ=environ, viewer=viewer, session=session,
                                       title=status_line(error.status), detail=error.message)
                return self.error_page(error.status, error.message)
            except DatabaseUnavailable as unavailable:
                log.warning("console: %s", unavailable)
                return self.error_page(503, "The database is unavailable; try again in a moment")
            except Exception:
                log.exception("console: unexpected error on %s %s", method, environ.get("PATH_INFO", ""))
                return self.error_page(500, "Something went wrong showing this page; the server's log has the details")

        return guarded

    def _viewer(self, session: Session, environ: dict[str, Any]) -> Viewer | None:
        address = environ.get("REMOTE_ADDR", "")
        if session.sandbox:
            return Viewer(None, address) if self.sandbox else None
        if self.sandbox:  # sandbox mode signs in with the token only
            return None
        with self.runtime.unit_of_work() as uow:
            return console.viewer_of(uow, session.user_id, address)

    # --- sign-in and out

    def sign_in_page(self, environ: dict[str, Any], problem: str = "", status: int = 200, sent: Mapping[str, str] | None = None) -> Answer:
        try:
            query = _query(environ)
        except PageError:
            query = {}
        return self.render(
            "sign_in.html", status, environ=environ, viewer=None, session=None,
            problem=problem, next=_safe_next(query.get("next", "") or (sent or {}).get("next", ""), environ),
            sent={"ukprn": (sent or {}).get("ukprn", ""), "username": (sent or {}).get("username", "")},
        )

    def sign_in(self, environ: dict[str, Any]) -> Answer:
        try:
            form = _read_form(environ)
        except PageError as error:
            return self.sign_in_page(environ, error.message, error.status)
        if not _same_origin(environ, self.runtime.settings.public_url):
            return self.error_page(403, "A sign-in must come from the console's own page")
        nxt = _safe_next(form.get("next", ""), environ)
        if self.sandbox:
            token = form.get("token", "").strip()
            if not token:
                return self.sign_in_page(environ, "token: enter the sandbox token (serve printed it at start)", 400, form)
            if not hmac.compare_digest(token.encode("utf-8"), self.token):
                return self.sign_in_page(environ, "token: that is not the sandbox token", 401, form)
            session = self.signer.new(None)
        else:
            problem = _missing(form, ("ukprn", "UKPRN"), ("username", "user name"), ("password", "password"))
            if problem:
                return self.sign_in_page(environ, problem, 400, form)
            credentials = Credentials(form["ukprn"].strip(), None, form["password"], form["username"].strip(),
                                      environ.get("REMOTE_ADDR", ""))
            try:
                with self.runtime.unit_of_work() as uow:
                    now = uow.clock.now()
                    caller = console.sign_in(uow, credentials, now)
            except AccessDenied as denied:
                try:
                    with self.runtime.unit_of_work() as uow:
                        console.refused_sign_in(uow, credentials, denied, uow.clock.now(), self.runtime.backoff)
                except Exception as error:  # the refusal stands; only its record is lost
                    log.warning("console: could not record a refused sign-in: %s", error)
                return self.sign_in_page(environ, f"{denied.code.value}: {denied.detail}", 401, form)
            except DatabaseUnavailable as unavailable:
                log.warning("console sign-in: %s", unavailable)
                return self.sign_in_page(environ, "The database is unavailable; try again in a moment", 503, form)
            session = self.signer.new(caller.user_id)
        return see_other(nxt, cookie=self._cookie(session, environ))

    def sign_out(self, page: Page) -> Answer:
        return see_other(page.root + "/sign-in", clear_session=page.root or "/")

    def home(self, page: Page) -> Answer:
        return see_other(page.root + self.navigation[0].path)

    def _cookie(self, session: Session, environ: dict[str, Any]) -> str:
        https = environ.get("wsgi.url_scheme") == "https" or self.runtime.settings.public_url.lower().startswith("https:")
        secure = "; Secure" if https else ""  # behind a TLS terminator, --public-url says https
        root = environ.get("SCRIPT_NAME", "").rstrip("/") or "/"
        return f"{COOKIE}={self.signer.cookie_value(session)}; Path={root}; Max-Age={LIFETIME}; HttpOnly; SameSite=Strict{secure}"

    # --- static files

    def static(self, environ: dict[str, Any]) -> Answer:
        name = environ["wsgiorg.routing_args"][1]["name"]
        kind = STATIC.get(name)
        if kind is None:
            return self.error_page(404, f"No file {name}")
        body = resources.files("lrs_ws.console").joinpath("static", name).read_bytes()
        return answer(200, kind, body, [("Cache-Control", "max-age=300"), *SECURITY_HEADERS])


# --- helpers of the HTTP side


def html_page(status: int, body: str) -> Answer:
    return answer(status, "text/html; charset=utf-8", body.encode("utf-8"), [*SECURITY_HEADERS, ("Cache-Control", "no-store")])


def see_other(location: str, *, cookie: str | None = None, clear_session: str | None = None) -> Answer:
    """303 to `location`; with `cookie` set, or the session cookie of path `clear_session` ended."""
    headers = [("Location", location), *SECURITY_HEADERS]
    if cookie:
        headers.append(("Set-Cookie", cookie))
    elif clear_session:
        headers.append(("Set-Cookie", f"{COOKIE}=; Path={clear_session}; Max-Age=0; HttpOnly; SameSite=Strict"))
    return answer(303, "text/plain; charset=utf-8", b"", headers)


def _with_headers(given: Answer, headers: list[tuple[str, str]]) -> Answer:
    return given._replace(headers=[*given.headers, *headers])


def _cookies(environ: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in environ.get("HTTP_COOKIE", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name and name not in found:
            found[name] = value
    return found


def _query(environ: dict[str, Any]) -> dict[str, str]:
    raw = environ.get("QUERY_STRING", "")
    try:
        parsed = parse_qs(raw, keep_blank_values=True, max_num_fields=50, errors="strict")
    except (ValueError, UnicodeDecodeError) as error:
        raise PageError(400, f"the address's query cannot be read: {error}") from None
    return {name: values[-1] for name, values in parsed.items()}


def _query_suffix(environ: dict[str, Any]) -> str:
    raw = environ.get("QUERY_STRING", "")
    return f"?{raw}" if raw else ""


def _read_form(environ: dict[str, Any]) -> dict[str, str]:
    kind = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    if kind not in ("application/x-www-form-urlencoded", ""):
        raise PageError(415, "forms are sent as application/x-www-form-urlencoded")
    raw = environ["wsgi.input"].read(MAX_FORM + 1)
    if len(raw) > MAX_FORM:
        raise PageError(413, f"a form of the console holds at most {MAX_FORM} bytes")
    try:  # bytes that are not UTF-8 become U+FFFD: the CSRF check, then each field's rules, refuse them
        parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=100, errors="replace")
    except ValueError as error:
        raise PageError(400, f"the form cannot be read: {error}") from None
    return {name: values[-1] for name, values in parsed.items()}


def _same_origin(environ: dict[str, Any], public_url: str = "") -> bool:
    """A browser's Origin, when it sends one, is this server's: the Host it was reached at, or
    `--public-url`'s (behind a proxy that rewrites Host). CSRF: a defence beside the token."""
    origin = environ.get("HTTP_ORIGIN")
    if not origin or origin == "null":
        return origin != "null"
    sent = origin.rstrip("/").lower()
    if sent.partition("://")[2] == environ.get("HTTP_HOST", "").lower():
        return True
    public = urlsplit(public_url)
    return bool(public.netloc) and sent == f"{public.scheme}://{public.netloc}".lower()


def _safe_next(wanted: str, environ: dict[str, Any]) -> str:
    """Where to go after signing in: a page of the console only (never another site)."""
    root = environ.get("SCRIPT_NAME", "").rstrip("/")
    if wanted.startswith(root + "/") and not wanted.startswith("//") and "\\" not in wanted and "/sign-" not in wanted:
        return quote(wanted, safe="/?&=%:+,;@-._~")
    return root + "/"


def _missing(form: Mapping[str, str], *fields: tuple[str, str]) -> str:
    for name, label in fields:
        if not form.get(name, "").strip():
            return f"{name}: enter the {label}"
    return ""
