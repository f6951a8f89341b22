"""The two SOAP services as the front serves them: where, their WSDL, the spyne service that
answers, the fault kind of their errors, and where their requests name the caller."""
from __future__ import annotations

from lxml import etree

from lrs_ws.runtime import Runtime
from lrs_ws.soap.faults import DOMAIN, MIAP
from lrs_ws.soap.learner_service import LearnerService
from lrs_ws.soap.r9_service import LearnerServiceR9
from lrs_ws.web.hooks import CallerAsSent, SoapHooks
from lrs_ws.web.soap_endpoint import SoapEndpoint


def learner_service(runtime: Runtime, hooks: SoapHooks) -> SoapEndpoint:
    """The Learner Register: document/literal bare, MIAPAPIException faults."""
    return SoapEndpoint(
        runtime,
        path="/LearnerService.svc",
        wsdl_name="LearnerService.wsdl",
        service=LearnerService,
        name="LearnerServiceProxy",
        faults=MIAP,
        read_caller=learner_register_caller,
        hooks=hooks,
    )


def learner_service_r9(runtime: Runtime, hooks: SoapHooks) -> SoapEndpoint:
    """The learning records service (PLR): WCF document/literal wrapped, DomainFault faults."""
    return SoapEndpoint(
        runtime,
        path="/LearnerServiceR9.svc",
        wsdl_name="LearnerServiceR9.wsdl",
        service=LearnerServiceR9,
        name="LearnerServiceR9Proxy",
        faults=DOMAIN,
        read_caller=invoking_organisation_caller,
        hooks=hooks,
    )


_CALLER_ELEMENTS = frozenset({"UKPRN", "OrganisationRef", "UserName"})


def learner_register_caller(request: etree._Element) -> CallerAsSent:
    """UKPRN or OrganisationRef, and UserName: unqualified children of the request element (one
    pass over them: findtext would compile a path for each)."""
    found = {child.tag: child.text for child in request if child.tag in _CALLER_ELEMENTS}
    return CallerAsSent(ukprn=found.get("UKPRN"), organisation_ref=found.get("OrganisationRef"), username=found.get("UserName"))


def invoking_organisation_caller(request: etree._Element) -> CallerAsSent:
    """Ukprn, OrganisationRef (GetLearnerLearningEvents) or Reference, and Username, in the
    request's invokingOrganisation (their namespace differs between operations)."""
    fields: dict[str, str | None] = {}
    for parameter in request:
        if isinstance(parameter.tag, str) and etree.QName(parameter).localname == "invokingOrganisation":
            fields = {etree.QName(child).localname: child.text for child in parameter if isinstance(child.tag, str)}
            break
    return CallerAsSent(
        ukprn=fields.get("Ukprn"), organisation_ref=fields.get("OrganisationRef", fields.get("Reference")), username=fields.get("Username")
    )
