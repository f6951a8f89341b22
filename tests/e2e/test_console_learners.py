"""The console's Learners pages over HTTP, against `lrs-ws serve`: in sandbox mode (signed in with
the token) the search by ULN and by names and date of birth, every refused input as a 400 naming
its field, a learner's page (events, restricted ones marked, linked ULNs) and its audit trail,
which lists a PLR read made over SOAP and each console view (R9 ViewAudit lists those too); and
outside sandbox mode (`--console`), a super user with and without the roles to see learners."""
from __future__ import annotations

import subprocess

import lxml.html
import pytest
import requests
from lxml import etree

from lrs_ws.contract.namespaces import QCF_COMMON, SOAP_ENV, TEMPURI
from lrs_ws.domain.uln import check_digit
from tests.e2e.console_signin import Console
from tests.e2e.serving import AMELIA, ORG, R9_ACTION, answer, command, eventually, learning_events, serving

TOKEN = "e2e-console-token-0123456789"
OLIVER = {"ULN": "8032816126", "GivenName": "Oliver", "FamilyName": "Smith-Jones"}
RESTRICTED_SUBJECT = "NCFE Level 1 Award in Mental Health Awareness"  # Amelia's event with Restriction 1
UNKNOWN_ULN = "10000000" + "0" + str(check_digit("100000000"))  # a well-formed ULN the demo never issued


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("console-sandbox"), "--sandbox", "--sandbox-token", TOKEN) as server:
        yield server


@pytest.fixture
def browser(served) -> requests.Session:
    """A session signed in with the sandbox token."""
    session = requests.Session()
    signed = session.post(served.url("/console/sign-in"), data={"token": TOKEN}, allow_redirects=False, timeout=10)
    assert signed.status_code == 303, signed.text
    return session


def page(session: requests.Session, served, path: str, **params) -> tuple[int, lxml.html.HtmlElement]:
    response = session.get(served.url("/console" + path), params=params, allow_redirects=False, timeout=10)
    assert response.headers["Content-Type"].startswith("text/html")
    return response.status_code, lxml.html.fromstring(response.text)


def alert(document: lxml.html.HtmlElement) -> str:
    found = document.xpath('//*[@role="alert"]')
    return found[0].text_content().strip() if found else ""


def table_rows(document: lxml.html.HtmlElement, heading_id: str) -> list[list[str]]:
    """The body rows' cell texts of the table in the section labelled by `heading_id`."""
    section = document.xpath(f'//section[@aria-labelledby="{heading_id}"]')[0]
    return [[cell.text_content().strip() for cell in row.xpath("td")] for row in section.xpath(".//tbody/tr")]


def audit_rows(session, served, uln: str) -> list[dict[str, str]]:
    status, document = page(session, served, f"/learners/{uln}")
    assert status == 200
    section = document.xpath('//section[@aria-labelledby="audit-title"]')[0]
    headings = [th.text_content().strip() for th in section.xpath(".//thead//th")]
    return [dict(zip(headings, row, strict=True)) for row in table_rows(document, "audit-title")]


def view_audit(served, learner: dict) -> list[tuple[str, str]]:
    """R9 ViewAudit's first page for the learner: (Action, User) of each entry."""
    envelope = (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><ViewAudit xmlns="{TEMPURI}">'
        f'<invokingOrganisation xmlns:a="{QCF_COMMON}">'
        f'<a:Password>{ORG["password"]}</a:Password><a:Ukprn>{ORG["ukprn"]}</a:Ukprn>'
        f"<a:Username>online</a:Username></invokingOrganisation><userType>LNR</userType><vendorId>0</vendorId>"
        f"<language>ENG</language><learnerUln>{learner['ULN']}</learnerUln><learnerGivenName>{learner['GivenName']}"
        f"</learnerGivenName><learnerFamilyName>{learner['FamilyName']}</learnerFamilyName><page>1</page>"
        f"</ViewAudit></s:Body></s:Envelope>"
    )
    response = served.post("/LearnerServiceR9.svc", envelope, soap_action='"http://tempuri.org/ILearnerServiceR9/ViewAudit"')
    assert response.status_code == 200, response.text
    entries = etree.fromstring(response.content).xpath('//*[local-name()="PlrAccessEntryResponse"]')
    return [(entry.xpath('string(*[local-name()="Action"])'), entry.xpath('string(*[local-name()="User"])')) for entry in entries]


# --- the search


