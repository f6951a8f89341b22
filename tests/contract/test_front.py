"""The front as composed (lrs_ws.bootstrap.web_app), in-process: each mount's form for the paths
it does not serve and for the front's refusals, the body read once, and the hooks around every
SOAP call (lrs_ws.web.hooks)."""
from __future__ import annotations

import json
import sys

import pytest
import requests
import zeep

from lrs_ws.bootstrap import web_app
from lrs_ws.domain.codes import ErrorCode
from lrs_ws.web.answers import DropConnection
from lrs_ws.web.asgi import DROP_MESSAGE, BufferedWsgi
from lrs_ws.web.hooks import DROP, CallerAsSent, EarlyAnswer, SoapHooks
from tests.conftest import BINDING_R9, DEMO, LEARNER_SERVICE_R9, PUBLIC_URL
from tests.contract.test_get_organisation import invoking
from tests.e2e.serving import fault_detail, find_by_uln, learning_events
from tests.front_client import exchange

ORG = DEMO["organisation"]
PASSWORD = ORG["password"]
FIND = find_by_uln().encode()
EVENTS = learning_events().encode()
AS_SENT = CallerAsSent(ukprn=ORG["ukprn"], organisation_ref=None, username="online")


def post(session: requests.Session, path: str, body: bytes) -> requests.Response:
    return session.post(f"{PUBLIC_URL}{path}", data=body, headers={"Content-Type": "text/xml; charset=utf-8"})


# --- each mount in its own form -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path, kind",
    [("/LearnerService.svc/mex", "MIAPAPIException"), ("/LearnerServiceR9.svc/mex", "DomainFault"), ("/nothing.svc", "MIAPAPIException")],
)
def test_paths_a_mount_does_not_serve_are_404_faults_of_its_kind(http, path, kind):
    response = post(http, path, FIND)
    assert response.status_code == 404
    assert fault_detail(response.content)[:2] == (kind, "WSEC0002")


@pytest.mark.parametrize(
    "path, status, kind, code",
    [
        ("/LearnerService.svc", 413, "MIAPAPIException", "WSEC0001"),
        ("/LearnerServiceR9.svc/", 408, "DomainFault", "WSEC0001"),
        ("/learnerservicer9.svc", 503, "DomainFault", "WSEC0999"),
        ("/", 500, "MIAPAPIException", "WSEC0999"),
        ("/nowhere", 413, "MIAPAPIException", "WSEC0001"),
    ],
)
def test_the_front_refusals_are_faults_of_the_service_at_their_path(wsgi_app, path, status, kind, code):
    status_line, headers, body = wsgi_app.refusal(path, status, "what went wrong")
    assert status_line.startswith(f"{status} ")
    got_kind, got_code, text = fault_detail(body)
    assert (got_kind, got_code) == (kind, code) and "what went wrong" in text
    assert (("Retry-After", "1") in headers) == (status == 503)


def test_the_health_check_keeps_its_json_in_refusals(wsgi_app):
    status_line, headers, body = wsgi_app.refusal("/health", 503, "The service is busy; try again later.")
    assert status_line == "503 Service Unavailable"
    assert json.loads(body) == {"status": "unavailable", "reason": "The service is busy; try again later."}
    assert ("Content-Type", "application/json") in headers and ("Retry-After", "1") in headers


# --- the body, read once ------------------------------------------------------------------------


class ReadOnce:
    """A wsgi.input that fails on a second read."""

    def __init__(self, body: bytes) -> None:
        self.body, self.reads = body, 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        assert self.reads == 1, "the body was read twice"
        return self.body


def call_wsgi(app, path: str, stream) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "", "CONTENT_TYPE": "text/xml",
        "CONTENT_LENGTH": str(len(stream.body)), "wsgi.input": stream, "wsgi.errors": sys.stderr, "REMOTE_ADDR": "192.0.2.7",
        "SERVER_NAME": "lrs.test", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
    }
    started = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: started.append(status)))
    return started[0], body


@pytest.mark.parametrize("observed", [False, True], ids=["no hooks", "hooks"])
@pytest.mark.parametrize(
    "path, body, status",
    [
        ("/LearnerService.svc", FIND, "200 OK"),
        ("/LearnerServiceR9.svc", EVENTS, "200 OK"),
        ("/LearnerService.svc", b"<x/>", "500 Internal Server Error"),
    ],
)
def test_the_body_is_read_once_and_handed_over_without_a_copy(runtime, path, body, status, observed):
    hooks = SoapHooks()
    seen = []
    if observed:
        hooks.after(lambda call, outcome: seen.append(call.raw_request))
    stream = ReadOnce(body)
    assert call_wsgi(web_app(runtime, hooks), path, stream)[0] == status
    assert stream.reads == 1
    assert all(raw is body for raw in seen)


