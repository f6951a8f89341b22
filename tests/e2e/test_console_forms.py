"""Every form of the console, fed arbitrary text (hypothesis) over HTTP against the run's sandbox
server (`lrs-ws serve --sandbox`, the plugin's `lrs_sandbox`): no answer is a 500 (nor any 5xx
but 503), no page shows a traceback, a sign-in with a wrong token sets no session and never
sends the browser off the console, and a POST without the session's CSRF token (or from another
origin) is refused 403 and changes nothing.

FORMS is the console's forms: a page with a new form is one line there. Requests go through
http.client so that what is sent is exactly what was built (a `%zz` or `%FF` in the address included): requests would repair it first.
"""
from __future__ import annotations

import html
import http.client
import re
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lrs_ws.testing.sandbox import LrsSandbox


class Form(NamedTuple):
    method: str
    path: str  # {name} in it: a part of the path, fed like a field
    fields: tuple[str, ...]
    signed_in: bool = True


FORMS = [
    Form("POST", "/console/sign-in", ("token", "next"), signed_in=False),
    Form("GET", "/console/sign-in", ("next",), signed_in=False),
    Form("GET", "/console/requests", ("operation", "outcome", "ukprn", "user")),
    Form("GET", "/console/requests/{id}", ()),
    Form("POST", "/console/sign-out", ("csrf",)),
    Form("GET", "/console/learners", ("uln", "given_name", "family_name", "date_of_birth")),
    Form("GET", "/console/learners/{uln}", ("page",)),
    Form("GET", "/console/jobs", ()),
    Form("GET", "/console/jobs/{id}", ("page",)),
    Form("GET", "/console/jobs/{id}/output", ()),
    Form("POST", "/console/jobs/run", ()),
    Form("GET", "/console/controls", ()),
    Form("POST", "/console/controls/faults", ("operation", "kind", "ukprn", "seconds", "code", "status", "times", "probability")),
    Form("POST", "/console/controls/faults/remove-all", ()),
    Form("POST", "/console/controls/faults/{id}/remove", ()),
    Form("POST", "/console/controls/clock", ("now", "frozen")),
    Form("POST", "/console/controls/clock/clear", ()),
    Form("GET", "/console/scenarios", ()),
]
POSTS_SIGNED_IN = [form for form in FORMS if form.method == "POST" and form.signed_in]

NASTY = [
    "", " ", "'\"<>&", "<script>alert(1)</script>", "\x00", "a\x00b", "%", "%%", "%zz", "%00", "%FF", "%C3%28", "%E2%82",
    "../../etc/passwd", "//evil.example/", "/\\evil.example", "https://evil.example/console/", "/console/../sandbox/reset",
    "\r\nSet-Cookie: x=1", "\u202e\u200b", "𝔘𝔏𝔑", "Ünïcödé ✓", "NaN", "-1", "0", "1e309", "99999999999999999999999999",
    "9105106906", "10000001", "WSEC0001", "learnerByULN", "2026-02-30", "9999-12-31T23:59:59", "true", "null", "[]", "{}",
]
# Text for a field: anything (unicode, NUL, control characters), the nasty list, or very long.
text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",)), max_size=200),
    st.sampled_from(NASTY),
    st.builds(lambda piece, times: piece * times, st.sampled_from(["a", "9", "é", "<", "%", "\x00", "𝔘"]),
              st.integers(min_value=200, max_value=9_000)),
)
# Written into the address or the form as it is, not escaped again: valid and broken %-escapes.
raw = st.from_regex(r"\A(%[0-9A-Fa-f]{2}|%[G-Zg-z%]?|[A-Za-z0-9._~+-])*\Z").filter(lambda s: len(s) < 300)
value = st.one_of(st.builds(lambda t: ("text", t), text), st.builds(lambda r: ("raw", r), raw))
BIG_FORM = 64 * 1024  # the console reads at most this much of a form (413 beyond)


