"""The console's Faults and clock page and its Scenarios page over HTTP, against `lrs-ws serve
--sandbox` with two workers: each fault kind planted through the form and seen on a SOAP call,
removed one by one and all at once; bad values refused naming the field with nothing planted;
forms without the CSRF token refused with nothing changed; the clock set and given back; every
scenario's envelope, sent as the page shows it, answered as the catalogue expects."""
from __future__ import annotations

import socket
import time

import pytest
import requests

from tests.e2e.console_signin import Console, alert, html, texts
from tests.e2e.serving import answer_of, find_by_uln, serving

TOKEN = "e2e-console-controls-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAULT = {"operation": "learnerByULN", "kind": "fault", "seconds": "", "code": "WSEC0999", "status": "", "times": "1",
         "probability": "1", "ukprn": ""}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("console-controls"), "--sandbox", "--sandbox-token", TOKEN, "--workers", "2",
                 "--no-worker") as server:
        yield server


@pytest.fixture
def console(served):
    assert requests.post(served.url("/sandbox/reset"), headers=AUTH, timeout=30).status_code == 200
    return Console(served.base_url).sign_in(token=TOKEN)


def api(served, method: str, path: str) -> dict:
    response = requests.request(method, served.url("/sandbox" + path), headers=AUTH, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def plant(console: Console, **changes: str) -> int:
    planted = console.post("/controls/faults", {**FAULT, **changes})
    page = console.follow(planted)
    notice = texts(html(page), '//p[@class="notice"]')
    assert notice and notice[0].startswith("Planted fault "), page.text
    return int(notice[0].removeprefix("Planted fault ").rstrip("."))


def test_each_fault_kind_planted_through_the_form_answers_a_soap_call(served, console):
    plant(console)
    assert served.call(find_by_uln()) == "WSEC0999"
    assert served.call(find_by_uln()) == "WSRC0004"  # once: times 1

    plant(console, kind="http", status="503", times="2")
    for _ in range(2):
        response = served.post("/LearnerService.svc", find_by_uln())
        assert response.status_code == 503 and response.content == b""

    plant(console, kind="delay", seconds="1.0")
    started = time.monotonic()
    assert served.call(find_by_uln()) == "WSRC0004" and time.monotonic() - started >= 1.0

    plant(console, operation="*", kind="drop", ukprn="10000001")
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        body = find_by_uln().encode()
        sock.sendall(b"POST /LearnerService.svc HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        assert sock.recv(65536) == b""  # closed without a byte
    assert served.call(find_by_uln()) == "WSRC0004"
    assert api(served, "GET", "/faults") == {"faults": []}  # every one used up


def test_faults_are_listed_removed_one_by_one_and_all_at_once(served, console):
    first = plant(console, times="")  # until removed
    second = plant(console, kind="http", status="500", probability="0", ukprn="10000001")
    page = html(console.get("/controls"))
    rows = [[" ".join(cell.text_content().split()) for cell in row.xpath("td")] for row in page.xpath("//table/tbody/tr")]
    assert [row[:7] for row in rows] == [
        [str(first), "learnerByULN", "every organisation", "fault", "WSEC0999", "until removed", "1.0"],
        [str(second), "learnerByULN", "10000001", "http", "HTTP 500", "1", "0.0"],
    ]
    assert served.call(find_by_uln()) == "WSEC0999" and served.call(find_by_uln()) == "WSEC0999"  # until removed

    removed = console.follow(console.post(f"/controls/faults/{first}/remove"))
    assert f"Removed fault {first}." in removed.text
    assert [fault["id"] for fault in api(served, "GET", "/faults")["faults"]] == [second]
    assert served.call(find_by_uln()) == "WSRC0004"  # at once, whichever worker answers
    again = console.follow(console.post(f"/controls/faults/{first}/remove"))
    assert f"Fault {first} had already gone" in html(again).text_content()

    plant(console)
    cleared = console.follow(console.post("/controls/faults/remove-all"))
    assert "Removed every planted fault." in cleared.text and "No faults planted" in html(cleared).text_content()
    assert api(served, "GET", "/faults") == {"faults": []}
    assert console.post("/controls/faults/abc/remove").status_code == 404


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"operation": "noSuchOperation"}, "operation"),
        ({"kind": "explode"}, "kind"),
        ({"kind": "delay", "seconds": ""}, "seconds"),
        ({"kind": "delay", "seconds": "soon"}, "seconds"),
        ({"kind": "delay", "seconds": "301"}, "seconds"),
        ({"kind": "delay", "seconds": "nan"}, "seconds"),
        ({"code": "WSEC1234"}, "code"),
        ({"kind": "http", "status": "200"}, "status"),
        ({"kind": "http", "status": "five hundred"}, "status"),
        ({"times": "0"}, "times"),
        ({"times": "1.5"}, "times"),
        ({"probability": "1.5"}, "probability"),
        ({"probability": "often"}, "probability"),
        ({"ukprn": "123"}, "ukprn"),
    ],
)
def test_a_bad_value_is_400_naming_the_field_and_plants_nothing(served, console, changes, field):
    sent = {**FAULT, **changes}
    response = console.post("/controls/faults", sent)
    assert response.status_code == 400 and alert(response).startswith(f"{field}:"), alert(response)
    assert api(served, "GET", "/faults") == {"faults": []}
    form = html(response).xpath('//form[@action="/console/controls/faults"]')[0]
    for name in ("seconds", "status", "times", "probability", "ukprn"):  # the form keeps what was sent
        assert form.xpath(f'.//input[@name="{name}"]/@value') == [sent[name]]
    chosen = form.xpath('.//select[@name="kind"]/option[@selected]/@value')
    assert chosen == ([sent["kind"]] if sent["kind"] != "explode" else [])


