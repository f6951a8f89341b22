"""The console's doors, over HTTP against `lrs-ws serve`: who signs in (the sandbox token; outside
sandbox mode a super user with --console, nobody without it), the session cookie, CSRF, where a
sign-in may send the browser next, the headers every page carries, and that no secret is shown."""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.console_signin import CSRF
from tests.e2e.serving import ORG, find_by_uln, serving

TOKEN = "console-e2e-token-0123456789"


def sign_in(base: str, **form: str) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    answered = session.post(f"{base}/console/sign-in", data=form, allow_redirects=False, timeout=10)
    return session, answered


def csrf_of(page: requests.Response) -> str:
    found = CSRF.search(page.text)
    assert found, f"no CSRF token on {page.url}"
    return found.group(1)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("console-sandbox"), "--sandbox", "--sandbox-token", TOKEN, "--workers", "2") as server:
        yield server


@pytest.fixture(scope="module")
def console_only(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("console"), "--console", "--no-worker") as server:
        yield server


def test_pages_need_a_session_and_send_the_browser_to_sign_in(sandbox):
    answered = requests.get(f"{sandbox.base_url}/console/requests?operation=learnerByULN", allow_redirects=False, timeout=10)
    assert answered.status_code == 303
    target = answered.headers["Location"]
    assert target.startswith("/console/sign-in?next=")
    assert "operation%3DlearnerByULN" in target  # back to the same filtered page after signing in
    refused = requests.post(f"{sandbox.base_url}/console/sign-out", data={}, allow_redirects=False, timeout=10)
    assert refused.status_code == 401


@pytest.mark.parametrize("token, status, said", [("", 400, "token: enter"), ("wrong", 401, "not the sandbox token")])
def test_the_sandbox_console_refuses_a_missing_or_wrong_token(sandbox, token, status, said):
    session, answered = sign_in(sandbox.base_url, token=token)
    assert answered.status_code == status
    assert said in answered.text
    assert "lrs_console" not in answered.headers.get("Set-Cookie", "")
    assert session.get(f"{sandbox.base_url}/console/health", allow_redirects=False, timeout=10).status_code == 303


def test_the_sandbox_token_signs_in_with_a_strict_http_only_cookie(sandbox):
    session, answered = sign_in(sandbox.base_url, token=TOKEN, next="/console/health")
    assert answered.status_code == 303 and answered.headers["Location"] == "/console/health"
    cookie = answered.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP here; Secure over HTTPS
    page = session.get(f"{sandbox.base_url}/console/health", timeout=10)
    assert page.status_code == 200 and "The service is up" in page.text
    assert TOKEN not in page.text and TOKEN not in cookie  # the token is never sent back
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"


def test_a_forged_or_altered_cookie_is_no_session(sandbox):
    session, _ = sign_in(sandbox.base_url, token=TOKEN)
    real = session.cookies.get("lrs_console")
    body, signature = real.split(".")
    for forged in (f"{body}.{signature[:-2]}AA", f"{body[:-2]}xx.{signature}", "e30.e30", "", "a.b.c"):
        stranger = requests.Session()
        stranger.cookies.set("lrs_console", forged, path="/console")
        answered = stranger.get(f"{sandbox.base_url}/console/health", allow_redirects=False, timeout=10)
        assert answered.status_code == 303, forged


def test_a_form_without_the_session_csrf_token_is_refused(sandbox):
    session, _ = sign_in(sandbox.base_url, token=TOKEN)
    other, _ = sign_in(sandbox.base_url, token=TOKEN)
    someone_elses = csrf_of(other.get(f"{sandbox.base_url}/console/health", timeout=10))
    for sent in ({}, {"csrf": ""}, {"csrf": someone_elses}):
        answered = session.post(f"{sandbox.base_url}/console/sign-out", data=sent, allow_redirects=False, timeout=10)
        assert answered.status_code == 403, sent
        assert "CSRF" in answered.text
    # from another site's page (the browser says so in Origin), even with the right token
    own = csrf_of(session.get(f"{sandbox.base_url}/console/health", timeout=10))
    answered = session.post(f"{sandbox.base_url}/console/sign-out", data={"csrf": own},
                            headers={"Origin": "https://evil.example"}, allow_redirects=False, timeout=10)
    assert answered.status_code == 403
    answered = session.post(f"{sandbox.base_url}/console/sign-out", data={"csrf": own}, allow_redirects=False, timeout=10)
    assert answered.status_code == 303 and "Max-Age=0" in answered.headers["Set-Cookie"]


