"""The console's other pages in a real browser (headless Chromium, Playwright): Learners (searches
through the form, a learner's page with events, linked ULNs and the audit trail of a PLR read made
over SOAP), Batch jobs (on a server without a batch worker: jobs seen waiting, then completed while the list refreshes itself; "Run
queued jobs now"; a job's counts, learners and LRB output downloaded), Faults and clock (a fault
planted through the form answering a SOAP call, removed; the clock set and cleared), Scenarios (an
envelope copied to the clipboard and sent: the outcome the page shows), and each page on a phone's
screen. The harness (server, browser, screenshots) is tests/browser/conftest.py.

Each test that needs a clean register resets the sandbox first; the faults and the clock set
through the forms are removed at the end whatever happens (`clean_controls`), so the other tests
meet the service as it is."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from lrs_ws.testing.sandbox import LrsSandbox, StartedSandbox
from tests.conftest import DEMO
from tests.e2e.serving import AMELIA, R9_ACTION, answer, fault_detail, find_by_uln, learning_events, submit_batch

from .conftest import PHONE, Console, ConsoleServer, Shots, new_context, playwright_or_skip, sign_in

expect = playwright_or_skip().expect

ORG = DEMO["organisation"]
LEARNER_BY_ULN = '"http://tempuri.org/LearnerPortType/learnerByULN"'
AMELIA_BORN = "2007-03-14"
AMELIA_SUBJECT = "AQA Level 1/Level 2 GCSE (9-1) in Mathematics"  # one of her demo learning events
JOB_DONE_MS = 60_000  # "Run queued jobs now" runs the jobs in the request: a slow machine's time for them


def post_soap(sandbox: LrsSandbox, envelope: str, *, r9: bool = False, soap_action: str | None = None) -> requests.Response:
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if r9 or soap_action:
        headers["SOAPAction"] = soap_action or R9_ACTION
    return requests.post(sandbox.r9_url if r9 else sandbox.learner_service_url, data=envelope.encode("utf-8"),
                         headers=headers, timeout=60)


def submit(sandbox: LrsSandbox, learners: list[dict]) -> int:
    """submitBatchRegistration as the demo's `batch` user; the job's id."""
    answered = post_soap(sandbox, submit_batch(learners))
    assert answer(answered) == "WSRC0007", answered.text
    return int(answered.text.split("<JobID>")[1].split("<")[0])


def status_of(page, job_id: int):
    return page.locator("#jobs tbody tr").filter(has=page.locator(f'a[href="/console/jobs/{job_id}"]')).locator(".status")


# --- Learners ----------------------------------------------------------------------------------


def test_a_learner_is_found_and_opens_with_events_linked_ulns_and_audit(
    page, console_server: ConsoleServer, console: Console, shots: Shots
):
    sandbox = console_server.sandbox
    sandbox.reset()
    # A ULN merged into Amelia's (linked to it), with a learning event of its own.
    (merged,) = sandbox.plant([{
        "GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": AMELIA_BORN, "Gender": "2", "LastKnownPostCode": "B15 2TT",
        "linked_to": AMELIA["ULN"],
        "events": [{"Subject": "Planted Award in Chemistry", "QualificationType": "Award", "Level": "Level 2", "Grade": "Pass",
                    "AchievementAwardDate": "2024-07-01", "AwardingOrganisationName": "Planted Awards"}],
    }])
    # A PLR read over SOAP beforehand, by the demo's `online` user.
    read = post_soap(sandbox, learning_events(), r9=True)
    assert answer(read) == "WSRC0004", read.text

    console.visit(page, "learners")
    expect(page.get_by_role("heading", level=1)).to_have_text("Learners")

    # By ULN.
    page.get_by_label("ULN").fill(AMELIA["ULN"])
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(rf"/console/learners\?uln={AMELIA['ULN']}"))
    results = page.get_by_role("region", name="Results")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results.locator("tbody tr")).to_contain_text(AMELIA_BORN)
    shots.take(page, "learners-by-uln")

    # By names and date of birth: Amelia and the ULN merged into hers.
    page.get_by_label("ULN").fill("")
    page.get_by_label("Given name").fill("amelia")
    page.get_by_label("Family name").fill("HUGHES")
    page.get_by_label("Date of birth").fill(AMELIA_BORN)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"given_name=amelia&family_name=HUGHES&date_of_birth=2007-03-14"))
    rows = results.locator("tbody tr")
    expect(rows).to_have_count(2)
    def row_of(uln: str):
        return rows.filter(has=page.get_by_role("link", name=uln, exact=True))

    expect(row_of(merged).locator("td").last).to_have_text(f"retired (merged into {AMELIA['ULN']})")
    expect(row_of(AMELIA["ULN"]).locator("td").last).to_have_text("active")
    shots.take(page, "learners-by-names")

    results.get_by_role("link", name=AMELIA["ULN"], exact=True).click()
    expect(page).to_have_url(f"{console_server.console}/learners/{AMELIA['ULN']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Amelia Hughes")
    record = page.get_by_role("region", name="Record")
    expect(record).to_contain_text("active")
    expect(record.get_by_role("link", name=merged)).to_have_attribute("href", f"/console/learners/{merged}")
    details = page.get_by_role("region", name="Details")
    expect(details).to_contain_text(AMELIA_BORN)
    expect(details).to_contain_text("B15 2TT")

    events = page.get_by_role("region", name="Learning events")
    expect(events.locator("tbody tr").filter(has_text=AMELIA_SUBJECT)).to_have_count(1)
    planted_event = events.locator("tbody tr").filter(has_text="Planted Award in Chemistry")
    expect(planted_event).to_contain_text(merged)  # the whole record's events, each with its ULN
    expect(planted_event).to_contain_text("Planted Awards")

    audit = page.get_by_role("region", name="Audit trail").locator("tbody tr")
    plr_read = audit.filter(has_text="GetLearnerLearningEvents")
    expect(plr_read).to_have_count(1)
    expect(plr_read).to_contain_text(ORG["name"])
    expect(plr_read.get_by_role("cell", name="online", exact=True)).to_have_count(1)
    expect(plr_read.get_by_role("cell", name="127.0.0.1", exact=True)).to_have_count(1)
    shots.take(page, "learner")

    # This view is in the trail the next time the page is shown.
    expect(audit.filter(has_text="ConsoleLearnerPage")).to_have_count(0)
    page.reload()
    mine = audit.filter(has_text="ConsoleLearnerPage")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("shown")
    expect(mine).to_contain_text("sandbox console")
    shots.take(page, "learner-reloaded")

    # And the merged ULN's own page says whose record it is.
    page.get_by_role("region", name="Record").get_by_role("link", name=merged).click()
    expect(page.locator(".notice")).to_contain_text(f"This ULN was merged into {AMELIA['ULN']}")
    shots.take(page, "learner-merged")


def test_a_search_with_a_nine_digit_uln_names_the_field(page, console: Console, shots: Shots):
    console.visit(page, "learners")
    page.get_by_label("ULN").fill("910510690")
    with page.expect_response(re.compile(r"/console/learners\?")) as searched:
        page.get_by_role("button", name="Search").click()
    assert searched.value.status == 400
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"^uln: "))
    expect(page.get_by_label("ULN")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("ULN")).to_have_value("910510690")  # the form as it was sent
    expect(page.get_by_role("region", name="Results")).to_have_count(0)
    shots.take(page, "learners-bad-uln")


# --- Batch jobs --------------------------------------------------------------------------------


OUR_JOB = [
    {"MISIdentifier": "OURS-1", "GivenName": "Tabitha", "FamilyName": "Newcombe", "DateOfBirth": "2005-02-03", "Gender": "2",
     "LastKnownPostCode": "LS1 4AP"},  # nobody like her: registered (RC003)
    {"MISIdentifier": "OURS-2", "ULN": AMELIA["ULN"], "GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": AMELIA_BORN,
     "Gender": "2", "LastKnownPostCode": "B15 2TT"},  # found by her ULN
    {"MISIdentifier": "OURS-3", "ULN": "9105106907", "GivenName": "Nobody", "FamilyName": "Known", "DateOfBirth": "2001-01-01",
     "Gender": "1", "LastKnownPostCode": "M1 1AE"},  # fails its check digit: RC009
]


@pytest.fixture(scope="module")
def idle_server(tmp_path_factory) -> Iterator[ConsoleServer]:
    """A sandbox server of its own without a batch worker (`serve --no-worker`): a job submitted
    waits until "Run queued jobs now" runs it, however fast the machine."""
    started = StartedSandbox(tmp_path_factory.mktemp("lrs-ws-no-worker"), serve_options=("--no-worker",))
    try:
        yield ConsoleServer(started.url, started.token, LrsSandbox(started.url, started.token))
    finally:
        started.stop()


def test_a_job_waits_then_completes_while_the_list_refreshes_itself(browser, idle_server: ConsoleServer, shots: Shots):
    sandbox = idle_server.sandbox
    earlier = submit(sandbox, OUR_JOB[1:2])  # Amelia by her ULN: changes nothing the test looks at
    ours = submit(sandbox, OUR_JOB)
    context = new_context(browser, idle_server)
    try:
        page = context.new_page()
        sign_in(page, idle_server)
        console = Console(shots)
        console.visit(page, "jobs")
        page.evaluate("window.__not_reloaded = true")  # gone if the page were loaded again
        expect(page.locator("#jobs")).to_have_attribute("data-refresh", "/console/jobs")  # live while jobs wait
        expect(status_of(page, ours)).to_have_text("Submitted")  # nothing runs it until asked
        progress = page.locator(f"#progress-{ours}")
        expect(progress).to_have_attribute("value", "0")
        expect(progress).to_have_attribute("max", str(len(OUR_JOB)))
        ours_row = page.locator("#jobs tbody tr").filter(has=page.locator(f"#progress-{ours}"))
        expect(ours_row).to_contain_text(f"0 of {len(OUR_JOB)}")
        expect(ours_row).to_contain_text("web service")
        shots.take(page, "jobs-waiting")

        # "Run queued jobs now" in another tab runs them; this tab, never reloaded, sees them
        # completed, the progress bars full.
        other = context.new_page()
        other.goto("/console/jobs")
        other.get_by_role("button", name="Run queued jobs now").click(timeout=JOB_DONE_MS)  # answered once they have run
        expect(other.get_by_role("status")).to_have_text("Ran 2 queued jobs.", timeout=JOB_DONE_MS)
        expect(status_of(other, ours)).to_have_text("Completed")
        shots.take(other, "jobs-ran")
        other.close()

        expect(status_of(page, ours)).to_have_text("Completed", timeout=JOB_DONE_MS)
        expect(status_of(page, earlier)).to_have_text("Completed")
        expect(progress).to_have_attribute("value", str(len(OUR_JOB)))
        expect(ours_row).to_contain_text(f"{len(OUR_JOB)} of {len(OUR_JOB)}")
        assert page.evaluate("window.__not_reloaded") is True
        shots.take(page, "jobs-completed")

        # The job's page: counts by outcome, each learner's code, the output as an LRB file.
        page.locator("#jobs").get_by_role("link", name=str(ours), exact=True).click()
        expect(page).to_have_url(f"{idle_server.console}/jobs/{ours}")
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Batch job {ours}: FUL, Completed")
        counts = page.get_by_role("table", name="Counts by outcome")
        expected_counts = {"NewLearnersCount": "1", "ExistsUpdatedLearnersCount": "1", "PossibleMatchLearnersCount": "0",
                           "LearnersNotFoundCount": "1", "RejectedLearnersCount": "0"}
        for wire, number in expected_counts.items():
            expect(counts.get_by_role("row").filter(has_text=wire).locator("td").last).to_have_text(number)
        learners = page.get_by_role("region", name="Learners").locator("tbody tr")
        expect(learners).to_have_count(len(OUR_JOB))
        expect(learners.nth(0)).to_contain_text("OURS-1")
        expect(learners.nth(0).locator("td").nth(6)).to_have_text("RC003")
        expect(learners.nth(0).locator("td").nth(7)).to_have_text(re.compile(r"^\d{10}$"))  # the ULN issued
        expect(learners.nth(1).locator("td").nth(6)).to_have_text("RC001")  # her ULN, details agreeing
        expect(learners.nth(1).locator("td").nth(7)).to_have_text(AMELIA["ULN"])
        expect(learners.nth(2).locator("td").nth(6)).to_have_text("RC009")
        shots.take(page, "job")

        with page.expect_download() as downloading:
            page.get_by_role("link", name="Download the output as an LRB file").click()
        download = downloading.value
        assert re.fullmatch(rf"LRB_{ORG['ukprn']}_\d{{12}}_OUTPUT\.CSV", download.suggested_filename), download.suggested_filename
        lines = Path(download.path()).read_text(encoding="utf-8-sig").splitlines()
        assert lines[0].startswith("FileVersion,FileName,UKPRN,LearnerRecordCount,"), lines[0]
        rows = [line for line in lines[1:] if line.strip()]
        assert len(rows) == len(OUR_JOB), lines
        header = rows[0].split(",")
        assert header[1] == f"job {ours}" and header[2] == ORG["ukprn"] and header[3] == str(len(OUR_JOB)), rows[0]
        assert [row.split(",")[5] for row in rows] == [learner["MISIdentifier"] for learner in OUR_JOB]
    finally:
        context.close()


# --- Faults and clock ----------------------------------------------------------------------------


@pytest.fixture
def clean_controls(console_server: ConsoleServer) -> Iterator[LrsSandbox]:
    """No fault planted and the host's time, before the test and after it whatever happens."""
    sandbox = console_server.sandbox
    sandbox.api.call("DELETE", "/faults")
    sandbox.api.call("DELETE", "/clock")
    try:
        yield sandbox
    finally:
        sandbox.api.call("DELETE", "/faults")
        sandbox.api.call("DELETE", "/clock")


