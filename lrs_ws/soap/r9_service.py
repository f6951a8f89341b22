"""The learning records service (`/LearnerServiceR9.svc`): WCF document/literal wrapped, SOAP 1.1.

GetLearnerLearningEvents, LearnerByUln, UpdateLearnerSubsetFields, ViewAudit and GetOrganisation.
Each method reads the credentials from `invokingOrganisation`, hands over to
`lrs_ws.soap.calls.call` (authentication for the operation's roles, errors as DomainFault), runs
the use case and maps its result to the wire. Learner outcomes (WSEC0136, WSEC0206, WSEC0208,
WSRC codes) are response codes, not faults.
"""
from __future__ import annotations

from datetime import date, datetime

from lxml import etree
from spyne import Integer, ServiceBase, Unicode, rpc

from lrs_ws.clock import UK
from lrs_ws.contract.namespaces import XSI
from lrs_ws.domain.learner import DATE_FIELDS, DETAIL_FIELDS, wire_name
from lrs_ws.domain.learning_event import EVENT_FIELDS, LearningEvent
from lrs_ws.domain.roles import Operation
from lrs_ws.domain.rules import calendar_date
from lrs_ws.services.admin import look_up_organisation
from lrs_ws.services.auth import Credentials
from lrs_ws.services.find import FindResult, FoundLearner, find_by_uln
from lrs_ws.services.plr import (
    AUDIT_PAGE_SIZE,
    AuditPage,
    PlrQuery,
    PlrResult,
    get_learning_events,
    view_audit,
)
from lrs_ws.services.update import update_subset
from lrs_ws.soap import calls, r9_models
from lrs_ws.soap.writer import instance


def _blank(text: str | None) -> str | None:
    return None if text is None or text.strip() == "" else text


def plr_query(uln: str, given_name: str, family_name: str, date_of_birth: str | None, gender: str | None, get_type: str) -> PlrQuery:
    """The wire parameters as a use-case query; an unreal date of birth is WSEC0001 (InvalidField)."""
    dob = _blank(date_of_birth)
    return PlrQuery(
        uln=(uln or "").strip(),
        given_name=given_name,
        family_name=family_name,
        date_of_birth=calendar_date("dateOfBirth", dob) if dob else None,
        gender=_blank(gender),
        brief=get_type == "BRIEF",
    )


def _wire_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


_EVENT_WIRE_NAMES = tuple((field, wire_name(field)) for field in EVENT_FIELDS)


def event_to_wire(event: LearningEvent) -> r9_models.LearningEvent:
    values = {wire: _wire_value(getattr(event, field)) for field, wire in _EVENT_WIRE_NAMES}
    return instance(r9_models.LearningEvent, **values)


def result_to_wire(result: PlrResult) -> r9_models.LearningEventsResult:
    events = [event_to_wire(event) for event in result.events if not event.is_sensitive]  # never, whatever the use case
    return instance(
        r9_models.LearningEventsResult,
        ResponseCode=result.code.value,
        FoundULN=result.found_uln or "",  # empty, not nil, when not verified (as the live service)
        IncomingULN=result.incoming_uln,
        LearnerRecord=instance(r9_models.ArrayOfLearningEvent, LearningEvent=events),
    )


def audit_page_to_wire(result: AuditPage) -> r9_models.AuditPageResult:
    entries = [
        r9_models.PlrAccessEntry(
            Action=entry.operation,
            DateTime=entry.at.astimezone(UK).strftime("%Y-%m-%dT%H:%M:%S"),  # UK time, no offset
            Organisation=entry.organisation_name,
            User=entry.username,
        )
        for entry in result.entries
    ]
    return r9_models.AuditPageResult(
        List=r9_models.ArrayOfPlrAccessEntry(PlrAccessEntryResponse=entries),
        PageCount=result.page_count, PageIndex=result.page, PageSize=AUDIT_PAGE_SIZE,
        SortIndex=0, SortOrder=1, TotalItems=result.total,
    )


# LearnerByUln: the MIAPModel member of each learner detail where its name is not the detail's wire
# name, and the details that are numbers there.
_MIAP_NAMES = {"family_name_at_age16": "FamilyNameAt16"}
_MIAP_NUMBERS = frozenset({"gender", "verification_type", "ability_to_share"})