@pytest.mark.parametrize("wanted", ["https://evil.example/", "//evil.example/x", "/elsewhere", "/console\\..\\x", "javascript:alert(1)"])
def test_a_sign_in_never_sends_the_browser_off_the_console(sandbox, wanted):
    _, answered = sign_in(sandbox.base_url, token=TOKEN, next=wanted)
    assert answered.status_code == 303
    location = answered.headers["Location"]
    assert not urlsplit(location).netloc and location.startswith("/console/"), location


def test_unknown_paths_and_methods_are_pages_not_faults(sandbox):
    session, _ = sign_in(sandbox.base_url, token=TOKEN)
    missing = session.get(f"{sandbox.base_url}/console/no-such-page", timeout=10)
    assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("text/html")
    assert session.delete(f"{sandbox.base_url}/console/health", timeout=10).status_code == 405
    assert session.get(f"{sandbox.base_url}/console/static/../../etc/passwd", timeout=10).status_code == 404
    assert session.get(f"{sandbox.base_url}/console/static/console.css", timeout=10).headers["Content-Type"].startswith("text/css")


def test_the_requests_page_shows_a_call_and_its_problem(sandbox):
    session, _ = sign_in(sandbox.base_url, token=TOKEN)
    assert sandbox.call(find_by_uln(given="Zara")) == "WSRC0001"  # the names disagree
    for _ in range(50):
        listing = session.get(f"{sandbox.base_url}/console/requests?operation=learnerByULN", timeout=10)
        ids = re.findall(r'href="/console/requests/(\d+)"', listing.text)
        if ids:
            break
        time.sleep(0.1)  # journal entries are written a moment after their call
    assert ids, listing.text
    entry = session.get(f"{sandbox.base_url}/console/requests/{ids[0]}", timeout=10)
    assert entry.status_code == 200
    assert "WSRC0001" in entry.text and "given name differs" in entry.text
    assert ORG["password"] not in entry.text and "***" in entry.text
    assert "curl -sS -X POST" in entry.text and "/LearnerService.svc" in entry.text
    assert session.get(f"{sandbox.base_url}/console/requests/99999999", timeout=10).status_code == 404
    refused = session.get(f"{sandbox.base_url}/console/requests?ukprn=abc", timeout=10)
    assert refused.status_code == 400 and "ukprn: digits only" in refused.text
    assert 'aria-label="Console pages"' in refused.text and "Sign out" in refused.text  # signed in: still navigable


def test_without_sandbox_or_console_there_is_no_console(tmp_path):
    with serving(tmp_path, "--no-worker") as server:
        answered = requests.get(f"{server.base_url}/console/sign-in", timeout=10)
        assert answered.status_code == 404