def test_without_hooks_no_call_is_made_for_them(http, monkeypatch):
    """The cost of the hooks when there are none: a truth test (the bench measures the rest)."""
    import lrs_ws.web.soap_endpoint

    def no_call(**fields):
        raise AssertionError("a SoapCall was made without hooks")

    monkeypatch.setattr(lrs_ws.web.soap_endpoint, "SoapCall", no_call)
    assert post(http, "/LearnerService.svc", FIND).status_code == 200


# --- hooks ----------------------------------------------------------------------------------------


@pytest.fixture
def hooks() -> SoapHooks:
    return SoapHooks()


@pytest.fixture
def hooked(runtime, hooks) -> requests.Session:
    """A session talking to the front as composed, with `hooks`."""
    from wsgiadapter import WSGIAdapter

    session = requests.Session()
    session.mount(PUBLIC_URL, WSGIAdapter(web_app(runtime, hooks)))
    return session


@pytest.fixture
def seen(hooks) -> list:
    """(call, outcome) of every call, as the after-hooks see them; the before-hooks see the same calls."""
    before, after = [], []
    hooks.before(lambda call: before.append(call))
    hooks.after(lambda call, outcome: after.append((call, outcome)))
    yield after
    assert [call for call, _ in after] == before


WRONG_PASSWORD = "WrongPassword001"
INVALID_FIND = FIND.replace(b"<FindType>FUL</FindType>", b"")
UNKNOWN_FIND = FIND.replace(b"FindLearnerByULN", b"FindLearnerByShoeSize")
WRONG_FIND = FIND.replace(PASSWORD.encode(), WRONG_PASSWORD.encode())
WRONG_EVENTS = EVENTS.replace(PASSWORD.encode(), WRONG_PASSWORD.encode())
INVALID_EVENTS = EVENTS.replace(b"<getType>FULL", b"<getType>ALL")
EVENTS_OP = "GetLearnerLearningEvents"


@pytest.mark.parametrize(
    "path, body, status, operation, caller, code, fault, answered_by",
    [
        ("/LearnerService.svc", FIND, 200, "learnerByULN", AS_SENT, "WSRC0004", False, "service"),
        ("/LearnerService.svc", WRONG_FIND, 500, "learnerByULN", AS_SENT, "WSEC0005", True, "service"),
        ("/LearnerService.svc", INVALID_FIND, 500, "learnerByULN", AS_SENT, "WSEC0001", True, "screening"),
        ("/LearnerService.svc", UNKNOWN_FIND, 500, None, AS_SENT, "WSEC0002", True, "screening"),
        ("/LearnerService.svc", b"not xml", 500, None, None, "WSEC0001", True, "screening"),
        ("/LearnerServiceR9.svc", EVENTS, 200, EVENTS_OP, AS_SENT, "WSRC0004", False, "service"),
        ("/LearnerServiceR9.svc", WRONG_EVENTS, 500, EVENTS_OP, AS_SENT, "WSEC0005", True, "service"),
        ("/LearnerServiceR9.svc", INVALID_EVENTS, 500, EVENTS_OP, AS_SENT, "WSEC0001", True, "screening"),
        ("/LearnerServiceR9.svc", FIND, 500, None, CallerAsSent(None, None, None), "WSEC0002", True, "screening"),
    ],
    ids=["success", "fault", "refusal", "unknown", "not xml", "r9 success", "r9 fault", "r9 refusal", "r9 unknown"],
)
def test_the_hooks_see_every_call_and_its_outcome(hooked, seen, path, body, status, operation, caller, code, fault, answered_by):
    response = post(hooked, path, body)
    assert response.status_code == status
    ((call, outcome),) = seen
    assert (call.endpoint, call.operation, call.caller, call.raw_request) == (path, operation, caller, body)
    assert (outcome.status, outcome.code, outcome.fault, outcome.answered_by) == (status, code, fault, answered_by)
    assert outcome.raw_response == response.content
    assert 0 < outcome.duration < 30
    assert PASSWORD not in repr(call) + repr(outcome) + repr(call.caller)


def test_the_r9_caller_is_read_from_invoking_organisation_whichever_its_shape(runtime, hooks, seen):
    from wsgiadapter import WSGIAdapter

    session = requests.Session()
    session.mount(PUBLIC_URL, WSGIAdapter(web_app(runtime, hooks)))
    client = zeep.Client(f"{LEARNER_SERVICE_R9}?singlewsdl", transport=zeep.Transport(session=session))
    r9 = client.create_service(BINDING_R9, LEARNER_SERVICE_R9)
    result = r9.LearnerByUln(
        invokingOrganisation=invoking("online", Ukprn=None, Reference=ORG["organisation_ref"]), userType="ORG", vendorId=0,
        language="ENG", uln="9105106906", givenName="Amelia", familyName="Hughes", findType="FUL",
    )
    ((call, outcome),) = seen
    assert (call.operation, call.caller) == ("LearnerByUln", CallerAsSent(None, ORG["organisation_ref"], "online"))
    assert outcome.code == result.ResponseCode == "WSRC0004"