def encoded(kind_and_value: tuple[str, str]) -> str:
    kind, given_value = kind_and_value
    return given_value if kind == "raw" else quote(given_value.encode("utf-8", "surrogatepass"), safe="")


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str


class Console:
    """The console over plain HTTP, with a signed-in session and its CSRF token."""

    def __init__(self, sandbox: LrsSandbox) -> None:
        self.sandbox = sandbox
        parts = urlsplit(sandbox.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        signed = self.send("POST", "/console/sign-in", urlencode({"token": sandbox.api.token}),
                           content_type="application/x-www-form-urlencoded")
        assert signed.status == 303, signed
        self.cookie = signed.headers["Set-Cookie"].split(";")[0]
        page = self.send("GET", "/console/requests", cookie=self.cookie)
        self.csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.body).group(1)

    def send(self, method: str, target: str, body: str | bytes | None = None, *, cookie: str | None = None,
             content_type: str | None = None, origin: str | None = None) -> Answer:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            headers = {"Connection": "close"}
            if cookie:
                headers["Cookie"] = cookie
            if content_type:
                headers["Content-Type"] = content_type
            if origin:
                headers["Origin"] = origin
            data = body.encode("utf-8") if isinstance(body, str) else body
            connection.request(method, target, body=data, headers=headers)
            response = connection.getresponse()
            return Answer(response.status, response.headers, response.read().decode("utf-8", "replace"))
        finally:
            connection.close()

    def state(self) -> dict:
        """What a console form could change: the planted faults, the clock, the organisations and
        their users (as the console shows them), the journal's newest entry."""
        clock = self.sandbox.api.call("GET", "/clock")
        if not clock.get("frozen"):
            clock.pop("now", None)  # a running clock moves by itself
        organisations = self.send("GET", "/console/organisations", cookie=self.cookie).body
        newest = self.sandbox.requests(limit=1)
        return {
            "faults": self.sandbox.api.call("GET", "/faults"),
            "clock": clock,
            "organisations": re.search(r"<main.*</main>", organisations, re.S).group(0),
            "journal": newest[0]["id"] if newest else None,
        }


@pytest.fixture(scope="module")
def console(lrs_sandbox: LrsSandbox):
    lrs_sandbox.reset()
    try:
        yield Console(lrs_sandbox)
    finally:
        lrs_sandbox.reset()  # whatever a form fed arbitrary values managed to plant


def request_for(form: Form, values: dict[str, tuple[str, str]]) -> tuple[str, str | None]:
    """The request target and the body (POST) of a form filled with `values`."""
    path = form.path
    for name in re.findall(r"\{(\w+)\}", form.path):
        path = path.replace("{" + name + "}", encoded(values.pop(name)))
    pairs = "&".join(f"{quote(name)}={encoded(values[name])}" for name in form.fields if name in values)
    if form.method == "GET":
        return (f"{path}?{pairs}" if pairs else path), None
    return path, pairs


def check_answer(form: Form, target: str, answer: Answer) -> None:
    event(f"status {answer.status}")  # pytest --hypothesis-show-statistics shows what was answered
    where = f"{form.method} {target[:300]!r}"
    assert answer.status < 500 or answer.status == 503, f"{where} answered {answer.status}:\n{answer.body[:2000]}"
    assert "Traceback" not in answer.body, f"{where} shows a traceback:\n{answer.body[:2000]}"
    if answer.status == 404:
        return  # an id that is nobody's
    if answer.status == 303:
        location = answer.headers["Location"]
        assert location.startswith("/console/") and not location.startswith("//"), f"{where} sends the browser to {location!r}"


