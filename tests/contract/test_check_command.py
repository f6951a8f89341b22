"""`lrs-ws check` on the messages of every operation, as zeep sends them and the service answers
them (captured in-process), and on the same messages broken: exit codes, lines, JSON, JUnit."""
from __future__ import annotations

import contextlib
import json
import os
import re
from pathlib import Path

import pytest
import zeep
from click.testing import CliRunner
from lxml import etree
from zeep.plugins import HistoryPlugin

from lrs_ws.cli import main
from lrs_ws.contract.wsdl import operation_messages
from lrs_ws.sandbox.masking import masked as masked_as_kept
from tests.conftest import BINDING, BINDING_R9, LEARNER_SERVICE, LEARNER_SERVICE_R9
from tests.contract.conftest import credentials, invoking_organisation

BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"
PLAIN = {"Ukprn": "10000001", "Password": "DemoPassword0001", "Username": "online"}  # InvokingOrganisation
NEW = {"GivenName": "Checka", "FamilyName": "Messenger", "DateOfBirth": "2006-02-03", "Gender": "2", "LastKnownPostCode": "LS1 4AP"}


@pytest.fixture
def captured(http, tmp_path) -> Path:
    """One request and its answer of every operation of both services, as files."""
    history = HistoryPlugin(maxlen=100)
    learner = zeep.Client(f"{LEARNER_SERVICE}?singlewsdl", transport=zeep.Transport(session=http), plugins=[history])
    lrs = learner.create_service(BINDING, LEARNER_SERVICE)
    r9 = zeep.Client(f"{LEARNER_SERVICE_R9}?singlewsdl", transport=zeep.Transport(session=http), plugins=[history])
    plr = r9.create_service(BINDING_R9, LEARNER_SERVICE_R9)
    folder = tmp_path / "messages"
    folder.mkdir()
    calls = [
        lambda: lrs.learnerByULN(FindType="FUL", **credentials(), ULN="9105106906", FamilyName="Hughes", GivenName="Amelia"),
        lambda: lrs.learnerByDemographics(FindType="FUL", **credentials(), **NEW),
        lambda: lrs.registerSingleLearner(**credentials(), Learner={**NEW, "AbilityToShare": "1"}),
        lambda: lrs.updateSingleLearner(**credentials(), Learner={
            "ULN": "9105106906", "VersionNumber": 1, "GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": "2007-03-14",
            "Gender": "2", "LastKnownPostCode": "B15 2TT", "AbilityToShare": "1", "EmailAddress": "amelia@example.org"}),
        lambda: lrs.submitBatchRegistration(**credentials("batch"), JobType="FUL", LearnerRecordCount=1, Learner=[NEW]),
        lambda: lrs.getBatchRegistrationOutput(**credentials("batch"), JobID=1),
        lambda: lrs.retrieveULNs(**credentials(), ULNsToRetrieve={"ULN": ["9105106906"]}),
        lambda: lrs.verifyLearner(**credentials(), LearnerToVerify={"ULN": "9105106906", "FamilyName": "Hughes", "GivenName": "Amelia"}),
        lambda: lrs.submitVerifyBatch(**credentials(), OrgEmail="mis@example.org", LearnerRecordCount=1,
                                      Learner=[{"ULN": "9105106906", "FamilyName": "Hughes", "GivenName": "Amelia"}]),
        lambda: lrs.getVerifyBatchOutput(**credentials(), JobID=2),
        lambda: plr.LearnerByUln(invokingOrganisation=PLAIN, userType="LNR", vendorId=0, language="ENG",
                                 uln="9105106906", givenName="Amelia", familyName="Hughes", findType="FUL"),
        lambda: plr.GetLearnerLearningEvents(invokingOrganisation=invoking_organisation(), userType="LNR", vendorID=0,
                                             language="ENG", uln="9105106906", givenName="Amelia", familyName="Hughes",
                                             getType="FULL"),
        lambda: plr.GetOrganisation(invokingOrganisation=PLAIN, userType="LNR", vendorId=0, language="ENG",
                                    ukPrn="10000001"),
        lambda: plr.ViewAudit(invokingOrganisation=PLAIN, userType="LNR", vendorId=0, language="ENG",
                              learnerUln="9105106906", learnerGivenName="Amelia", learnerFamilyName="Hughes", page=0),
        lambda: plr.UpdateLearnerSubsetFields(invokingOrganisation=PLAIN, userType="LNR", vendorId=0,
                                              language="ENG", uln="9105106906", versionNumber=1, abilityToShare="FPNSeenShareData",
                                              emailAddress="a.h@example.org"),
    ]
    for number, call in enumerate(calls):
        with contextlib.suppress(zeep.exceptions.Fault):  # a fault is an answer too
            call()
        (folder / f"{number:02d}-request.xml").write_bytes(etree.tostring(history.last_sent["envelope"], pretty_print=True))
        (folder / f"{number:02d}-answer.xml").write_bytes(etree.tostring(history.last_received["envelope"], pretty_print=True))
    return folder