def test_a_search_by_uln_lists_the_learner_with_a_link(browser, served):
    status, document = page(browser, served, "/learners", uln=AMELIA["ULN"])
    assert status == 200 and not alert(document)
    rows = table_rows(document, "results-title")
    assert rows == [[AMELIA["ULN"], "Amelia", "Hughes", "2007-03-14", "2 (female)", "B15 2TT", "active"]]
    assert document.xpath(f'//tbody//a[@href="/console/learners/{AMELIA["ULN"]}"]')


def test_a_search_by_any_part_of_the_names_and_the_date_of_birth(browser, served):
    status, document = page(browser, served, "/learners", given_name=" AMEL ", family_name="hugh", date_of_birth="2007-03-14")
    assert status == 200
    assert [row[0] for row in table_rows(document, "results-title")] == [AMELIA["ULN"]]
    # the form keeps what was sent
    assert document.xpath('//input[@name="given_name"]/@value') == ["AMEL"]


def test_a_search_that_matches_nobody_says_so(browser, served):
    status, document = page(browser, served, "/learners", given_name="Amelia", family_name="Hughes", date_of_birth="2007-03-15")
    assert status == 200
    assert table_rows(document, "results-title") == []
    assert "No learner matches." in document.text_content()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"uln": "12345"}, "uln"),
        ({"uln": "91051O6906"}, "uln"),
        ({"uln": AMELIA["ULN"][:9] + "7"}, "uln"),  # the check digit is wrong
        ({"given_name": "Amelia", "family_name": "Hughes", "date_of_birth": "14/03/2007"}, "date_of_birth"),
        ({"given_name": "Amelia", "family_name": "Hughes", "date_of_birth": "2007-02-30"}, "date_of_birth"),
        ({"given_name": "Amelia", "family_name": "Hughes"}, "date_of_birth"),  # names without a date
        ({"date_of_birth": "2007-03-14"}, "given_name"),  # a date without names
        ({"given_name": "A" * 101, "family_name": "Hughes", "date_of_birth": "2007-03-14"}, "given_name"),
        ({"uln": "", "given_name": "", "family_name": "", "date_of_birth": ""}, "uln"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(browser, served, params, field):
    status, document = page(browser, served, "/learners", **params)
    assert status == 400
    assert alert(document).startswith(f"{field}: ")
    assert document.xpath(f'//input[@name="{field}"]/@aria-invalid') == ["true"]
    assert document.xpath('//form[@role="search"]')  # the same page, to correct the search


# --- a learner's page


def test_a_learners_page_shows_the_record_and_every_event_restricted_ones_marked(browser, served):
    status, document = page(browser, served, f"/learners/{AMELIA['ULN']}")
    assert status == 200
    details = dict(zip(document.xpath("//dl/dt/text()"), [dd.text_content().strip() for dd in document.xpath("//dl/dd")], strict=True))
    assert details["School at age 16"] == "King Edward VI High School"
    assert details["Email address"] == "amelia.hughes@example.org"
    assert details["Ability to share"] == "1 (may be shared)"
    assert details["Verification type"] == "1"
    assert details["Status"] == "active (1)" and details["Version"] == "1"
    events = table_rows(document, "events-title")
    assert len(events) == 11  # the ten shareable events and the restricted one
    by_subject = {row[1]: row for row in events}
    assert by_subject[RESTRICTED_SUBJECT + " restricted"][3:5] == ["Level 1", "Pass"]
    assert sum(row[1].endswith(" restricted") for row in events) == 1


def test_linked_ulns_link_both_ways(browser, served):
    status, master = page(browser, served, "/learners/2083498614")
    assert status == 200
    assert master.xpath('//dd/a[@href="/console/learners/5558175256"]')
    assert {row[1] for row in table_rows(master, "events-title")} == {"2083498614", "5558175256"}  # the ULN column
    status, retired = page(browser, served, "/learners/5558175256")
    assert status == 200
    assert retired.xpath('//p[@class="notice"]/a[@href="/console/learners/2083498614"]')
    assert "retired (2)" in retired.text_content()


@pytest.mark.parametrize("uln", [UNKNOWN_ULN, "12345", "not-a-uln"])
def test_a_uln_not_on_the_register_is_a_404_naming_it(browser, served, uln):
    status, document = page(browser, served, f"/learners/{uln}")
    assert status == 404
    assert uln in alert(document)


@pytest.mark.parametrize("bad", ["0", "x", "-1", "9" * 30])
def test_a_bad_audit_page_is_a_400_naming_page(browser, served, bad):
    status, document = page(browser, served, f"/learners/{AMELIA['ULN']}", page=bad)
    assert status == 400
    assert alert(document).startswith("page: ")


def test_the_audit_trail_lists_soap_reads_console_searches_and_views(browser, served):
    read = served.post("/LearnerServiceR9.svc", learning_events(OLIVER["ULN"], OLIVER["GivenName"], OLIVER["FamilyName"]),
                       soap_action=R9_ACTION)
    assert answer(read) == "WSRC0004"
    first = audit_rows(browser, served, OLIVER["ULN"])
    plr_reads = [row for row in first if row["Operation"] == "GetLearnerLearningEvents"]
    assert len(plr_reads) == 1
    assert (plr_reads[0]["Outcome"], plr_reads[0]["Organisation"], plr_reads[0]["User"], plr_reads[0]["Address"]) == (
        "WSRC0004", ORG["name"], "online", "127.0.0.1")
    assert not [row for row in first if row["Operation"] == "ConsoleLearnerPage"]  # written after the trail is read

    second = audit_rows(browser, served, OLIVER["ULN"])
    assert [(row["Operation"], row["Outcome"], row["User"], row["Address"]) for row in second][0] == (
        "ConsoleLearnerPage", "shown", "sandbox console", "127.0.0.1")

    status, _ = page(browser, served, "/learners", uln=OLIVER["ULN"])
    assert status == 200
    searched = eventually(  # a search is audited as a find: written a moment after the answer
        lambda: [row for row in audit_rows(browser, served, OLIVER["ULN"]) if row["Operation"] == "ConsoleLearnerSearch"] or None,
        10, interval=0.2, what="the console search's audit row")
    assert (searched[0]["User"], searched[0]["Outcome"]) == ("sandbox console", "1 listed")

    assert ("ConsoleLearnerPage", "sandbox console") in view_audit(served, OLIVER)


# --- outside sandbox mode


def sign_in_as(served, username: str) -> requests.Session:
    return Console(served.base_url).sign_in(ukprn=ORG["ukprn"], username=username, password=ORG["password"]).session


def test_outside_sandbox_a_super_user_needs_a_find_role_to_see_learners(tmp_path):
    with serving(tmp_path / "serve", "--console") as served:
        added = subprocess.run(
            command("user", "add", "--database-url", served.database_url, "--org", ORG["ukprn"], "--username", "superfinder",
                    "--roles", "super_user,online_user,learner_record"),
            capture_output=True, text=True, timeout=60,
        )
        assert added.returncode == 0, added.stderr

        only_super = sign_in_as(served, "super")
        for path in ("/learners", f"/learners/{AMELIA['ULN']}"):
            status, document = page(only_super, served, path)
            assert status == 403
            assert "online_user or view_only" in alert(document)

        finder = sign_in_as(served, "superfinder")
        status, document = page(finder, served, "/learners", uln=AMELIA["ULN"])
        assert status == 400 and alert(document).startswith("given_name: ")  # learnerByULN's rule: names too
        status, document = page(finder, served, "/learners", uln=AMELIA["ULN"], given_name="amelia", family_name="HUGHES")
        assert status == 200 and [row[0] for row in table_rows(document, "results-title")] == [AMELIA["ULN"]]
        status, document = page(finder, served, "/learners", given_name="Amelia", family_name="Hughs", date_of_birth="2007-03-14")
        # names and date of birth: the domain's matching, as learnerByDemographics (a close name is a possible match)
        assert status == 200 and [row[-1] for row in table_rows(document, "results-title")] == ["phonetic names"]

        status, document = page(finder, served, f"/learners/{AMELIA['ULN']}")
        assert status == 200
        subjects = [row[1] for row in table_rows(document, "events-title")]
        assert len(subjects) == 10 and RESTRICTED_SUBJECT not in " ".join(subjects)  # never a sensitive event

        status, document = page(finder, served, "/learners/6302822970")  # Grace: AbilityToShare 2
        assert status == 200
        assert table_rows(document, "events-title") == []
        assert "AbilityToShare is 2" in document.xpath('//section[@aria-labelledby="events-title"]')[0].text_content()
        own = audit_rows(finder, served, AMELIA["ULN"])[0]
        assert (own["Operation"], own["Organisation"], own["User"], own["Address"]) == (
            "ConsoleLearnerPage", ORG["name"], "superfinder", "127.0.0.1")
