"""The demo scenarios (lrs_ws.services.sandbox.scenario_catalogue) as ready-to-send SOAP 1.1
envelopes: the demo organisation's published credentials, its `online` user (it holds every role
the scenarios' operations need), and each scenario's request fields, in the contract's order."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from lrs_ws.contract.namespaces import FINDMSG, QCF_COMMON, QCF_INTERFACE, REPORTMSG, SOAP_ENV, TEMPURI

LEARNER_SERVICE = "/LearnerService.svc"
R9_SERVICE = "/LearnerServiceR9.svc"
USER = "online"  # the demo user with online_user, learner_record and vld_learning_provider


@dataclass(frozen=True)
class Envelope:
    endpoint: str  # the service's path
    soap_action: str | None  # the WSDL's soapAction, unquoted
    xml: str


def envelope_for(operation: str, request: Any, organisation: Mapping[str, str]) -> Envelope | None:
    """The envelope of a scenario's request; None for an operation we hold no form of."""
    build = _BUILDERS.get(operation)
    return None if build is None else build(request, organisation)


def _soap(body: etree._Element) -> str:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soapenv": SOAP_ENV})
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(body)
    return etree.tostring(envelope, encoding="unicode")


def _add(parent: etree._Element, name: str, text: str | None) -> etree._Element:
    child = etree.SubElement(parent, name)
    child.text = text
    return child


def _credentials(parent: etree._Element, organisation: Mapping[str, str]) -> None:
    _add(parent, "UKPRN", organisation["ukprn"])
    _add(parent, "OrgPassword", organisation["password"])
    _add(parent, "UserName", USER)


def _fields(parent: etree._Element, request: Mapping[str, str], names: tuple[str, ...]) -> None:
    """The fields given, in the contract's order (`names`)."""
    for name in names:
        if request.get(name):
            _add(parent, name, request[name])


def _find_by_demographics(request: Mapping[str, str], organisation: Mapping[str, str]) -> Envelope:
    body = etree.Element(f"{{{FINDMSG}}}FindLearnerByDemographics", nsmap={"f": FINDMSG})
    _add(body, "FindType", "FUL")
    _credentials(body, organisation)
    _fields(body, request, ("FamilyName", "GivenName", "DateOfBirth", "Gender", "LastKnownPostCode"))
    return Envelope(LEARNER_SERVICE, "", _soap(body))


def _find_by_uln(request: Mapping[str, str], organisation: Mapping[str, str]) -> Envelope:
    body = etree.Element(f"{{{FINDMSG}}}FindLearnerByULN", nsmap={"f": FINDMSG})
    _add(body, "FindType", "FUL")
    _credentials(body, organisation)
    _fields(body, request, ("ULN", "FamilyName", "GivenName"))
    return Envelope(LEARNER_SERVICE, "", _soap(body))


def _verify(request: Mapping[str, str], organisation: Mapping[str, str]) -> Envelope:
    body = etree.Element(f"{{{REPORTMSG}}}VerifyLearner", nsmap={"r": REPORTMSG})
    _credentials(body, organisation)
    _fields(etree.SubElement(body, "LearnerToVerify"), request, ("ULN", "FamilyName", "GivenName", "DateOfBirth", "Gender"))
    return Envelope(LEARNER_SERVICE, "http://tempuri.org/LearnerPortType/verifyLearner", _soap(body))


def _retrieve(request: list[str], organisation: Mapping[str, str]) -> Envelope:
    body = etree.Element(f"{{{REPORTMSG}}}RetrieveULNs", nsmap={"r": REPORTMSG})
    _credentials(body, organisation)
    ulns = etree.SubElement(body, "ULNsToRetrieve")
    for uln in request:
        _add(ulns, "ULN", uln)
    return Envelope(LEARNER_SERVICE, "", _soap(body))


def _r9_opening(operation: str, invoking: str, organisation: Mapping[str, str], vendor: str) -> etree._Element:
    """The R9 request's wrapper, the invoking organisation (of the operation's own type) and the
    caller's description, as a WCF client sends them."""
    body = etree.Element(f"{{{TEMPURI}}}{operation}", nsmap={None: TEMPURI, "a": invoking})
    who = etree.SubElement(body, f"{{{TEMPURI}}}invokingOrganisation")
    _add(who, f"{{{invoking}}}Password", organisation["password"])
    _add(who, f"{{{invoking}}}Ukprn", organisation["ukprn"])
    _add(who, f"{{{invoking}}}Username", USER)
    _add(body, f"{{{TEMPURI}}}userType", "LNR")
    _add(body, f"{{{TEMPURI}}}{vendor}", "0")
    _add(body, f"{{{TEMPURI}}}language", "ENG")
    return body


def _learner_by_uln(request: Mapping[str, str], organisation: Mapping[str, str]) -> Envelope:
    body = _r9_opening("LearnerByUln", QCF_COMMON, organisation, "vendorId")
    for name in ("uln", "givenName", "familyName", "findType"):
        _add(body, f"{{{TEMPURI}}}{name}", request.get(name) or "")
    return Envelope(R9_SERVICE, "http://tempuri.org/ILearnerServiceR9/LearnerByUln", _soap(body))


def _learning_events(request: Mapping[str, str], organisation: Mapping[str, str]) -> Envelope:
    body = _r9_opening("GetLearnerLearningEvents", QCF_INTERFACE, organisation, "vendorID")
    for name, wire in (("ULN", "uln"), ("GivenName", "givenName"), ("FamilyName", "familyName"),
                       ("DateOfBirth", "dateOfBirth"), ("Gender", "gender")):
        if request.get(name):
            _add(body, f"{{{TEMPURI}}}{wire}", request[name])
    _add(body, f"{{{TEMPURI}}}getType", "FULL")
    return Envelope(R9_SERVICE, "http://tempuri.org/ILearnerServiceR9/GetLearnerLearningEvents", _soap(body))


_BUILDERS: dict[str, Callable[[Any, Mapping[str, str]], Envelope]] = {
    "learnerByDemographics": _find_by_demographics,
    "learnerByULN": _find_by_uln,
    "verifyLearner": _verify,
    "retrieveULNs": _retrieve,
    "LearnerByUln": _learner_by_uln,
    "GetLearnerLearningEvents": _learning_events,
}
