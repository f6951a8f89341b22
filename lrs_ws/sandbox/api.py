"""The sandbox's JSON control API, mounted at /sandbox/ in sandbox mode.

Every request carries `Authorization: Bearer TOKEN` (401 without it). Errors are `{"error": ...}`
naming the field: bad JSON, unknown fields and wrong types are 400, never 500. The handlers parse
and answer; the rules are lrs_ws.services.sandbox's, the state is the database's.
"""
from __future__ import annotations

import hmac
import json
import random
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from lrs_ws.clock import SYSTEM_CLOCK
from lrs_ws.runtime import Runtime
from lrs_ws.services import sandbox
from lrs_ws.services.batch_learner import BatchRules
from lrs_ws.services.job_runner import run_waiting_jobs
from lrs_ws.services.ports import JournalEntry, JournalFilter, PlantedFault, PlantedFaultKind
from lrs_ws.services.seed import load_demo_file
from lrs_ws.web.answers import Answer, json_answer, json_error
from lrs_ws.web.mounts import Routes

MAX_BODY = 1 << 20  # a JSON request body; the front's own limit bounds it anyway


class BadRequest(Exception):
    """400 with this message (it names the field)."""


class Request:
    """What a handler reads: the path's parameters, the query and the JSON body, checked."""

    def __init__(self, environ: dict[str, Any], params: Mapping[str, str]) -> None:
        self.environ = environ
        self.params = params
        self.query = {name: values[-1] for name, values in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}

    def body(self, fields: Mapping[str, tuple[type | tuple[type, ...], bool]]) -> dict[str, Any]:
        """The JSON object sent, holding only `fields` (name -> (types, required))."""
        stream = self.environ["wsgi.input"]
        raw = stream.read(MAX_BODY + 1)
        if not raw.strip():
            value: Any = {}
        else:
            try:
                value = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as error:
                raise BadRequest(f"the body is not JSON: {error}") from None
        if not isinstance(value, dict):
            raise BadRequest("the body must be a JSON object")
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise BadRequest(f"{unknown[0]}: unknown field (known: {', '.join(fields)})")
        for name, (types, required) in fields.items():
            if name not in value:
                if required:
                    raise BadRequest(f"{name}: required")
                continue
            if value[name] is None and required:
                raise BadRequest(f"{name}: must not be null")
            given = value[name]
            wrong_bool = isinstance(given, bool) and bool not in _tuple(types)  # JSON true is not a number here
            if given is not None and (not isinstance(given, types) or wrong_bool):
                raise BadRequest(f"{name}: must be {_type_names(types)}")
        return value

    def only_query(self, *names: str) -> None:
        """A query parameter not among `names` is a mistake (a misspelt filter would filter nothing)."""
        unknown = sorted(set(self.query) - set(names))
        if unknown:
            raise BadRequest(f"{unknown[0]}: unknown query parameter (known: {', '.join(names)})")

    def integer(self, name: str, *, low: int = 0, high: int | None = None) -> int | None:
        text = self.query.get(name)
        if text is None or text == "":
            return None
        try:
            number = int(text)
        except ValueError:
            raise BadRequest(f"{name}: must be an integer") from None
        if number < low or (high is not None and number > high):
            raise BadRequest(f"{name}: must be from {low} to {high}" if high is not None else f"{name}: must be {low} or more")
        return number


def _tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list", dict: "an object"}
    return " or ".join(names.get(kind, kind.__name__) for kind in _tuple(types) if not (kind is int and float in _tuple(types)))


Handler = Callable[[Request], Answer]