def _midnight(day: date | None) -> str | None:
    return None if day is None else f"{day.isoformat()}T00:00:00"


def miap_learner(found: FoundLearner) -> r9_models.MiapLearner:
    """The learner in the R9 data model: what we hold, nil (or left out) for the rest."""
    learner = found.learner
    values: dict[str, object] = {}
    for field in DETAIL_FIELDS:
        value = getattr(learner, field)
        if field in DATE_FIELDS:
            value = _midnight(value)
        elif field in _MIAP_NUMBERS:
            value = int(value)
        values[_MIAP_NAMES.get(field, wire_name(field))] = value
    return instance(
        r9_models.MiapLearner,
        CreatedDate=_midnight(learner.created_date),
        LastUpdatedDate=_midnight(learner.last_updated_date),
        LinkedUlns=instance(r9_models.ArrayOfstring, string=sorted(learner.linked_ulns)),
        MasterUln=learner.uln if found.master_substituted else None,  # a merged ULN was asked for
        RecordStatus=int(learner.learner_status.value),
        TelephoneNumber=learner.telephone_number,
        TierLevel=int(learner.tier_level),
        Uln=learner.uln,
        VersionNumber=learner.version_number,
        **values,
    )


def learner_by_uln_to_wire(result: FindResult, full: bool, uln, given_name, family_name) -> r9_models.LearnerByUlnResult:
    """The code and the fields sent; the learner with FUL when one was found."""
    found = result.learners[0] if full and result.learners else None
    return instance(
        r9_models.LearnerByUlnResult,
        ResponseCode=result.code.value,
        FamilyName=family_name,
        GivenName=given_name,
        Learner=miap_learner(found) if found else None,
        Uln=uln,
    )


# UpdateLearnerSubsetFields: its parameters and the learner fields they set.
SUBSET_FIELDS = {"emailAddress": "email_address", "schoolAtAge16": "school_at_age16", "preferredGivenName": "preferred_given_name"}
ABILITY_TO_SHARE = {"NotProvided": None, "FPNNotSeen": "0", "FPNSeenShareData": "1", "FPNSeenUnableShareData": "2"}
_NIL = f"{{{XSI}}}nil"


def _sent_values(ctx, names) -> dict[str, str]:
    """The parameters sent with a value, '' for an empty one; a nil or absent one is left out
    (unchanged), which spyne's objects cannot tell from empty."""
    values: dict[str, str] = {}
    for element in ctx.in_body_doc:
        name = etree.QName(element).localname if isinstance(element.tag, str) else None
        if name is not None and name in names and element.get(_NIL) not in ("true", "1"):
            values[name] = element.text or ""
    return values


def common_credentials(organisation) -> Credentials:
    """The other operations' InvokingOrganisation: Ukprn, else Reference (the OrganisationRef)."""
    if organisation is None:  # nil: nobody, refused as an unknown organisation
        return Credentials(ukprn=None, organisation_ref=None, password="", username="")
    return Credentials(
        ukprn=_blank(organisation.Ukprn),
        organisation_ref=_blank(organisation.Reference),
        password=organisation.Password or "",
        username=organisation.Username or "",
    )