def check(*args: str):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def test_every_operations_messages_pass(captured, tmp_path):
    names = {re.sub(r"^\{.*\}", "", etree.parse(str(path)).getroot().find(BODY)[0].tag) for path in captured.glob("*-request.xml")}
    assert names >= {re.sub(r"^\{.*\}", "", request) for request in operation_messages()}, names  # every operation
    result = check(str(captured), "--junit", str(tmp_path / "report.xml"))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("Checked 30 files: all passed.")
    report = etree.parse(str(tmp_path / "report.xml")).getroot()
    assert report.get("tests") == "30" and report.get("failures") == "0" and len(report.findall(".//testcase")) == 30


def test_every_operations_messages_broken_fail_with_their_lines(captured, tmp_path):
    for path in captured.glob("*.xml"):  # an element no message allows, on its own line, first in the message
        document = etree.parse(str(path))
        message = document.getroot().find(BODY)[0]
        if message.tag.endswith("Fault"):
            message = message.find("detail")[0]
        message.insert(0, etree.Element("Intruder"))
        path.write_bytes(etree.tostring(document, pretty_print=True))
    result = check(str(captured), "--junit", str(tmp_path / "report.xml"), "--format", "text")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("Checked 30 files: 0 passed, 30 failed")
    for path in captured.glob("*.xml"):
        line = next(number for number, text in enumerate(path.read_text().splitlines(), 1) if "<Intruder/>" in text)
        assert any(entry.startswith(f"{path}:{line}: ") and "Intruder" in entry for entry in lines), (path, lines)
    report = etree.parse(str(tmp_path / "report.xml")).getroot()
    assert report.get("failures") == "30"
    assert all(case.find("failure") is not None for case in report.iter("testcase"))


def _register(**learner: str) -> bytes:
    fields = "".join(f"<{name}>{value}</{name}>" for name, value in learner.items())
    return (
        '<r:RegisterLearner xmlns:r="http://api.lrs.miap.gov.uk/regmsg">\n'
        "<UKPRN>10000001</UKPRN><OrgPassword>DemoPassword0001</OrgPassword><UserName>online</UserName>\n"
        f"<Learner>\n{fields}\n</Learner>\n</r:RegisterLearner>"
    ).encode()


