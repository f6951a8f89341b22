"""The mount table (lrs_ws.web.mounts): which application answers which path, and in which form
each answers the paths it does not serve and the front's refusals."""
from __future__ import annotations

import json

import pytest

from lrs_ws.web.answers import Answer, html_error, json_answer, json_error
from lrs_ws.web.mounts import MountTable, Routes


class Recorder:
    """A mount that answers with where it was asked (SCRIPT_NAME, PATH_INFO)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, environ, start_response):
        return json_answer(200, [self.name, environ.get("SCRIPT_NAME", ""), environ["PATH_INFO"]]).send(start_response)

    def refusal(self, path: str, status: int, detail: str) -> Answer:
        return json_answer(status, {"refused by": self.name, "path": path, "detail": detail})


def get(app, path: str, method: str = "GET", script_name: str = ""):
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = status, dict(headers)

    body = b"".join(app({"REQUEST_METHOD": method, "SCRIPT_NAME": script_name, "PATH_INFO": path}, start_response))
    return started["status"], started["headers"], body


def table() -> MountTable:
    return MountTable(
        root=Recorder("root"),
        mounts={"/LearnerService.svc": Recorder("soap"), "/sandbox/": Recorder("sandbox"), "/sandbox/deep": Recorder("deep")},
    )


@pytest.mark.parametrize(
    "path, name, script_name, path_info",
    [
        ("/LearnerService.svc", "soap", "/LearnerService.svc", ""),
        ("/LearnerService.svc/", "soap", "/LearnerService.svc", "/"),
        ("/learnerservice.SVC", "soap", "/learnerservice.SVC", ""),  # as IIS: any case; SCRIPT_NAME as sent
        ("/LearnerService.svc/mex", "soap", "/LearnerService.svc", "/mex"),
        ("/LearnerService.svcx", "root", "", "/LearnerService.svcx"),  # whole segments only
        ("/sandbox", "sandbox", "/sandbox", ""),
        ("/sandbox/journal", "sandbox", "/sandbox", "/journal"),
        ("/sandbox/deep/er", "deep", "/sandbox/deep", "/er"),  # the longest prefix
        ("/", "root", "", "/"),
        ("", "root", "", ""),
        ("/health", "root", "", "/health"),
    ],
)
def test_each_path_goes_to_the_application_at_its_longest_prefix(path, name, script_name, path_info):
    status, _, body = get(table(), path)
    assert status == "200 OK"
    assert json.loads(body) == [name, script_name, path_info]


def test_a_mount_below_a_script_name_keeps_it():
    assert json.loads(get(table(), "/sandbox/journal", script_name="/lrs")[2]) == ["sandbox", "/lrs/sandbox", "/journal"]


def test_refusals_are_worded_by_the_application_at_the_path_and_a_503_says_when_to_retry():
    mounts = table()
    status, headers, body = mounts.refusal("/Sandbox/journal", 413, "too large")
    assert status == "413 Request Entity Too Large"
    assert json.loads(body) == {"refused by": "sandbox", "path": "/Sandbox/journal", "detail": "too large"}
    assert ("Retry-After", "1") not in headers
    status, headers, body = mounts.refusal("/elsewhere", 503, "busy")
    assert json.loads(body)["refused by"] == "root"
    assert ("Retry-After", "1") in headers


def test_the_root_is_not_a_mount():
    with pytest.raises(ValueError):
        MountTable(root=Recorder("root"), mounts={"/": Recorder("other")})


def test_a_json_api_answers_unknown_paths_methods_and_refusals_in_json():
    journal = {"GET": lambda environ: json_answer(200, {"entries": []}), "DELETE": lambda environ: json_answer(200, {})}
    api = Routes(json_error, {"/journal": journal})
    mounts = MountTable(root=Recorder("root"), mounts={"/sandbox/": api})
    assert get(mounts, "/sandbox/journal")[2] == b'{"entries": []}'
    assert get(mounts, "/sandbox/journal/")[0] == "200 OK"
    status, headers, body = get(mounts, "/sandbox/journal", method="HEAD")
    assert (status, headers["Content-Length"], body) == ("200 OK", "15", b"")
    status, headers, body = get(mounts, "/sandbox/nothing")
    assert (status, headers["Content-Type"]) == ("404 Not Found", "application/json")
    assert json.loads(body) == {"error": "Nothing is served at /sandbox/nothing"}
    status, headers, body = get(mounts, "/sandbox/journal", method="POST")
    assert status == "405 Method Not Allowed" and headers["Allow"] == "DELETE, GET, HEAD"
    assert json.loads(body) == {"error": "POST is not allowed here; DELETE, GET, HEAD are"}
    status, headers, body = mounts.refusal("/sandbox/journal", 413, "The request body exceeds the limit")
    assert (status, headers[0]) == ("413 Request Entity Too Large", ("Content-Type", "application/json"))
    assert json.loads(body) == {"error": "The request body exceeds the limit"}


def test_html_pages_answer_unknown_paths_and_refusals_with_a_small_page():
    pages = Routes(html_error, {"/": {"GET": lambda environ: Answer("200 OK", [("Content-Type", "text/html")], b"<p>console</p>")}})
    mounts = MountTable(root=Recorder("root"), mounts={"/console/": pages})
    assert get(mounts, "/console/")[2] == b"<p>console</p>"
    assert get(mounts, "/console")[2] == b"<p>console</p>"
    status, headers, body = get(mounts, "/console/<script>")
    assert (status, headers["Content-Type"]) == ("404 Not Found", "text/html; charset=utf-8")
    assert b"<h1>404 Not Found</h1><p>Nothing is served at /console/&lt;script&gt;</p>" in body
    status, headers, body = mounts.refusal("/console/x", 408, "The request body did not arrive")
    assert status == "408 Request Timeout" and b"<p>The request body did not arrive</p>" in body
    assert headers[1] == ("Content-Length", str(len(body)))


def test_routes_give_path_parameters_to_their_handlers():
    from lrs_ws.web.answers import json_answer, json_error
    from lrs_ws.web.mounts import Routes

    seen = []

    def entry(environ):
        seen.append(environ["wsgiorg.routing_args"][1])
        return json_answer(200, {})

    routes = Routes(json_error, {"/requests/{id}": {"GET": entry}, "/requests": {"GET": entry}})
    statuses = []
    for path in ("/requests/42", "/requests", "/requests/42/more", "/requests//"):
        routes({"REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "/sandbox"}, lambda status, headers: statuses.append(status))
    assert seen == [{"id": "42"}, {}, {}] and statuses == ["200 OK", "200 OK", "404 Not Found", "200 OK"]
