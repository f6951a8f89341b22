"""The console's Batch jobs pages over HTTP, against `lrs-ws serve --sandbox` without a batch
worker (jobs wait until the console's button runs them): an LRB file and a submitBatchRegistration
job listed queued, run, counted; their learners paged; their output the very file `lrs-ws batch
output` writes. Outside sandbox mode (--console), super users see their own organisation's jobs
only, and a job's learners and output need the batch_user role."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.console_signin import Console, alert, html, texts
from tests.e2e.serving import ORG, run_briefly, serving, submit_batch

TOKEN = "e2e-console-jobs-token-0123456789"
ROOT = Path(__file__).resolve().parents[2]
GOOD_CSV = ROOT / "fixtures" / "lrb" / "LRB_10000001_150920250930.CSV"
CSV_CODES = ["RC005", "RC005", "RC004", "RC003", "RC007", "RC007", "RC008", "RC006", "RC009"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("console-jobs"), "--sandbox", "--sandbox-token", TOKEN, "--workers", "2",
                 "--no-worker") as server:
        yield server


@pytest.fixture
def console(served):
    return Console(served.base_url).sign_in(token=TOKEN)


def lrs(served, directory: Path, *args: str) -> str:
    finished = run_briefly([*args, "--database-url", served.database_url], directory, timeout=60)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def submit_file(served, directory: Path) -> int:
    said = lrs(served, directory, "batch", "submit", str(GOOD_CSV), "--user", "batch")
    return int(re.match(r"Queued job (\d+):", said).group(1))


def submit_web_service(served, learners: list[dict]) -> int:
    answered = served.post("/LearnerService.svc", submit_batch(learners))
    assert "WSRC0007" in answered.text, answered.text
    return int(answered.text.split("<JobID>")[1].split("<")[0])


def cli_output(served, directory: Path, job_id: int) -> tuple[str, bytes]:
    out = directory / f"cli-{job_id}"
    out.mkdir()
    lrs(served, directory, "batch", "output", str(job_id), "--out", str(out))
    (written,) = out.iterdir()
    return written.name, written.read_bytes()


def job_row(console: Console, job_id: int) -> list[str]:
    page = html(console.get("/jobs"))
    rows = page.xpath(f'//table//tr[td/a[@href="/console/jobs/{job_id}"]]')
    assert rows, f"job {job_id} is not listed"
    return [" ".join(cell.text_content().split()) for cell in rows[0].xpath("td")]


def learners_of(console: Console, job_id: int, query: str = "") -> list[list[str]]:
    page = html(console.get(f"/jobs/{job_id}{query}"))
    table = page.xpath('//section[@aria-labelledby="learners-title"]//table/tbody')
    return [[" ".join(cell.text_content().split()) for cell in row.xpath("td")] for row in table[0].xpath("tr")] if table else []


def test_an_lrb_file_is_listed_run_from_the_console_and_downloaded_as_lrs_ws_writes_it(served, console, tmp_path):
    job_id = submit_file(served, tmp_path)
    row = job_row(console, job_id)
    assert row[0] == str(job_id) and "10000001" in row[1] and row[2] == "batch" and row[3] == "FUL"
    assert row[4] == GOOD_CSV.name and row[5] == "Submitted" and "0 of 9" in row[6]
    listing = html(console.get("/jobs"))
    assert listing.xpath('//div[@id="jobs"]/@data-refresh') == ["/console/jobs"]  # live while a job waits
    progress = listing.xpath(f'//progress[@id="progress-{job_id}"]')[0]
    assert (progress.get("value"), progress.get("max")) == ("0", "9") and "0 of 9" in progress.get("aria-label")

    before = console.get(f"/jobs/{job_id}/output")
    assert before.status_code == 409 and "is submitted: 0 of 9 learners done" in alert(before)
    assert "No output file: job" in console.get(f"/jobs/{job_id}").text

    refused = console.post("/jobs/run", csrf=None)
    assert refused.status_code == 403 and job_row(console, job_id)[5] == "Submitted"  # nothing ran
    ran = console.follow(console.post("/jobs/run"))
    assert ran.url.endswith("/console/jobs?ran=1") and "Ran 1 queued job." in ran.text
    row = job_row(console, job_id)
    assert row[5] == "Completed" and "9 of 9" in row[6] and row[8] and row[9]  # started, finished
    assert not html(console.get("/jobs")).xpath('//div[@id="jobs"]/@data-refresh')  # nothing left to watch

    page = html(console.get(f"/jobs/{job_id}"))
    counts = dict(zip(texts(page, '//table[@class="counts"]//td[2]'), texts(page, '//table[@class="counts"]//td[3]'), strict=True))
    assert counts == {"NewLearnersCount": "1", "ExistsUpdatedLearnersCount": "3", "PossibleMatchLearnersCount": "2",
                      "LearnersNotFoundCount": "1", "RejectedLearnersCount": "2"}
    learners = learners_of(console, job_id)
    assert [row[6] for row in learners] == CSV_CODES and learners[0][1] == "STU-0001"
    assert learners[2][5] == "5558175256" and learners[2][7] == "2083498614"  # a retired ULN: its master returned
    link = page.xpath('//a[text()="Download the output as an LRB file"]')[0]
    assert link.get("href") == f"/console/jobs/{job_id}/output"

    downloaded = console.get(f"/jobs/{job_id}/output")
    assert downloaded.status_code == 200 and downloaded.headers["Content-Type"].startswith("text/csv")
    assert downloaded.headers["Content-Disposition"] == 'attachment; filename="LRB_10000001_150920250930_OUTPUT.CSV"'
    assert cli_output(served, tmp_path, job_id) == ("LRB_10000001_150920250930_OUTPUT.CSV", downloaded.content)


def test_a_web_service_job_pages_its_learners_and_gives_an_lrb_output(served, console, tmp_path):
    learners = [{"MISIdentifier": f"WS-{n:03}", "GivenName": "Pagina", "FamilyName": f"Learner{chr(65 + n % 26)}{chr(65 + n // 26)}",
                 "DateOfBirth": "2004-05-06", "Gender": "2", "LastKnownPostCode": "LS1 4AP"} for n in range(150)]
    job_id = submit_web_service(served, learners)
    row = job_row(console, job_id)
    assert row[4] == "web service" and row[5] == "Submitted" and "0 of 150" in row[6]
    console.follow(console.post("/jobs/run"))
    assert job_row(console, job_id)[5] == "Completed"

    first, second = learners_of(console, job_id), learners_of(console, job_id, "?page=2")
    assert [row[0] for row in first] == [str(n) for n in range(1, 101)]
    assert [row[0] for row in second] == [str(n) for n in range(101, 151)] and second[0][1] == "WS-100"
    assert all(row[6].startswith("RC") for row in first + second)
    assert "Page 2 of 2" in console.get(f"/jobs/{job_id}?page=2").text

    downloaded = console.get(f"/jobs/{job_id}/output")
    name = re.fullmatch(r'attachment; filename="(LRB_10000001_\d{12}_OUTPUT\.CSV)"', downloaded.headers["Content-Disposition"])
    assert downloaded.status_code == 200 and name
    assert cli_output(served, tmp_path, job_id) == (name.group(1), downloaded.content)
    assert downloaded.content.count(b"\n") == 151  # the headings and 150 learners


@pytest.mark.parametrize(
    "path, status, says",
    [
        ("/jobs/abc", 404, "No batch job 'abc'"),
        ("/jobs/-1", 404, "No batch job"),
        ("/jobs/99999999", 404, "No batch job 99999999"),
        ("/jobs/99999999/output", 404, "No batch job 99999999"),
        ("/jobs/1%2F2", 404, ""),
        ("/jobs?ran=lots", 400, "ran:"),
    ],
)
def test_bad_addresses_are_404_or_400_never_500(console, path, status, says):
    response = console.get(path)
    assert response.status_code == status and says in alert(response)


@pytest.mark.parametrize("page", ["abc", "0", "3", "-1", "1.5", "99999999999999999999999"])
def test_a_bad_page_of_learners_is_400_naming_the_field(served, console, page):
    job_id = submit_web_service(served, [{"GivenName": "Paging", "FamilyName": "Edge", "DateOfBirth": "2004-05-06", "Gender": "1",
                                          "LastKnownPostCode": "M1 1AE"}])
    response = console.get(f"/jobs/{job_id}", params={"page": page})
    assert response.status_code == 400 and alert(response).startswith("page:"), response.text


def test_a_verification_job_says_why_it_has_no_lrb_output(served, console):
    from lrs_ws.contract.namespaces import SOAP_ENV, VLDMSG

    envelope = (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><v:SubmitVerifyBatch xmlns:v="{VLDMSG}"><UKPRN>{ORG["ukprn"]}</UKPRN>'
        f'<OrgPassword>{ORG["password"]}</OrgPassword><UserName>online</UserName><LearnerRecordCount>1</LearnerRecordCount>'
        "<Learner><MISIdentifier>V1</MISIdentifier><ULN>9105106906</ULN><FamilyName>Hughes</FamilyName><GivenName>Amelia</GivenName>"
        "</Learner></v:SubmitVerifyBatch></s:Body></s:Envelope>"
    )
    answered = served.post("/LearnerService.svc", envelope)
    assert "<JobID>" in answered.text, answered.text
    job_id = int(answered.text.split("<JobID>")[1].split("<")[0])
    console.follow(console.post("/jobs/run"))
    page = console.get(f"/jobs/{job_id}")
    assert "is a verification job" in page.text and "WSVRC001" in [row[6] for row in learners_of(console, job_id)]
    assert console.get(f"/jobs/{job_id}/output").status_code == 409


def test_outside_sandbox_a_super_user_sees_their_own_organisations_jobs_only(tmp_path):
    from tests.e2e.serving import fresh_database

    with fresh_database(tmp_path) as url:
        def cli(*args: str) -> None:
            finished = run_briefly([*args, "--database-url", url], tmp_path / "cli", timeout=60)
            assert finished.returncode == 0, finished.stderr

        cli("db", "upgrade")
        cli("seed", "demo")
        cli("org", "add", "--name", "Elsewhere College", "--ukprn", "10000777", "--ref", "ELSE77", "--password", "ElsewherePass007")
        cli("user", "add", "--org", "10000777", "--username", "boss", "--roles", "super_user")
        cli("user", "add", "--org", "10000001", "--username", "chief", "--roles", "super_user,batch_user")
        with serving(tmp_path / "serve", "--console", "--workers", "1", "--no-worker", database_url=url) as plain:
            job_id = submit_web_service(plain, [{"GivenName": "Privata", "FamilyName": "Jobson", "DateOfBirth": "2004-05-06",
                                                 "Gender": "2", "LastKnownPostCode": "LS1 4AP"}])
            other = Console(plain.base_url).sign_in(ukprn="10000777", username="boss", password="ElsewherePass007")
            assert f"/console/jobs/{job_id}" not in other.get("/jobs").text
            for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/output"):
                assert other.get(path).status_code == 404
            assert other.post("/jobs/run").status_code == 405  # sandbox mode's button only: no such form here

            own = Console(plain.base_url).sign_in(ukprn=ORG["ukprn"], username="super", password=ORG["password"])
            assert job_row(own, job_id)[5] == "Submitted"
            page = own.get(f"/jobs/{job_id}")
            assert "needs the batch_user role" in " ".join(html(page).text_content().split()) and not learners_of(own, job_id)
            assert own.get(f"/jobs/{job_id}/output").status_code == 403
            assert "Run queued jobs now" not in own.get("/jobs").text

            cli("worker", "--until-idle")
            chief = Console(plain.base_url).sign_in(ukprn=ORG["ukprn"], username="chief", password=ORG["password"])
            assert [row[2] for row in learners_of(chief, job_id)] == ["Privata"]
            assert chief.get(f"/jobs/{job_id}/output").status_code == 200