def test_a_before_hook_may_answer_instead_of_the_service(hooked, hooks, seen, engine):
    answers = {
        "learnerByULN": lambda call: call.fault(ErrorCode.UNEXPECTED_ERROR, "injected"),
        "GetLearnerLearningEvents": lambda call: call.fault(ErrorCode.UNEXPECTED_ERROR, "injected"),
        "LearnerByUln": lambda call: EarlyAnswer(503),
    }
    hooks.before(lambda call: answers[call.operation](call))
    # The wrong password would be WSEC0005 from the service, which does not run.
    response = post(hooked, "/LearnerService.svc", WRONG_FIND)
    assert response.status_code == 500 and fault_detail(response.content) == ("MIAPAPIException", "WSEC0999", "injected")
    response = post(hooked, "/LearnerServiceR9.svc", EVENTS)
    assert response.status_code == 500 and fault_detail(response.content)[:2] == ("DomainFault", "WSEC0999")
    by_uln = EVENTS.replace(b"GetLearnerLearningEvents", b"LearnerByUln").replace(b"<getType>FULL</getType>", b"<findType>FUL</findType>")
    response = post(hooked, "/LearnerServiceR9.svc", by_uln.replace(b"<dateOfBirth", b"<x").replace(b"<gender", b"<y"))
    assert (response.status_code, response.content, response.headers["Content-Length"]) == (503, b"", "0")
    outcomes = [(outcome.status, outcome.code, outcome.fault, outcome.answered_by) for _, outcome in seen]
    assert outcomes == [(500, "WSEC0999", True, "hook"), (500, "WSEC0999", True, "hook"), (503, None, False, "hook")]
    from sqlalchemy import func, select

    from lrs_ws.adapters.orm import sign_in_failures

    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sign_in_failures)).scalar() == 0  # no sign-in was tried


def test_a_before_hook_may_drop_the_connection(runtime, hooks, seen):
    hooks.before(lambda call: DROP if call.operation == "GetLearnerLearningEvents" else None)
    app = web_app(runtime, hooks)
    with pytest.raises(DropConnection):
        call_wsgi(app, "/LearnerServiceR9.svc", ReadOnce(EVENTS))
    front = BufferedWsgi(app, refuse=app.refusal, threads=1, max_body=runtime.settings.max_request_bytes, read_timeout=5)
    dropped = exchange(front, "POST", "/LearnerServiceR9.svc", EVENTS)
    assert dropped.messages == [{"type": DROP_MESSAGE}]  # and no response at all
    assert exchange(front, "POST", "/LearnerService.svc", FIND).status_code == 200
    outcomes = [(call.operation, outcome.status, outcome.code, outcome.answered_by, outcome.raw_response) for call, outcome in seen]
    assert outcomes[:2] == [("GetLearnerLearningEvents", None, None, "hook", b"")] * 2
    assert outcomes[2][:4] == ("learnerByULN", 200, "WSRC0004", "service")


def test_a_failing_hook_changes_no_answer(hooked, hooks, caplog):
    def broken(*args):
        raise RuntimeError("broken hook")

    hooks.before(broken)
    hooks.after(broken)
    response = post(hooked, "/LearnerService.svc", FIND)
    assert response.status_code == 200
    logged = [record.getMessage() for record in caplog.records if record.name == "lrs_ws.web.hooks"]
    assert len(logged) == 2
    assert logged[0].startswith("a before-hook failed on SoapCall(/LearnerService.svc learnerByULN from ")
    assert logged[1].startswith("an after-hook failed on SoapCall(/LearnerService.svc learnerByULN from ")
    assert all(PASSWORD not in line for line in logged)


def test_hooks_can_be_removed(hooked, hooks):
    seen = []
    hook = hooks.after(lambda call, outcome: seen.append(outcome.code))
    post(hooked, "/LearnerService.svc", FIND)
    hooks.remove(hook)
    assert not hooks
    post(hooked, "/LearnerService.svc", FIND)
    assert seen == ["WSRC0004"]


def test_response_codes_are_read_from_the_answers_objects():
    from lrs_ws.soap import models, r9_models
    from lrs_ws.web.spyne_service import response_code

    assert response_code(models.FindLearnerResponse(ResponseCode="WSRC0004")) == "WSRC0004"
    assert response_code(models.VerifyLearnerResponse(VerifiedLearner=models.VerifiedLearner(ResponseCode="WSVRC001"))) == "WSVRC001"
    assert response_code("WSRC0004") == "WSRC0004"  # UpdateLearnerSubsetFields answers the code itself
    assert response_code(r9_models.AuditPageResult(PageCount=1)) is None
    assert response_code(None) is None