@pytest.mark.parametrize("form", FORMS, ids=[f"{form.method} {form.path}" for form in FORMS])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_no_form_input_breaks_a_page(console: Console, form: Form, data):
    values = {name: data.draw(value, label=name) for name in form.fields if data.draw(st.booleans(), label=f"send {name}")}
    values.update({name: data.draw(value, label=name) for name in re.findall(r"\{(\w+)\}", form.path)})
    target, body = request_for(form, dict(values))
    if form.method == "POST" and form.signed_in and "csrf" not in form.fields:  # the session's token: on to the page's handler
        body = "&".join(part for part in (body, f"csrf={console.csrf}") if part)
    answer = console.send(form.method, target, body, cookie=console.cookie if form.signed_in else None,
                          content_type="application/x-www-form-urlencoded" if form.method == "POST" else None)
    check_answer(form, target, answer)
    if form.path == "/console/sign-in" and form.method == "POST":
        # No token here is the sandbox's (it is 32 random characters): refused, and no session.
        assert answer.status in (400, 401, 413), f"sign-in answered {answer.status}"
        assert "lrs_console=" not in answer.headers.get("Set-Cookie", "")
        assert 'type="password"' in answer.body  # the sign-in page again, the problem on it
    if form.path == "/console/sign-in" and form.method == "GET" and answer.status != 431:  # 431: a head over 16 KiB (README)
        assert answer.status == 200
        sent_on = html.unescape(re.search(r'name="next" value="([^"]*)"', answer.body).group(1))
        assert sent_on.startswith("/console/") and not sent_on.startswith("//") and "\\" not in sent_on


@pytest.mark.parametrize("form", POSTS_SIGNED_IN, ids=[f"POST {form.path}" for form in POSTS_SIGNED_IN])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), csrf=st.one_of(st.none(), text))
def test_a_post_without_the_csrf_token_changes_nothing(console: Console, form: Form, data, csrf):
    names = [name for name in form.fields if name != "csrf"] + re.findall(r"\{(\w+)\}", form.path)
    values = {name: data.draw(value, label=name) for name in names}
    target, body = request_for(form, values)
    if csrf is not None:  # a token, but not the session's
        body = "&".join(part for part in (body, f"csrf={quote(csrf.encode('utf-8'), safe='')}") if part)
    before = console.state()
    answer = console.send("POST", target, body, cookie=console.cookie, content_type="application/x-www-form-urlencoded")
    check_answer(form, target, answer)
    if answer.status != 404 or "{" not in form.path:  # 404: a path part that names nothing
        assert answer.status in (403, 413), f"POST {target} without the CSRF token answered {answer.status}:\n{answer.body[:1000]}"
        if answer.status == 403:
            assert "CSRF token is missing or wrong" in answer.body
    assert console.state() == before
    assert console.send("GET", "/console/requests", cookie=console.cookie).status == 200  # still signed in


@pytest.mark.parametrize("form", POSTS_SIGNED_IN, ids=[f"POST {form.path}" for form in POSTS_SIGNED_IN])
def test_a_post_from_another_origin_is_refused_even_with_the_token(console: Console, form: Form):
    target = re.sub(r"\{\w+\}", "1", form.path)
    before = console.state()
    answer = console.send("POST", target, f"csrf={console.csrf}", cookie=console.cookie,
                          content_type="application/x-www-form-urlencoded", origin="http://evil.example")
    assert answer.status == 403, f"{target} from another origin answered {answer.status}"
    assert console.state() == before
    assert "lrs_console=;" not in answer.headers.get("Set-Cookie", "")  # sign-out did not happen either


def test_the_forms_are_checked_against_a_server_that_serves_them(console: Console):
    """The table is not stale: the forms of the pages served now answer as pages."""
    assert console.send("GET", "/console/sign-in").status == 200
    assert console.send("GET", "/console/requests?operation=x&outcome=y&ukprn=1&user=z", cookie=console.cookie).status == 200
    assert console.send("GET", "/console/requests/999999", cookie=console.cookie).status == 404
    served = console.send("POST", "/console/sign-out", f"csrf={console.csrf}", cookie=console.cookie,
                          content_type="application/x-www-form-urlencoded")
    assert served.status == 303 and served.headers["Location"] == "/console/sign-in"