def test_outside_sandbox_mode_a_super_user_signs_in_and_others_do_not(console_only):
    base = console_only.base_url
    page = requests.get(f"{base}/console/sign-in", timeout=10)
    assert "UKPRN" in page.text and "Sandbox token" not in page.text
    _, refused = sign_in(base, ukprn=ORG["ukprn"], username="online", password=ORG["password"])
    assert refused.status_code == 401 and "WSEC0006" in refused.text  # no super_user role
    _, refused = sign_in(base, ukprn=ORG["ukprn"], username="super", password="not-the-password")
    assert refused.status_code == 401 and "WSEC0005" in refused.text and "not-the-password" not in refused.text
    _, refused = sign_in(base, ukprn="", username="super", password="x")
    assert refused.status_code == 400 and "ukprn" in refused.text
    session, answered = sign_in(base, ukprn=ORG["ukprn"], username="super", password=ORG["password"], next="/console/organisations")
    assert answered.status_code == 303
    page = session.get(f"{base}/console/organisations", timeout=10)
    assert page.status_code == 200 and ORG["name"] in page.text and ORG["password"] not in page.text
    # the sandbox's pages do not exist here, and a sandbox-token cookie from elsewhere is no session
    assert session.get(f"{base}/console/requests", timeout=10).status_code == 404
    # how the service is, not where it runs: no database address, no hosts or processes
    health = session.get(f"{base}/console/health", timeout=10)
    assert health.status_code == 200 and "The service is up" in health.text
    assert "Database" not in health.text and console_only.database_url.split("/")[-1] not in health.text


def test_a_wrong_console_password_counts_towards_the_backoff_as_soap_does(console_only):
    base = console_only.base_url
    for _ in range(8):
        sign_in(base, ukprn=ORG["ukprn"], username="super", password="wrong")
    _, refused = sign_in(base, ukprn=ORG["ukprn"], username="super", password=ORG["password"])
    assert refused.status_code == 401 and "Too many incorrect passwords" in refused.text


@pytest.mark.parametrize("path", ["/console/jobs?ran=%C2%B2", "/console/learners/9105106906?page=%C2%B2",
                                  "/console/controls?id=%C2%B2", "/console/learners/9105106906?page=%EF%BC%91",
                                  "/console/jobs/%C2%B2", "/console/requests/%EF%BC%91"])
def test_a_number_field_takes_ascii_digits_only(sandbox, path):
    """str.isdigit() takes "²" (int() then fails) and fullwidth "１" (int() reads 1)."""
    session, _ = sign_in(sandbox.base_url, token=TOKEN)
    answered = session.get(f"{sandbox.base_url}{path}", timeout=10)
    assert answered.status_code in (400, 404), (path, answered.status_code)
    assert "Traceback" not in sandbox.log()


def test_a_fault_for_too_many_calls_is_refused_naming_times(sandbox):
    session, _ = sign_in(sandbox.base_url, token=TOKEN)
    csrf = csrf_of(session.get(f"{sandbox.base_url}/console/controls", timeout=10))
    answered = session.post(f"{sandbox.base_url}/console/controls/faults", timeout=10, allow_redirects=False, data={
        "csrf": csrf, "operation": "*", "kind": "fault", "code": "WSEC0999", "times": "99999999999999999999"})
    assert answered.status_code == 400 and "times:" in answered.text
    over_api = requests.post(f"{sandbox.base_url}/sandbox/faults", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10,
                             json={"operation": "*", "kind": "fault", "times": 99999999999999999999})
    assert over_api.status_code == 400 and over_api.json()["error"].startswith("times:")


def test_every_page_is_never_cached(sandbox):
    for path in ("/console/sign-in", "/console/no-such-page"):
        assert requests.get(f"{sandbox.base_url}{path}", timeout=10).headers["Cache-Control"] == "no-store", path


def test_behind_a_proxy_that_rewrites_host_the_public_urls_origin_is_ours(sandbox):
    """nginx's default passes its upstream's name as Host: the browser's Origin is --public-url's."""
    answered = requests.post(f"{sandbox.base_url}/console/sign-in", data={"token": TOKEN}, allow_redirects=False, timeout=10,
                             headers={"Host": "backend.internal:8000", "Origin": sandbox.base_url})
    assert answered.status_code == 303
    refused = requests.post(f"{sandbox.base_url}/console/sign-in", data={"token": TOKEN}, allow_redirects=False, timeout=10,
                            headers={"Host": "backend.internal:8000", "Origin": "https://evil.example"})
    assert refused.status_code == 403
