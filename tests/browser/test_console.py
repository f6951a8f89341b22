"""The console in a real browser (headless Chromium, Playwright): signing in and out, the Requests
journal refreshing by itself, a refused request opened with its problem, its XML line marked and
its curl command run, Health, Organisations and users, the keyboard, the session cookie, a
phone-sized screen. The harness (server, browser, screenshots) is tests/browser/conftest.py."""
from __future__ import annotations

import re
import subprocess

import requests
from lxml import etree

from lrs_ws.contract.namespaces import SOAP_ENV
from tests.conftest import DEMO
from tests.e2e.serving import find_by_uln

from .conftest import PHONE, Console, ConsoleServer, Shots, playwright_or_skip, sign_in

expect = playwright_or_skip().expect

ORG = DEMO["organisation"]
LEARNER_BY_ULN = '"http://tempuri.org/LearnerPortType/learnerByULN"'
SIGN_IN = re.compile(r"/console/sign-in(\?|$)")
REFRESH_MS = 10_000  # the journal refreshes every 3 s, and an entry is written within a second of its call


def session_cookies(context) -> list[dict]:
    return [cookie for cookie in context.cookies() if cookie["name"] == "lrs_console"]


def send_refused_find(console_server: ConsoleServer) -> tuple[int, requests.Response]:
    """A learnerByULN with a ULN of 9 digits (refused WSEC0001); its journal entry's id."""
    before = console_server.sandbox.requests(limit=1)
    since = before[0]["id"] if before else 0
    answer = requests.post(f"{console_server.url}/LearnerService.svc", data=find_by_uln(uln="910510690").encode(),
                           headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": LEARNER_BY_ULN}, timeout=30)
    entries = console_server.sandbox.assert_called("learnerByULN", 1, outcome="WSEC0001", since_id=since)
    return entries[0]["id"], answer


# --- signing in ----------------------------------------------------------------------------


def test_sign_in_is_refused_without_a_token(signed_out_page, context, shots: Shots):
    page = signed_out_page
    page.goto("/console/requests")
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_role("heading", name="Sign in to the console")).to_be_visible()
    shots.take(page, "sign-in")

    # Empty: the browser itself holds the form back (the field is required).
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_label("Sandbox token").evaluate("field => field.validity.valueMissing") is True
    expect(page).to_have_url(SIGN_IN)

    # Blank (spaces pass the browser's check): the server refuses, naming the field.
    page.get_by_label("Sandbox token").fill("   ")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("token: enter the sandbox token")
    shots.take(page, "sign-in-refused-blank")
    expect(page).to_have_url(SIGN_IN)
    assert session_cookies(context) == []


def test_sign_in_is_refused_with_a_wrong_token(signed_out_page, context, console_server: ConsoleServer, shots: Shots):
    page = signed_out_page
    page.goto("/console/health")
    page.get_by_label("Sandbox token").fill(console_server.token + "x")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("token: that is not the sandbox token")
    shots.take(page, "sign-in-refused-wrong")
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_label("Sandbox token")).to_have_value("")  # a token is never sent back
    assert session_cookies(context) == []
    page.goto("/console/health")  # still signed out
    expect(page).to_have_url(SIGN_IN)