class LearnerServiceR9(ServiceBase):
    @rpc(
        r9_models.InvokingOrganisationR10,
        Unicode,
        Integer,
        Unicode,
        Unicode,
        Unicode,
        Unicode,
        Unicode,
        Unicode,
        Unicode,
        _returns=r9_models.LearningEventsResult,
        _operation_name="GetLearnerLearningEvents",
        _out_variable_name="GetLearnerLearningEventsResult",
    )
    def GetLearnerLearningEvents(  # noqa: N802 - the wire names are the parameter names
        ctx, invokingOrganisation, userType, vendorID, language, uln, givenName, familyName, dateOfBirth, gender, getType
    ):
        organisation = invokingOrganisation
        credentials = Credentials(
            ukprn=_blank(organisation.Ukprn),
            organisation_ref=_blank(organisation.OrganisationRef),
            password=organisation.Password or "",
            username=organisation.Username or "",
        )
        result = calls.call(
            ctx,
            Operation.READ_PLR,
            credentials,
            lambda uow, caller, rt: get_learning_events(
                uow, caller, plr_query(uln, givenName, familyName, dateOfBirth, gender, getType), uow.clock.now()
            ),
        )
        return result_to_wire(result)

    @rpc(
        r9_models.InvokingOrganisation,
        Unicode,
        Integer,
        Unicode,
        Unicode,
        Unicode,
        Unicode,
        Unicode,
        _returns=r9_models.LearnerByUlnResult,
        _operation_name="LearnerByUln",
        _out_variable_name="LearnerByUlnResult",
    )
    def LearnerByUln(  # noqa: N802 - the wire name
        ctx, invokingOrganisation, userType, vendorId, language, uln, givenName, familyName, findType
    ):
        result = calls.call(
            ctx,
            Operation.FIND,
            common_credentials(invokingOrganisation),
            lambda uow, caller, rt: find_by_uln(
                uow, caller, (uln or "").strip(), familyName, givenName, uow.clock.now(), operation="LearnerByUln"
            ),
        )
        return learner_by_uln_to_wire(result, findType == "FUL", uln, givenName, familyName)

    @rpc(
        r9_models.InvokingOrganisation,
        Unicode,
        Integer,
        Unicode,
        Unicode,
        Unicode,
        _returns=r9_models.OrganisationResult,
        _operation_name="GetOrganisation",
        _out_variable_name="GetOrganisationResult",
    )
    def GetOrganisation(ctx, invokingOrganisation, userType, vendorId, language, ukPrn, orgRef):  # noqa: N802 - the wire name
        found = calls.call(
            ctx,
            Operation.LOOK_UP_ORGANISATION,
            common_credentials(invokingOrganisation),
            lambda uow, caller, rt: look_up_organisation(
                uow, caller, ukprn=_blank(ukPrn), organisation_ref=_blank(orgRef), now=uow.clock.now()
            ),
        )
        if found is None:
            return r9_models.OrganisationResult(ResponseCode="WSRC0001")
        return r9_models.OrganisationResult(
            ResponseCode="WSRC0004", DisplayName=found.name, OrgRef=found.organisation_ref, Status="Active",
            Ukprn=found.ukprn,
        )

    @rpc(
        r9_models.InvokingOrganisation,
        Unicode,
        Integer,
        Unicode,
        Unicode,
        Unicode,
        Unicode,
        Integer,
        _returns=r9_models.AuditPageResult,
        _operation_name="ViewAudit",
        _out_variable_name="ViewAuditResult",
    )
    def ViewAudit(  # noqa: N802 - the wire name
        ctx, invokingOrganisation, userType, vendorId, language, learnerUln, learnerGivenName, learnerFamilyName, page
    ):
        query = PlrQuery(uln=(learnerUln or "").strip(), given_name=learnerGivenName, family_name=learnerFamilyName)
        result = calls.call(
            ctx,
            Operation.READ_PLR,
            common_credentials(invokingOrganisation),
            lambda uow, caller, rt: view_audit(uow, caller, query, int(page or 0), uow.clock.now()),
        )
        return audit_page_to_wire(result)

    @rpc(
        r9_models.InvokingOrganisation,
        Unicode,
        Integer,
        Unicode,
        Unicode,
        Integer,
        Unicode,
        Unicode,
        Unicode,
        Unicode,
        Unicode,
        _returns=Unicode,
        _operation_name="UpdateLearnerSubsetFields",
        _out_variable_name="UpdateLearnerSubsetFieldsResult",
    )
    def UpdateLearnerSubsetFields(  # noqa: N802 - the wire name
        ctx, invokingOrganisation, userType, vendorId, language, uln, versionNumber, emailAddress,
        telephoneNumber, abilityToShare, schoolAtAge16, preferredGivenName,
    ):
        given = _sent_values(ctx, SUBSET_FIELDS.keys() | {"telephoneNumber"})
        sent = {field: (given[wire] or None) for wire, field in SUBSET_FIELDS.items() if wire in given}
        share = ABILITY_TO_SHARE.get(abilityToShare or "NotProvided")
        if share is not None:
            sent["ability_to_share"] = share
        code = calls.call(
            ctx,
            Operation.UPDATE,
            common_credentials(invokingOrganisation),
            lambda uow, caller, rt: update_subset(
                uow, caller, (uln or "").strip(), int(versionNumber), sent,
                telephone_number=given.get("telephoneNumber"), now=uow.clock.now(), prohibited_words=rt.prohibited_words,
            ),
        )
        return code.value
