"""The pytest plugin (lrs_ws.testing), as an MIS project uses it: a test file with no conftest of
its own, run by pytest in a subprocess (pytester), starting its own sandbox server."""
from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

MIS_TESTS = '''
import time

import pytest
import zeep

NEW = {"GivenName": "Tamsin", "FamilyName": "Verity", "DateOfBirth": "2006-02-03", "Gender": "2",
       "LastKnownPostCode": "LS1 4AP"}


def test_find_by_uln(lrs, lrs_client):
    answer = lrs_client.learnerByULN(FindType="FUL", **lrs.credentials, ULN="9105106906", FamilyName="Hughes", GivenName="Amelia")
    assert answer.ResponseCode == "WSRC0004"
    lrs.assert_called("learnerByULN", times=1, outcome="WSRC0004")


def test_register_then_find(lrs, lrs_client):
    found = lrs_client.learnerByDemographics(FindType="FUL", **lrs.credentials, **NEW)
    assert found.ResponseCode == "WSRC0001"
    registered = lrs_client.registerSingleLearner(**lrs.credentials, Learner={**NEW, "AbilityToShare": "1"})
    assert registered.ResponseCode == "WSRC0005"
    again = lrs_client.learnerByDemographics(FindType="FUL", **lrs.credentials, **NEW)
    assert again.ResponseCode == "WSRC0004" and again.Learner[0].ULN == registered.ULN


def test_each_test_starts_from_the_baseline(lrs, lrs_client):
    assert lrs.requests() == []  # the journal is emptied too
    # the learner the test before registered is gone
    assert lrs_client.learnerByDemographics(FindType="FUL", **lrs.credentials, **NEW).ResponseCode == "WSRC0001"


def test_a_batch_with_run_jobs(lrs, lrs_client):
    batch = {**lrs.credentials, "UserName": "batch"}
    submitted = lrs_client.submitBatchRegistration(**batch, JobType="FUL", LearnerRecordCount=1, Learner=[NEW])
    lrs.run_jobs()
    output = lrs_client.getBatchRegistrationOutput(**batch, JobID=submitted.JobID)
    assert output.ResponseCode == "WSRC0009" and output.Learner[0].ReturnCode == "RC003"


def test_a_retry_on_a_fault(lrs, lrs_client):
    with lrs.fault("learnerByULN", "fault", code="WSEC0999", times=1):
        with pytest.raises(zeep.exceptions.Fault):
            lrs_client.learnerByULN(FindType="FUL", **lrs.credentials, ULN="9105106906", FamilyName="Hughes", GivenName="Amelia")
        again = lrs_client.learnerByULN(FindType="FUL", **lrs.credentials, ULN="9105106906", FamilyName="Hughes", GivenName="Amelia")
    assert again.ResponseCode == "WSRC0004"
    lrs.assert_called("learnerByULN", times=2)


def test_an_age_rule_under_the_clock(lrs, lrs_client):
    young = {**NEW, "DateOfBirth": "2014-09-01"}
    assert lrs_client.learnerByDemographics(FindType="FUL", **lrs.credentials, **young).ResponseCode == "WSRC0001"
    with pytest.raises(zeep.exceptions.Fault):
        lrs_client.registerSingleLearner(**lrs.credentials, Learner={**young, "AbilityToShare": "1"})
    with lrs.clock("2028-01-15T10:00:00"):
        lrs_client.learnerByDemographics(FindType="FUL", **lrs.credentials, **young)
        assert lrs_client.registerSingleLearner(**lrs.credentials, Learner={**young, "AbilityToShare": "1"}).ResponseCode == "WSRC0005"


def test_planted_learners_and_the_plr(lrs, lrs_r9_client):
    (uln,) = lrs.plant([{**NEW, "AbilityToShare": "1", "events": [{"Subject": "Chemistry", "Grade": "B"}]}])
    answer = lrs_r9_client.GetLearnerLearningEvents(
        invokingOrganisation={"Ukprn": lrs.credentials["UKPRN"], "Password": lrs.credentials["OrgPassword"], "Username": "online"},
        userType="LNR", vendorID=0, language="ENG", uln=uln, givenName="Tamsin", familyName="Verity", getType="FULL")
    assert answer.ResponseCode == "WSRC0004"


def test_an_organisation_of_its_own(lrs, lrs_client):
    mine = lrs.new_organisation()
    assert lrs_client.learnerByULN(FindType="FUL", **mine.credentials(), ULN="9105106906", FamilyName="Hughes",
                                   GivenName="Amelia").ResponseCode == "WSRC0004"
    lrs.assert_called("learnerByULN", ukprn=mine.ukprn)


def test_scenarios(lrs):
    assert any(s["expect"] == "WSRC0002" for s in lrs.scenarios)


def test_nested_clocks_give_back_the_outer_time(lrs):
    with lrs.clock("2028-01-15T10:00:00"):
        with lrs.clock("2030-06-01T09:00:00", frozen=False):
            assert lrs.api.call("GET", "/clock")["now"].startswith("2030-06-01T09:0")
        assert lrs.api.call("GET", "/clock")["now"].startswith("2028-01-15T10:00:00")
    assert lrs.api.call("GET", "/clock")["set"] is False


def test_a_misspelt_filter_is_a_mistake(lrs):
    with pytest.raises(TypeError):
        lrs.assert_called("learnerByULN", outcom="WSRC0001")
    with pytest.raises(TypeError):
        lrs.requests(operaton="learnerByULN")


def test_assert_called_says_what_was_called(lrs, lrs_client):
    lrs_client.learnerByULN(FindType="FUL", **lrs.credentials, ULN="9105106906", FamilyName="Hughes", GivenName="Zara")
    lrs.assert_called("registerSingleLearner")
'''