def planted(sandbox: LrsSandbox) -> list[dict]:
    return list(sandbox.api.call("GET", "/faults")["faults"])


def plant_through_the_form(page, operation: str, kind: str = "fault", *, code: str = "WSEC0999", times: str = "1",
                           probability: str = "1", seconds: str = "") -> None:
    page.get_by_label("Operation").select_option(operation)
    page.get_by_label("Kind").select_option(kind)
    page.get_by_label("Seconds (delay)").fill(seconds)
    page.get_by_label("Code (fault)").select_option(code)
    page.get_by_label("Times").fill(times)
    page.get_by_label("Probability").fill(probability)
    page.get_by_role("button", name="Plant the fault").click()


def test_a_fault_planted_through_the_form_answers_a_call_and_is_removed(
    page, clean_controls: LrsSandbox, console: Console, shots: Shots
):
    sandbox = clean_controls
    console.visit(page, "controls")
    expect(page.get_by_role("heading", level=1)).to_have_text("Faults and clock")
    faults = page.get_by_role("region", name="Planted faults")
    expect(faults).to_contain_text("No faults planted")

    plant_through_the_form(page, "learnerByULN", code="WSEC0999", times="1")
    expect(page.get_by_role("status")).to_be_visible()
    row = faults.locator("tbody tr")
    expect(row).to_have_count(1)
    for text in ("learnerByULN", "every organisation", "fault", "WSEC0999"):
        expect(row).to_contain_text(text)
    expect(row.locator("td").nth(5)).to_have_text("1")
    shots.take(page, "controls-fault-planted")

    answered = post_soap(sandbox, find_by_uln(), soap_action=LEARNER_BY_ULN)
    assert answered.status_code == 500
    assert fault_detail(answered.content)[1] == "WSEC0999"
    assert answer(post_soap(sandbox, find_by_uln(), soap_action=LEARNER_BY_ULN)) == "WSRC0004"  # once only
    page.reload()
    expect(faults).to_contain_text("No faults planted")  # its one time used up

    # Another, removed with its own button; then two, removed at once.
    plant_through_the_form(page, "learnerByDemographics", "delay", seconds="2.5", times="")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("2.5 s")
    expect(row.locator("td").nth(5)).to_have_text("until removed")
    (fault,) = planted(sandbox)
    row.get_by_role("button", name=f"Remove fault {fault['id']}").click()
    expect(faults).to_contain_text("No faults planted")
    assert planted(sandbox) == []

    plant_through_the_form(page, "*", code="WSEC0002")
    plant_through_the_form(page, "GetLearnerLearningEvents", code="WSEC0999", times="3", probability="0.5")
    expect(row).to_have_count(2)
    shots.take(page, "controls-two-faults")
    page.get_by_role("button", name="Remove all").click()
    expect(faults).to_contain_text("No faults planted")
    assert planted(sandbox) == []

    # A probability over 1: the field named, the form as sent, nothing planted.
    page.get_by_label("Operation").select_option("learnerByULN")
    page.get_by_label("Probability").fill("2")
    with page.expect_response(re.compile(r"/console/controls/faults$")) as sent:
        page.get_by_role("button", name="Plant the fault").click()
    assert sent.value.status == 400
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"^probability: "))
    expect(page.get_by_label("Probability")).to_have_value("2")
    expect(page.get_by_label("Operation")).to_have_value("learnerByULN")
    expect(faults.locator("tbody tr")).to_have_count(0)
    assert planted(sandbox) == []
    shots.take(page, "controls-bad-probability")