def test_signing_in_with_the_token_opens_the_page_asked_for(signed_out_page, context, console_server: ConsoleServer, shots: Shots):
    page = signed_out_page
    page.goto("/console/organisations")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next=%2Fconsole%2Forganisations$"))
    page.get_by_label("Sandbox token").fill(console_server.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{console_server.console}/organisations")
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisations and users")
    shots.take(page)
    assert len(session_cookies(context)) == 1


def test_the_session_cookie_is_http_only_and_same_site_strict(page, context):
    (cookie,) = session_cookies(context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/console"
    assert cookie["secure"] is False  # plain HTTP here; Secure when served over HTTPS
    assert page.evaluate("document.cookie") == ""  # out of the page's scripts' reach


def test_signing_out_ends_the_session(page, context, console_server: ConsoleServer, console: Console, shots: Shots):
    console.visit(page, "health")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{console_server.console}/sign-in")
    shots.take(page, "signed-out")
    assert session_cookies(context) == []
    page.goto("/console/requests")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next=%2Fconsole%2Frequests$"))
    expect(page.get_by_label("Sandbox token")).to_be_visible()


# --- Requests ------------------------------------------------------------------------------


def test_a_refused_request_appears_without_reloading_and_opens_with_its_problem(
    page, context, console_server: ConsoleServer, console: Console, shots: Shots
):
    console.visit(page, "requests")
    page.evaluate("window.__not_reloaded = true")  # gone if the page were loaded again

    entry_id, answer = send_refused_find(console_server)
    assert answer.status_code == 500 and b"<ErrorCode>WSEC0001</ErrorCode>" in answer.content

    row = page.locator("#journal tbody tr").filter(has=page.locator(f'a[href="/console/requests/{entry_id}"]'))
    expect(row).to_have_count(1, timeout=REFRESH_MS)
    expect(row).to_contain_text("learnerByULN")
    expect(row).to_contain_text("WSEC0001")
    expect(row).to_contain_text("ULN: length must be exactly 10 (got 9)")
    assert page.evaluate("window.__not_reloaded") is True
    shots.take(page, "requests-live")

    row.get_by_role("link", name="learnerByULN").click()
    expect(page).to_have_url(f"{console_server.console}/requests/{entry_id}")
    problem = page.locator("#problem")
    expect(problem).to_be_visible()
    expect(problem).to_contain_text("ULN: length must be exactly 10 (got 9)")
    request_xml = page.get_by_role("region", name="Request").locator(".xml")
    marked = request_xml.locator(".hll")
    expect(marked).to_have_count(1)  # the ULN's line, and no other
    expect(marked).to_have_text(re.compile(r"^\s*<ULN>910510690</ULN>\s*$"))
    shots.take(page, "request-refused")

    curl = page.locator("#curl").inner_text()
    assert f"{console_server.url}/LearnerService.svc" in curl
    assert f"SOAPAction: {LEARNER_BY_ULN}" in curl
    assert "<OrgPassword>***</OrgPassword>" in curl and ORG["password"] not in curl

    # The Copy button puts that very text on the clipboard.
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console_server.url)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == curl

    # And the command works: with the password put in, the server answers it as it did the first time.
    ran = subprocess.run(["bash", "-c", curl.replace("***", ORG["password"])], capture_output=True, text=True, timeout=30)
    assert ran.returncode == 0, ran.stderr
    envelope = etree.fromstring(ran.stdout.encode())
    assert envelope.tag == f"{{{SOAP_ENV}}}Envelope"
    assert envelope.findtext(".//ErrorCode") == "WSEC0001"
    assert "ULN: length must be exactly 10 (got 9)" in envelope.findtext(".//FurtherDetails")
    assert console_server.sandbox.assert_called("learnerByULN", 1, outcome="WSEC0001", since_id=entry_id)


def test_the_filters_narrow_the_journal_and_name_a_bad_field(page, console_server: ConsoleServer, console: Console, shots: Shots):
    entry_id, _ = send_refused_find(console_server)
    console.visit(page, "requests")
    page.get_by_label("Outcome").fill("WSEC0001")
    page.get_by_label("Operation").fill("learnerByULN")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/console/requests\?operation=learnerByULN&outcome=WSEC0001"))
    expect(page.locator(f'#journal a[href="/console/requests/{entry_id}"]').first).to_be_visible()
    outcomes = page.locator("#journal tbody tr td:nth-child(4)")
    assert outcomes.count() >= 1 and set(outcomes.all_inner_texts()) == {"WSEC0001"}
    shots.take(page, "requests-filtered")

    page.get_by_label("Outcome").fill("WSRC0004")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(f'#journal a[href="/console/requests/{entry_id}"]')).to_have_count(0)

    response = page.goto("/console/requests?ukprn=abc")
    assert response is not None and response.status == 400
    expect(page.get_by_role("alert")).to_have_text("ukprn: digits only (8 of them)")
    shots.take(page, "requests-bad-filter")


def test_a_request_not_in_the_journal_is_a_404_page(page, console: Console):
    response = console.visit(page, "requests/999999999", "request-missing")
    assert response is not None and response.status == 404
    expect(page.get_by_role("alert")).to_contain_text("No request 999999999 in the journal")


# --- Health, Organisations ---------------------------------------------------------------------


def test_health_says_the_service_is_up(page, console: Console):
    response = console.visit(page, "health")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Health")
    expect(page.locator("main")).to_contain_text("The service is up")
    expect(page.locator("main")).not_to_contain_text("Unavailable")


def test_organisations_lists_the_demo_organisation_and_its_users(page, console: Console):
    console.visit(page, "organisations")
    section = page.get_by_role("region", name=DEMO["organisation"]["name"])
    expect(section).to_contain_text(ORG["ukprn"])
    expect(section).to_contain_text(ORG["organisation_ref"])
    users = section.get_by_role("table", name=f"Users of {ORG['name']}")
    for user in DEMO["users"]:
        row = users.get_by_role("row").filter(has=page.get_by_role("cell", name=user["username"], exact=True))
        expect(row).to_have_count(1)
        expect(row.get_by_role("cell").nth(1)).to_have_text(", ".join(sorted(user["roles"])))
    assert ORG["password"] not in page.content()


# --- the keyboard ----------------------------------------------------------------------------


def test_tab_reaches_the_skip_link_first_and_enter_moves_focus_to_main(page, console: Console, shots: Shots):
    console.visit(page, "requests")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0  # shown once focused (it sits off screen until then)
    shots.take(page, "skip-link-focused")
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")  # and the next Tab goes on from the content, past the navigation
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)") is True


# --- a phone-sized screen ------------------------------------------------------------------------


def test_every_page_fits_a_phone_screen(phone_page, console_server: ConsoleServer, shots: Shots):
    page = phone_page
    entry_id, _ = send_refused_find(console_server)
    sign_in(page, console_server, shots, label="phone-sign-in")
    for path in ("requests", f"requests/{entry_id}", "organisations", "health"):
        page.goto(f"/console/{path}")
        expect(page.locator("h1")).to_be_visible()
        shots.take(page, "phone-" + path.replace("/", "-"))
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"/console/{path} is {overflow} px wider than a {PHONE['width']} px screen"
