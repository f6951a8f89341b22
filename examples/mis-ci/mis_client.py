"""A tiny MIS's link to the Learning Records Service: what a college's MIS does with it, built
from the public WSDL with zeep, knowing nothing of lrs-ws.

- find a learner by ULN; find by demographics, then register when nobody matches (the LRS
  wants the search first);
- submit a batch and read its output;
- retry what is worth retrying: the service's own WSEC0999 (unavailable, busy), a 5xx answer
  and a dropped connection, three attempts in all;
- optionally keep every envelope sent and received as files (`capture=`), for `lrs-ws check`.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault, TransportError
from zeep.plugins import Plugin

BINDING = "{http://tempuri.org/}BasicHttpBinding_LearnerPortType"
ATTEMPTS = 3
PAUSE = 0.2  # seconds between attempts


@dataclass(frozen=True)
class Credentials:
    ukprn: str
    password: str
    user: str = "online"

    def as_sent(self, user: str | None = None) -> dict[str, str]:
        return {"UKPRN": self.ukprn, "OrgPassword": self.password, "UserName": user or self.user}


class RegistrationRefused(Exception):
    """The LRS would not register the learner: its response code or fault code, and why."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code


class _Capture(Plugin):
    """Every envelope sent and received, numbered, as XML files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.numbers = itertools.count(len(list(folder.glob("*.xml"))) + 1)

    def _write(self, envelope: etree._Element, operation: str, kind: str) -> None:
        name = f"{next(self.numbers):04d}-{operation}-{kind}.xml"
        (self.folder / name).write_bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8", pretty_print=True))

    def egress(self, envelope, http_headers, operation, binding_options):  # type: ignore[no-untyped-def]
        self._write(envelope, operation.name, "request")
        return envelope, http_headers

    def ingress(self, envelope, http_headers, operation):  # type: ignore[no-untyped-def]
        self._write(envelope, operation.name, "answer")
        return envelope, http_headers


class LearnerRegister:
    def __init__(self, wsdl_url: str, service_url: str, credentials: Credentials, capture: Path | None = None) -> None:
        plugins = [] if capture is None else [_Capture(capture)]
        client = zeep.Client(wsdl_url, transport=zeep.Transport(timeout=30, operation_timeout=30), plugins=plugins)
        self.service = client.create_service(BINDING, service_url)
        self.credentials = credentials

    def _call(self, operation: str, user: str | None = None, **parameters: Any) -> Any:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return getattr(self.service, operation)(**self.credentials.as_sent(user), **parameters)
            except Fault as fault:
                if _fault_code(fault) != "WSEC0999":
                    raise
                failure: Exception = fault
            except (TransportError, requests.ConnectionError) as error:
                if isinstance(error, TransportError) and error.status_code < 500:
                    raise
                failure = error
            if attempt == ATTEMPTS:
                raise failure
            time.sleep(PAUSE)
        raise AssertionError("unreachable")

    def find(self, uln: str, family_name: str, given_name: str) -> Any | None:
        """The learner with this ULN, if the names agree (an exact match), else None."""
        answer = self._call("learnerByULN", FindType="FUL", ULN=uln, FamilyName=family_name, GivenName=given_name)
        return answer.Learner[0] if answer.ResponseCode == "WSRC0004" else None

    def register(self, learner: dict[str, str]) -> str:
        """A learner's ULN: the one the LRS holds if it matches them exactly, else a new one."""
        key = {name: learner[name] for name in ("GivenName", "FamilyName", "DateOfBirth", "Gender", "LastKnownPostCode")}
        found = self._call("learnerByDemographics", FindType="FUL", **key)
        if found.ResponseCode == "WSRC0004":
            return str(found.Learner[0].ULN)
        try:
            registered = self._call("registerSingleLearner", Learner=learner)
        except Fault as fault:
            raise RegistrationRefused(_fault_code(fault) or str(fault.code), str(fault.message)) from None
        if registered.ResponseCode != "WSRC0005":
            raise RegistrationRefused(registered.ResponseCode, "not registered")
        return str(registered.ULN)

    def submit_batch(self, learners: list[dict[str, str]]) -> int:
        answer = self._call("submitBatchRegistration", user="batch", JobType="FUL", LearnerRecordCount=len(learners),
                            Learner=learners)
        if answer.ResponseCode != "WSRC0007":
            raise RuntimeError(f"batch refused: {answer.ResponseCode}")
        return int(answer.JobID)

    def batch_output(self, job_id: int) -> list[tuple[str, str | None]] | None:
        """(ReturnCode, ULN) for each learner of a finished job; None while it runs."""
        answer = self._call("getBatchRegistrationOutput", user="batch", JobID=job_id)
        if answer.ResponseCode != "WSRC0009":
            return None
        return [(str(row.ReturnCode), row.ULN) for row in answer.Learner]


def _fault_code(fault: Fault) -> str | None:
    """The LRS's code (WSEC0001, ...) from a fault's detail, which carries it."""
    if fault.detail is None:
        return None
    return fault.detail.findtext(".//{*}ErrorCode")
