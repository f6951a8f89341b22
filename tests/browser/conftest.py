"""The browser harness of the console's tests: Debian's Chromium (headless) driven by Playwright
for Python, against the run's sandbox server (`lrs-ws serve --sandbox --port 0`, the pytest
plugin's `lrs_sandbox`: one server for the run, its process group stopped at the end).

- `console_server` (session): the server's URL, its sandbox token, and the plugin's LrsSandbox
  (its control API and the demo credentials).
- `browser` (package: the tests of tests/browser): Chromium from /usr/bin/chromium
  (`LRS_WS_CHROMIUM` names another); never a browser Playwright downloads. Without it the
  browser tests skip, saying why, unless `LRS_WS_REQUIRE_BROWSER=1` (CI), when they fail.
- `context`, `page` (function): a fresh browser context (no cookies) and its page, signed in with
  the sandbox token; `signed_out_page` is one that has not signed in.
- `shots` (function): `shots.take(page, "label")` saves a full-page screenshot; a test takes one
  of each page it visits (`console.visit` does it on arrival), and the fixtures take the page
  the test ended on. They go to `$LRS_WS_SCREENSHOTS`, or `<pytest's basetemp>/screenshots`,
  never into the checkout; the run's summary lists them.

`console.visit(page, path)` goes to a console page and screenshots it. Playwright's auto-waiting
`expect(...)` waits WAIT_MS (5 s) by default here: the `browser` fixture sets it.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lrs_ws.testing.sandbox import LrsSandbox

CHROMIUM = os.environ.get("LRS_WS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
WAIT_MS = 5_000  # expect()'s timeout: the console answers in milliseconds; this is for slow machines
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
_SAVED = pytest.StashKey[list[Path]]()


def _required() -> bool:
    return os.environ.get("LRS_WS_REQUIRE_BROWSER", "").strip().lower() in ("1", "true", "yes")


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return (f"no Chromium at {CHROMIUM}: install Debian's (apt-get install chromium) to run the console's browser tests "
                "(LRS_WS_REQUIRE_BROWSER=1 makes this a failure)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    return None


def playwright_or_skip() -> Any:
    """playwright.sync_api for a test module to import; without Playwright, the module is skipped
    (an error under LRS_WS_REQUIRE_BROWSER=1)."""
    try:
        import playwright.sync_api
    except ImportError:
        if _required():
            raise
        pytest.skip("Playwright for Python is not installed (pip install -e '.[test]')", allow_module_level=True)
    return playwright.sync_api


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    ours = [item for item in items if here in Path(str(item.path)).parents]
    why = _missing_browser() if ours else None
    if why is None:
        return
    if _required():  # CI: each browser test fails (the `browser` fixture says why), none is skipped
        return
    for item in ours:
        item.add_marker(pytest.mark.skip(reason=why))


# --- screenshots ----------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.stash.setdefault(_SAVED, [])


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    saved = config.stash.get(_SAVED, [])  # in the order taken
    if not saved:
        return
    terminalreporter.section(f"console screenshots ({len(saved)})")
    for path in saved:
        terminalreporter.write_line(str(path))


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("LRS_WS_SCREENSHOTS")
    directory = Path(given) if given else tmp_path_factory.getbasetemp() / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory.resolve()


@dataclass
class Shots:
    """The screenshots of one test: `<test name>-<n>-<label>.png`."""

    directory: Path
    test: str
    saved: list[Path]
    taken: list[Path] = field(default_factory=list)
    last_url: dict[int, str] = field(default_factory=dict)  # id(page) -> the URL last shot

    def take(self, page: Any, label: str | None = None) -> Path:
        label = label or _label_of(page.url)
        name = f"{self.test}-{len(self.taken) + 1:02d}-{_safe(label)}.png"
        path = self.directory / name
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        self.saved.append(path)
        self.last_url[id(page)] = page.url
        return path

    def finish(self, page: Any) -> None:
        """The page the test ended on, unless it was the last one shot already."""
        if page.is_closed() or page.url in ("", "about:blank") or self.last_url.get(id(page)) == page.url:
            return
        self.take(page, "end-" + _label_of(page.url))


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "page"


def _label_of(url: str) -> str:
    path = re.sub(r"^https?://[^/]+", "", url).split("?")[0].split("#")[0]
    return path.removeprefix("/console").strip("/") or "home"


@pytest.fixture
def shots(request: pytest.FixtureRequest, screenshot_dir: Path) -> Shots:
    return Shots(screenshot_dir, _safe(request.node.name), request.config.stash.setdefault(_SAVED, []))


# --- the server and the browser --------------------------------------------------------------


@dataclass(frozen=True)
class ConsoleServer:
    url: str  # http://127.0.0.1:PORT
    token: str  # the sandbox token
    sandbox: LrsSandbox

    @property
    def console(self) -> str:
        return f"{self.url}/console"


@pytest.fixture(scope="session")
def console_server(lrs_sandbox: LrsSandbox) -> ConsoleServer:
    return ConsoleServer(lrs_sandbox.url, lrs_sandbox.api.token, lrs_sandbox)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Chromium for the tests of this folder, closed after them: Playwright's sync API marks an
    asyncio loop running in the main thread while it is open (asyncio.run() elsewhere would fail)."""
    why = _missing_browser()
    if why is not None:
        pytest.fail(f"LRS_WS_REQUIRE_BROWSER=1 but the browser tests cannot run: {why}", pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def new_context(browser: Any, console_server: ConsoleServer, viewport: dict[str, int] = DESKTOP) -> Any:
    context = browser.new_context(base_url=console_server.url, viewport=viewport, locale="en-GB",
                                  color_scheme="light", reduced_motion="reduce")
    context.set_default_timeout(WAIT_MS * 2)
    return context


@pytest.fixture
def context(browser: Any, console_server: ConsoleServer) -> Iterator[Any]:
    made = new_context(browser, console_server)
    try:
        yield made
    finally:
        made.close()


def sign_in(page: Any, console_server: ConsoleServer, shots: Shots | None = None, label: str = "sign-in") -> None:
    """Through the sign-in form, as a person would (lands on the Requests page)."""
    from playwright.sync_api import expect

    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/console/sign-in"))
    if shots is not None:
        shots.take(page, label)
    page.get_by_label("Sandbox token").fill(console_server.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/console/requests$"))


@pytest.fixture
def signed_out_page(context: Any, shots: Shots) -> Iterator[Any]:
    page = context.new_page()
    try:
        yield page
    finally:
        shots.finish(page)


@pytest.fixture
def page(context: Any, console_server: ConsoleServer, shots: Shots) -> Iterator[Any]:
    page = context.new_page()
    sign_in(page, console_server)
    try:
        yield page
    finally:
        shots.finish(page)


@pytest.fixture
def phone_page(browser: Any, console_server: ConsoleServer, shots: Shots) -> Iterator[Any]:
    """A signed-out page on a phone-sized screen (PHONE), in a context of its own."""
    context = new_context(browser, console_server, viewport=PHONE)
    page = context.new_page()
    try:
        yield page
    finally:
        shots.finish(page)
        context.close()


class Console:
    """Going to the console's pages, each screenshotted once it has loaded."""

    def __init__(self, shots: Shots) -> None:
        self.shots = shots

    def visit(self, page: Any, path: str, label: str | None = None) -> Any:
        answer = page.goto(path if path.startswith("/") else f"/console/{path}")
        self.shots.take(page, label)
        return answer


@pytest.fixture
def console(shots: Shots) -> Console:
    return Console(shots)