class SandboxApi:
    """The mount: the token check, then the route's handler; every answer JSON."""

    def __init__(
        self, runtime: Runtime, token: str, *, settled: Callable[[], None] = lambda: None, rng: random.Random | None = None
    ) -> None:
        self.runtime = runtime
        self.settled = settled  # after a change of faults or clock: every process sees it on return
        self.token = token.encode("utf-8")
        self.rng = rng or secrets.SystemRandom()
        self.demo = load_demo_file()
        self.routes = Routes(json_error, {
            "/requests": {"GET": self._guarded(self.list_requests), "DELETE": self._guarded(self.forget_requests)},
            "/requests/{id}": {"GET": self._guarded(self.one_request)},
            "/reset": {"POST": self._guarded(self.reset)},
            "/baseline": {"POST": self._guarded(self.baseline)},
            "/organisations": {"POST": self._guarded(self.new_organisation)},
            "/learners": {"POST": self._guarded(self.plant_learners)},
            "/faults": {"GET": self._guarded(self.list_faults), "POST": self._guarded(self.add_fault),
                        "DELETE": self._guarded(self.clear_faults)},
            "/faults/{id}": {"DELETE": self._guarded(self.remove_fault)},
            "/clock": {"GET": self._guarded(self.clock), "PUT": self._guarded(self.set_clock), "DELETE": self._guarded(self.clear_clock)},
            "/jobs/run": {"POST": self._guarded(self.run_jobs)},
            "/scenarios": {"GET": self._guarded(self.scenarios)},
        })

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.routes(environ, start_response)

    def refusal(self, path: str, status: int, detail: str) -> Answer:
        return json_error(status, detail)

    def _guarded(self, handler: Handler) -> Callable[[dict[str, Any]], Answer]:
        def guarded(environ: dict[str, Any]) -> Answer:
            scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode("utf-8"), self.token):
                return _unauthorised()
            params = environ.get("wsgiorg.routing_args", ((), {}))[1]
            try:
                answered = handler(Request(environ, params))
                if environ.get("REQUEST_METHOD") != "GET" and answered.status_code < 300:
                    self.settled()  # a change: answered once every process sees it
                return answered
            except BadRequest as bad:
                return json_error(400, str(bad))
            except sandbox.SandboxRefused as refused:
                return json_error(400, str(refused))

        return guarded

    # --- the journal

    def list_requests(self, request: Request) -> Answer:
        request.only_query("operation", "outcome", "ukprn", "user", "since_id", "limit")
        where = JournalFilter(
            operation=request.query.get("operation") or None, outcome=request.query.get("outcome") or None,
            ukprn=request.query.get("ukprn") or None, user=request.query.get("user") or None,
            since_id=request.integer("since_id"), limit=request.integer("limit", low=1, high=sandbox.JOURNAL_LIMIT) or 100,
        )
        with self.runtime.unit_of_work() as uow:
            entries = sandbox.journal(uow, where)
        return json_answer(200, {"requests": [journal_json(entry) for entry in entries]})

    def one_request(self, request: Request) -> Answer:
        entry_id = _identifier(request.params["id"])
        with self.runtime.unit_of_work() as uow:
            entry = sandbox.journal_entry(uow, entry_id)
        return json_error(404, f"no request {entry_id} in the journal") if entry is None else json_answer(200, journal_json(entry))

    def forget_requests(self, request: Request) -> Answer:
        with self.runtime.unit_of_work() as uow:
            sandbox.forget_journal(uow, SYSTEM_CLOCK)
        return json_answer(200, {"requests": []})

    # --- reset, baseline, organisations, learners

    def reset(self, request: Request) -> Answer:
        request.body({})
        with self.runtime.unit_of_work() as uow:
            rows = sandbox.reset(uow, SYSTEM_CLOCK)
        return json_answer(200, {"rows": rows})

    def baseline(self, request: Request) -> Answer:
        request.body({})
        with self.runtime.unit_of_work() as uow:
            rows = sandbox.mark_baseline(uow, uow.clock.now())
        return json_answer(200, {"rows": rows})

    def new_organisation(self, request: Request) -> Answer:
        sent = request.body({"name": (str, False)})
        with self.runtime.unit_of_work() as uow:
            made = sandbox.new_organisation(uow, sent.get("name"), self.demo["users"], self.rng)
        return json_answer(201, {
            "ukprn": made.ukprn, "org_ref": made.organisation_ref, "password": made.password,
            "users": [{"name": name, "roles": sorted(role.value for role in roles)} for name, roles in made.users],
        })

    def plant_learners(self, request: Request) -> Answer:
        sent = request.body({"learners": (list, True)})
        for index, learner in enumerate(sent["learners"]):
            if not isinstance(learner, dict):
                raise BadRequest(f"learners[{index}]: must be an object")
        with self.runtime.unit_of_work() as uow:
            ulns = sandbox.plant_learners(uow, sent["learners"], prohibited_words=self.runtime.prohibited_words, rng=self.rng)
        return json_answer(201, {"ulns": ulns})

    # --- faults

    def add_fault(self, request: Request) -> Answer:
        sent = request.body({
            "operation": (str, True), "ukprn": (str, False), "kind": (str, True), "seconds": ((int, float), False),
            "code": (str, False), "status": (int, False), "times": (int, False), "probability": ((int, float), False),
        })
        try:
            kind = PlantedFaultKind(sent["kind"])
        except ValueError:
            raise BadRequest(f"kind: must be one of {', '.join(k.value for k in PlantedFaultKind)}") from None
        times = sent.get("times", 1)  # null: until deleted
        fault = PlantedFault(
            None, sent["operation"], sent.get("ukprn"), kind, seconds=sent.get("seconds"), code=sent.get("code"),
            status=sent.get("status"), times=times, probability=float(sent.get("probability", 1.0)),
        )
        with self.runtime.unit_of_work() as uow:
            fault_id = sandbox.plant_fault(uow, fault)
        return json_answer(201, {"id": fault_id})

    def list_faults(self, request: Request) -> Answer:
        with self.runtime.unit_of_work() as uow:
            faults = uow.sandbox.faults()
        return json_answer(200, {"faults": [fault_json(fault) for fault in faults]})

    def remove_fault(self, request: Request) -> Answer:
        fault_id = _identifier(request.params["id"])
        with self.runtime.unit_of_work() as uow:
            removed = uow.sandbox.remove_fault(fault_id)
            uow.commit()
        return json_answer(200, {"id": fault_id}) if removed else json_error(404, f"no fault {fault_id}")

    def clear_faults(self, request: Request) -> Answer:
        with self.runtime.unit_of_work() as uow:
            uow.sandbox.remove_faults()
            uow.commit()
        return json_answer(200, {"faults": []})

    # --- the clock

    def clock(self, request: Request) -> Answer:
        with self.runtime.unit_of_work() as uow:
            return json_answer(200, self._clock_json(uow))

    def set_clock(self, request: Request) -> Answer:
        sent = request.body({"now": (str, True), "frozen": (bool, False)})
        try:
            at = datetime.fromisoformat(sent["now"].replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(f"now: {sent['now']!r} is not an ISO 8601 date and time") from None
        with self.runtime.unit_of_work() as uow:
            sandbox.set_clock(uow, at, bool(sent.get("frozen", False)), real=SYSTEM_CLOCK)
        with self.runtime.unit_of_work() as uow:
            return json_answer(200, self._clock_json(uow))

    def clear_clock(self, request: Request) -> Answer:
        with self.runtime.unit_of_work() as uow:
            sandbox.clear_clock(uow)
        with self.runtime.unit_of_work() as uow:
            return json_answer(200, self._clock_json(uow))

    def _clock_json(self, uow: Any) -> dict[str, Any]:
        now, setting = sandbox.register_time(uow, SYSTEM_CLOCK)
        return {"now": now.isoformat(), "frozen": bool(setting and setting.frozen), "set": setting is not None}

    # --- jobs and scenarios

    def run_jobs(self, request: Request) -> Answer:
        request.body({})
        runtime = self.runtime
        rules = BatchRules(runtime.prohibited_words, runtime.settings.possible_match_limit, runtime.rng)
        jobs = run_waiting_jobs(runtime.unit_of_work, rules, f"sandbox-api:{secrets.token_hex(4)}", chunk=runtime.settings.batch_chunk)
        return json_answer(200, {"jobs": [{"job_id": job.id, "status": job.status.value} for job in jobs]})

    def scenarios(self, request: Request) -> Answer:
        return json_answer(200, {"scenarios": sandbox.scenario_catalogue(self.demo)})


def _unauthorised() -> Answer:
    refused = json_error(401, "the sandbox API needs Authorization: Bearer <the sandbox token>")
    return refused._replace(headers=[*refused.headers, ("WWW-Authenticate", 'Bearer realm="lrs-ws sandbox"')])


def _identifier(text: str) -> int:
    if not text.isdigit():
        raise BadRequest(f"id: {text!r} is not a number")
    return int(text)


def journal_json(entry: JournalEntry) -> dict[str, Any]:
    return {
        "id": entry.id, "time": entry.at.isoformat(), "endpoint": entry.endpoint, "operation": entry.operation,
        "soap_action": entry.soap_action, "ukprn": entry.ukprn, "user": entry.user, "outcome": entry.outcome,
        "http_status": entry.http_status, "duration_ms": entry.duration_ms, "request": entry.request, "response": entry.response,
        "problem": entry.problem, "near_misses": list(entry.near_misses), "fault": entry.fault_id,
    }


def fault_json(fault: PlantedFault) -> dict[str, Any]:
    return {
        "id": fault.id, "operation": fault.operation, "ukprn": fault.ukprn, "kind": fault.kind.value, "seconds": fault.seconds,
        "code": fault.code, "status": fault.status, "times": fault.times, "probability": fault.probability,
    }

