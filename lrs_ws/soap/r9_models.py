"""Spyne wire objects of the learning records service (`/LearnerServiceR9.svc`).

WCF document/literal wrapped: the operation's parameters are qualified in http://tempuri.org/
(the wrapper's namespace); `invokingOrganisation`'s children in the service-interface data
contract namespace; the result's children in the model namespace. Names and order are those of
our `xsd/plr-*.xsd`; the XSD validates requests before spyne sees them, so leaves are strings.

Nulls follow the live service's data contracts: a field declared `_ALWAYS` is sent even when
unknown, as `xsi:nil="true"` (`<a:Level i:nil="true"/>`); a field declared `_OPTIONAL` is left out
when unknown.
"""
from __future__ import annotations

from spyne import Boolean, ComplexModel, Integer, Unicode

from lrs_ws.contract import Child, type_index
from lrs_ws.contract.namespaces import (
    MIAP_MODEL,
    MS_ARRAYS,
    MS_SERIALIZATION,
    QCF_COMMON,
    QCF_INTERFACE,
    QCF_MODEL,
    XS,
)
from lrs_ws.domain.learner import wire_name
from lrs_ws.domain.learning_event import EVENT_FIELDS

_ALWAYS = Unicode.customize(min_occurs=1, nillable=True)
_OPTIONAL = Unicode.customize(min_occurs=0, nillable=False)
_ID = Integer.customize(min_occurs=1, nillable=False)
_CREDITS = Integer.customize(min_occurs=0, nillable=False)

# LearningEvent fields the live service always sends (nil when unknown). ID always has a value;
# Credits (a number, never nil on the live contract) and every other field are left out when
# unknown (e.g. by getType BRIEF).
ALWAYS_SENT = frozenset(
    {"achievement_award_date", "achievement_provider_ukprn", "grade", "level", "source", "subject", "subject_code"}
)


def _event_field(field: str) -> tuple[str, type]:
    if field == "id":
        return wire_name(field), _ID
    if field == "credits":
        return wire_name(field), _CREDITS
    return wire_name(field), _ALWAYS if field in ALWAYS_SENT else _OPTIONAL


class InvokingOrganisationR10(ComplexModel):
    __namespace__ = QCF_INTERFACE
    _type_info = [
        ("OrganisationRef", Unicode),
        ("Password", Unicode),
        ("Ukprn", Unicode),
        ("Username", Unicode),
    ]


class LearningEvent(ComplexModel):
    __namespace__ = QCF_MODEL
    _type_info = [_event_field(field) for field in EVENT_FIELDS]


class ArrayOfLearningEvent(ComplexModel):
    __namespace__ = QCF_MODEL
    _type_info = [("LearningEvent", LearningEvent.customize(min_occurs=0, max_occurs="unbounded"))]


class LearningEventsResult(ComplexModel):
    """model:GetLearnerLearningEventsResponse (the type of GetLearnerLearningEventsResult)."""

    __namespace__ = QCF_MODEL
    __type_name__ = "GetLearnerLearningEventsResponse"
    _type_info = [
        ("ResponseCode", Unicode.customize(min_occurs=1)),
        ("FoundULN", Unicode.customize(min_occurs=1)),
        ("IncomingULN", Unicode.customize(min_occurs=1)),
        ("LearnerRecord", ArrayOfLearningEvent.customize(min_occurs=1)),
    ]


class InvokingOrganisation(ComplexModel):
    """The credentials of LearnerByUln, UpdateLearnerSubsetFields, ViewAudit and GetOrganisation."""

    __namespace__ = QCF_COMMON
    _type_info = [
        ("ChannelCode", Unicode),
        ("Estab", Integer),
        ("LaNumber", Integer),
        ("Password", Unicode),
        ("Reference", Unicode),
        ("Ukprn", Unicode),
        ("Username", Unicode),
    ]


class OrganisationResult(ComplexModel):
    """model:GetOrganisationResponse (the type of GetOrganisationResult)."""

    __namespace__ = QCF_MODEL
    __type_name__ = "GetOrganisationResponse"
    _type_info = [
        ("ResponseCode", _OPTIONAL),
        ("DisplayName", _OPTIONAL),
        ("OrgRef", _OPTIONAL),
        ("Status", _OPTIONAL),
        ("Ukprn", _OPTIONAL),
    ]


class PlrAccessEntry(ComplexModel):
    __namespace__ = QCF_MODEL
    __type_name__ = "PlrAccessEntryResponse"
    _type_info = [("Action", _OPTIONAL), ("DateTime", _OPTIONAL), ("Organisation", _OPTIONAL), ("User", _OPTIONAL)]


class ArrayOfPlrAccessEntry(ComplexModel):
    __namespace__ = QCF_MODEL
    __type_name__ = "ArrayOfPlrAccessEntryResponse"
    _type_info = [("PlrAccessEntryResponse", PlrAccessEntry.customize(min_occurs=0, max_occurs="unbounded"))]


_COUNT = Integer.customize(min_occurs=1, nillable=False)


class AuditPageResult(ComplexModel):
    __namespace__ = QCF_MODEL
    __type_name__ = "PagedListOfPlrAccessEntryResponseN4dIIFC_S"
    _type_info = [
        ("List", ArrayOfPlrAccessEntry.customize(min_occurs=1)),
        *[(name, _COUNT) for name in ("PageCount", "PageIndex", "PageSize", "SortIndex", "SortOrder", "TotalItems")],
    ]


class ArrayOfstring(ComplexModel):
    __namespace__ = MS_ARRAYS
    _type_info = [("string", Unicode.customize(min_occurs=0, max_occurs="unbounded"))]


# Wire types of the MIAPModel Learner's members by their schema type; dates are sent as text
# (YYYY-MM-DDThh:mm:ss, no zone) as the live service writes them, and the rest are strings.
_MEMBER_TYPES = {
    f"{{{XS}}}int": Integer,
    f"{{{XS}}}boolean": Boolean,
    f"{{{MS_SERIALIZATION}}}char": Integer,
    f"{{{MS_ARRAYS}}}ArrayOfstring": ArrayOfstring,
}


def _member(member: Child) -> tuple[str, type]:
    """A nillable member is always sent (nil when we hold no value, as WCF does); a non-nillable
    one only when it has a value."""
    kind = _MEMBER_TYPES.get(member.type, Unicode)
    if member.nillable:
        return member.name, kind.customize(min_occurs=1, nillable=True)
    return member.name, kind.customize(min_occurs=0, nillable=False)


class MiapLearner(ComplexModel):
    """{Amor.Qcf.MIAPModel}Learner, LearnerByUln's learner."""

    __namespace__ = MIAP_MODEL
    __type_name__ = "Learner"
    _type_info = [_member(member) for member in type_index().children[f"{{{MIAP_MODEL}}}Learner"]]


class LearnerByUlnResult(ComplexModel):
    """model:LearnerByUlnResponse (the type of LearnerByUlnResult)."""

    __namespace__ = QCF_MODEL
    __type_name__ = "LearnerByUlnResponse"
    _type_info = [
        ("ResponseCode", _OPTIONAL),
        ("FamilyName", _ALWAYS),
        ("GivenName", _ALWAYS),
        ("Learner", MiapLearner.customize(min_occurs=0, nillable=False)),  # left out, not nil, when none
        ("Uln", _ALWAYS),
    ]