@pytest.mark.parametrize(
    "document, field, reason",
    [
        (_register(GivenName="Test", FamilyName="Quill", LastKnownPostCode="LS1 4AP", DateOfBirth="2005-02-28", Gender="2",
                   AbilityToShare="1"), "Learner/GivenName", "prohibited text 'Test'"),
        (_register(GivenName="Ann", FamilyName="Quill", LastKnownPostCode="LS1 4AP", DateOfBirth="2020-02-28", Gender="2",
                   AbilityToShare="1"), "Learner/DateOfBirth", "13 to 110 years old"),
        (_register(GivenName="Ann", FamilyName="Quill", LastKnownPostCode="LS1 4AP", DateOfBirth="2005-02-28", Gender="2",
                   VerificationType="999", AbilityToShare="1"),
         "Learner/OtherVerificationDescription", "required when VerificationType is 999"),
        (b'<b:SubmitBatch xmlns:b="http://api.lrs.miap.gov.uk/batchmsg"><UKPRN>10000001</UKPRN><OrgPassword>DemoPassword0001'
         b"</OrgPassword><UserName>batch</UserName><JobType>FUL</JobType><LearnerRecordCount>3</LearnerRecordCount>"
         b"<Learner><GivenName>A</GivenName><FamilyName>B</FamilyName></Learner></b:SubmitBatch>",
         "LearnerRecordCount", "is 3 but 1 learners are sent"),
        (b"<x/>", "x", "not a message of either service"),
        (b"<broken", "document", "not well-formed XML"),
    ],
)
def test_the_servers_rules_beyond_the_schema(tmp_path, document, field, reason):
    path = tmp_path / "message.xml"
    path.write_bytes(document)
    result = check(str(path), "--today", "2026-12-06", "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    (problem,) = report["files"][0]["problems"]
    assert problem["field"] == field and reason in problem["reason"], problem
    assert problem["line"] >= 1 and report["passed"] is False


def test_lrb_files_are_checked_as_batch_validate_does():
    root = Path(__file__).resolve().parents[2] / "fixtures" / "lrb"
    good = check(str(root / "LRB_10000001_150920250930.CSV"), str(root / "LRB_10000001_150920250930.XML"))
    assert good.exit_code == 0, good.output
    bad = check(str(root / "invalid"))
    assert bad.exit_code == 1 and "LRB_10000001_160920251015.CSV:3: LastKnownPostCode: 'B15 2T' is not a UK postcode" in bad.output


def test_usage_errors_are_status_2(tmp_path):
    assert check(str(tmp_path / "missing.xml")).exit_code == 2
    (tmp_path / "notes.txt").write_text("nothing to check")
    assert check(str(tmp_path)).exit_code == 2


def test_requests_from_the_sandbox_journal_pass_with_their_passwords_masked(captured):
    """The journal masks passwords (***): such a copy is checked as if they were well formed."""
    masked = 0
    for path in captured.glob("*-request.xml"):
        text = path.read_text()
        changed = masked_as_kept(text.encode())  # as the journal keeps a request
        masked += changed != text and "DemoPassword0001" not in changed
        path.write_text(changed)
    assert masked == 15
    assert check(str(captured)).exit_code == 0
    (captured / "00-request.xml").write_text((captured / "00-request.xml").read_text().replace("FUL", "XXX"))
    assert "FindType" in check(str(captured)).output


def test_an_lrb_xml_files_problems_carry_their_lines(tmp_path):
    good = (Path(__file__).resolve().parents[2] / "fixtures" / "lrb" / "LRB_10000001_150920250930.XML").read_text()
    first_birth = next(n for n, text in enumerate(good.splitlines(), 1) if "<DateOfBirth>" in text)
    broken = tmp_path / "LRB_10000001_150920250931.XML"
    broken.write_text(re.sub(r"<DateOfBirth>[^<]*", "<DateOfBirth>2007-02-30", good, count=1))
    unreadable = tmp_path / "LRB_10000001_150920250932.XML"
    unreadable.write_text(good.replace("</DateOfBirth>", "</DateOfBirt>", 1))
    result = check(str(broken), str(unreadable))
    assert result.exit_code == 1
    assert f"{broken}:{first_birth}: learner 1/DateOfBirth: " in result.output, result.output
    assert f"{unreadable}:{first_birth}: file: not well-formed XML" in result.output, result.output


@pytest.mark.parametrize(
    "document, found",
    [
        (b'<b:SubmitBatch xmlns:b="http://api.lrs.miap.gov.uk/batchmsg"><UKPRN>10000001</UKPRN><OrgPassword>DemoPassword0001'
         b"</OrgPassword><UserName>batch</UserName><JobType>FUL</JobType><LearnerRecordCount>+3</LearnerRecordCount>"
         b"<Learner><GivenName>A</GivenName><FamilyName>B</FamilyName></Learner></b:SubmitBatch>",
         ":1: LearnerRecordCount: is 3 but 1 learners are sent"),  # xs:int reads +3 as 3, as the server does
        (b"<zz/>", ":1: zz: zz (no namespace) is not a message of either service"),
        (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode>'
         b"<faultstring>x</faultstring><detail>words only</detail></s:Fault></s:Body></s:Envelope>",
         ": Fault: a fault whose detail holds no element"),
    ],
)
def test_what_is_said_of_odd_messages(tmp_path, document, found):
    path = tmp_path / "odd.xml"
    path.write_bytes(document)
    result = check(str(path))
    assert result.exit_code == 1 and found in result.output, result.output


def test_an_r9_request_names_its_fields_plainly(captured):
    request = captured / "11-request.xml"  # GetLearnerLearningEvents
    text = request.read_text()
    assert "GetLearnerLearningEvents" in text
    request.write_text(re.sub(r"(<(\w+:)?uln[ >])", r"<ns9:dateOfBirth xmlns:ns9='http://tempuri.org/'>2007-02-30</ns9:dateOfBirth>\1",
                              text, count=1))
    result = check(str(request))
    assert ": dateOfBirth: " in result.output and "{http" not in result.output, result.output


def test_the_junit_report_carries_any_file_name_and_a_report_that_cannot_be_written_is_status_2(tmp_path, captured):
    folder = tmp_path / "odd names"
    folder.mkdir()
    message = (captured / "00-request.xml").read_bytes()
    for name in (b"a\x01b.xml", b"caf\xe9.xml"):
        (folder / os.fsdecode(name)).write_bytes(message)
    report = tmp_path / "report.xml"
    result = check(str(folder), "--junit", str(report))
    assert result.exit_code == 0, result.output
    names = [case.get("name") for case in etree.parse(str(report)).getroot().iter("testcase")]
    assert sorted(names) == sorted([f"{folder}/a\ufffdb.xml", f"{folder}/caf\ufffd.xml"])
    unwritable = check(str(folder), "--junit", str(tmp_path / "no such folder" / "report.xml"))
    assert unwritable.exit_code == 2 and "cannot write the report" in unwritable.output