@pytest.fixture
def mis_project(pytester):
    pytester.makepyfile(test_mis=MIS_TESTS)
    return pytester


def test_an_mis_project_uses_the_fixtures(mis_project, monkeypatch):
    # Settings of the shell's: the server the plugin starts takes none of them.
    monkeypatch.setenv("LRS_WS_NO_DEMO", "1")
    monkeypatch.setenv("LRS_WS_PUBLIC_URL", "http://lrs.example.internal:8000")
    result = mis_project.runpytest_subprocess("-q", "-p", "no:cacheprovider", timeout=600)
    result.assert_outcomes(passed=11, failed=1)
    # the failing assert_called lists the requests that were made, with outcome and problem
    result.stdout.fnmatch_lines([
        "*expected registerSingleLearner at least once, found 0; the requests made:*",
        "*learnerByULN -> WSRC0001*",
    ])
    assert "lrs-ws serve" not in result.stderr.str()


def test_a_url_without_a_token_is_a_usage_error(mis_project, monkeypatch):
    monkeypatch.delenv("LRS_WS_SANDBOX_TOKEN", raising=False)
    result = mis_project.runpytest_subprocess("-q", "-p", "no:cacheprovider", "--lrs-url", "http://127.0.0.1:9", timeout=120)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--lrs-url needs --lrs-token*"])


def test_no_server_is_left_behind(mis_project):
    import subprocess

    mis_project.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-k", "scenarios", timeout=600)
    left = subprocess.run(["pgrep", "-f", str(mis_project.path)], capture_output=True, text=True).stdout.split()
    assert left == [], "a server of the run is still there"


def test_loading_the_plugin_imports_nothing_heavy():
    """Every pytest run of a project with lrs-ws installed loads the plugin: it must cost nothing."""
    import subprocess
    import sys

    code = (
        "import sys, lrs_ws.testing.plugin\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'spyne', 'zeep', 'lxml', 'xmlschema', "
        "'gunicorn', 'hypercorn', 'click', 'alembic', 'requests'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