def test_the_clock_is_set_frozen_and_cleared(page, clean_controls: LrsSandbox, console: Console, shots: Shots):
    sandbox = clean_controls
    console.visit(page, "controls")
    clock = page.get_by_role("region", name="The clock")
    expect(clock).to_contain_text("the host's")
    expect(page.get_by_role("button", name="Back to the host's time")).to_have_count(0)

    page.get_by_label("Date and time (UK)").fill("2030-01-01T09:00")
    page.get_by_label("Frozen: the clock stands still").check()
    page.get_by_role("button", name="Set the clock").click()
    expect(clock.locator("dd").first).to_have_text("2030-01-01 09:00:00 (UK), set and frozen")
    said = sandbox.api.call("GET", "/clock")
    assert said["set"] and said["frozen"] and said["now"].startswith("2030-01-01T09:00:00")
    shots.take(page, "controls-clock-set")

    page.get_by_role("button", name="Back to the host's time").click()
    expect(clock.locator("dd").first).to_contain_text("(UK): the host's")
    assert sandbox.api.call("GET", "/clock")["set"] is False
    shots.take(page, "controls-clock-cleared")


# --- Scenarios -----------------------------------------------------------------------------------


def test_a_scenario_copied_from_the_page_gets_the_outcome_it_shows(
    page, context, console_server: ConsoleServer, console: Console, shots: Shots
):
    sandbox = console_server.sandbox
    sandbox.reset()
    catalogue = sandbox.scenarios
    console.visit(page, "scenarios")
    sections = page.locator("section.scenario")
    expect(sections).to_have_count(len(catalogue))
    expect(page.get_by_role("navigation", name="Scenarios on this page").get_by_role("link")).to_have_count(len(catalogue))

    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console_server.url)
    tried = set()
    for number in range(sections.count()):
        section = sections.nth(number)
        operation = section.locator("dd code").first.inner_text()
        if operation in tried or section.get_by_role("button", name="Copy the envelope").count() == 0:
            continue  # one of each operation
        tried.add(operation)
        expected = section.locator("code.expect").inner_text()
        url = section.locator("dd").nth(3).locator("code").first.inner_text()
        actions = section.locator("dd").nth(3).locator("code")
        soap_action = actions.nth(1).inner_text() if actions.count() > 1 else None

        section.get_by_role("button", name="Copy the envelope").click()
        expect(section.get_by_role("button", name="Copied")).to_be_visible()
        envelope = page.evaluate("navigator.clipboard.readText()")
        assert envelope.lstrip().startswith("<") and ORG["password"] in envelope

        answered = requests.post(url, data=envelope.encode("utf-8"), timeout=60,
                                 headers={"Content-Type": "text/xml; charset=utf-8",
                                          **({"SOAPAction": soap_action} if soap_action else {})})
        assert answer(answered) == expected, f"{operation}: {answered.text[:500]}"
    assert len(tried) >= 3, tried
    shots.take(page, "scenarios-copied")


# --- a phone-sized screen ------------------------------------------------------------------------


def test_the_other_pages_fit_a_phone_screen(phone_page, console_server: ConsoleServer, shots: Shots):
    page = phone_page
    sandbox = console_server.sandbox
    sandbox.reset()
    post_soap(sandbox, learning_events(), r9=True)  # a row in her audit trail
    job_id = submit(sandbox, OUR_JOB)
    sandbox.run_jobs()
    sign_in(page, console_server)
    with sandbox.fault("learnerByDemographics", "delay", seconds=2.5, times=None):  # a row in the faults' table
        for path in ("learners", f"learners?uln={AMELIA['ULN']}", f"learners/{AMELIA['ULN']}", "jobs", f"jobs/{job_id}",
                     "controls", "scenarios"):
            page.goto(f"/console/{path}")
            expect(page.locator("h1")).to_be_visible()
            shots.take(page, "phone-" + path.replace("/", "-"))
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"/console/{path} is {overflow} px wider than a {PHONE['width']} px screen"