def test_a_form_without_its_csrf_token_changes_nothing(served, console):
    planted = plant(console, times="")
    for csrf in (None, "forged"):
        for path, form in (("/controls/faults", FAULT), (f"/controls/faults/{planted}/remove", {}), ("/controls/faults/remove-all", {}),
                           ("/controls/clock", {"now": "2030-01-01T00:00", "frozen": "on"}), ("/controls/clock/clear", {})):
            response = console.post(path, form, csrf=csrf)
            assert response.status_code == 403 and "CSRF" in alert(response), (path, csrf)
    assert [fault["id"] for fault in api(served, "GET", "/faults")["faults"]] == [planted]
    assert api(served, "GET", "/clock")["set"] is False


def test_the_clock_is_set_seen_and_given_back(served, console):
    page = html(console.get("/controls"))
    assert "the host's" in " ".join(texts(page, "//dl"))
    done = console.follow(console.post("/controls/clock", {"now": "2028-01-15T10:00", "frozen": "on"}))
    assert "The register's clock is set." in html(done).text_content() and "2028-01-15 10:00:00" in done.text
    clock = api(served, "GET", "/clock")
    assert clock["set"] and clock["frozen"] and clock["now"].startswith("2028-01-15T10:00:00")
    for _ in range(4):  # a new connection each: both workers tell the time set (a fault carries it)
        fault = served.post("/LearnerService.svc", find_by_uln().replace("DemoPassword0001", "WrongPassword000"))
        assert "<ErrorTimestamp>2028-01-15 10:00:00</ErrorTimestamp>" in fault.text

    running = console.follow(console.post("/controls/clock", {"now": "2029-06-01T09:30:15"}))
    assert "running on" in html(running).text_content() and api(served, "GET", "/clock")["frozen"] is False

    back = console.follow(console.post("/controls/clock/clear"))
    assert "The register tells the host's time again." in html(back).text_content() and api(served, "GET", "/clock")["set"] is False


@pytest.mark.parametrize("now", ["yesterday", "", "2028-13-01T10:00"])
def test_a_bad_date_and_time_is_400_naming_the_field(served, console, now):
    response = console.post("/controls/clock", {"now": now, "frozen": "on"})
    assert response.status_code == 400 and alert(response).startswith("now:")
    assert html(response).xpath('//input[@name="now"]/@value') == [now] and api(served, "GET", "/clock")["set"] is False


def test_every_scenario_is_shown_and_its_envelope_gets_the_outcome_expected(served, console):
    catalogue = requests.get(served.url("/sandbox/scenarios"), headers=AUTH, timeout=10).json()["scenarios"]
    page = html(console.get("/scenarios"))
    sections = page.xpath('//section[@class="scenario"]')
    assert len(sections) == len(catalogue)
    for section, scenario in zip(sections, catalogue, strict=True):
        heading = " ".join(section.xpath(".//h2")[0].text_content().split())
        assert heading == f"{scenario['name']} ({scenario['operation']})"
        assert scenario["description"] in section.text_content()
        number = section.get("id").removeprefix("scenario-")
        envelope = section.xpath(f'.//*[@id="envelope-{number}"]')[0].text_content().strip()
        assert section.xpath(f'.//button[@data-copy="envelope-{number}"]') and section.xpath(f'.//button[@data-copy="curl-{number}"]')
        curl = section.xpath(f'.//pre[@id="curl-{number}"]')[0].text_content()
        r9 = scenario["operation"] in ("LearnerByUln", "GetLearnerLearningEvents")
        endpoint = "/LearnerServiceR9.svc" if r9 else "/LearnerService.svc"
        assert curl.startswith(f"curl -sS -X POST {served.url(endpoint)} ")
        action = curl.split("SOAPAction: ", 1)[1].split("'", 1)[0] if "SOAPAction" in curl else None
        answered = served.post(endpoint, envelope, soap_action=action)
        assert answer_of(answered.content, scenario["name"]) == scenario["expect"], (scenario["name"], answered.text[:600])
