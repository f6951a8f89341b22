"""Administration use cases: organisations (and looking one up, R9 GetOrganisation), users, merging ULNs."""
from __future__ import annotations

from datetime import datetime

from lrs_ws.domain.errors import InvalidField
from lrs_ws.domain.organisation import is_organisation_ref, is_ukprn
from lrs_ws.domain.passwords import hash_password
from lrs_ws.domain.roles import Role
from lrs_ws.domain.uln import is_valid_uln
from lrs_ws.services.audit import record as audit
from lrs_ws.services.ports import Caller, Organisation, UnitOfWork, User


class AdminError(Exception):
    """A clear message for the operator; nothing was written."""


def add_organisation(uow: UnitOfWork, *, name: str, ukprn: str | None, organisation_ref: str | None, password: str) -> Organisation:
    if not ukprn and not organisation_ref:
        raise AdminError("give --ukprn or --ref (or both)")
    if ukprn and not is_ukprn(ukprn):
        raise AdminError(f"UKPRN {ukprn!r} must be 8 letters or digits")
    if organisation_ref and not is_organisation_ref(organisation_ref):
        raise AdminError(f"OrganisationRef {organisation_ref!r} must be 6 letters or digits")
    if len(password) != 16 or not password.strip():
        raise AdminError("OrgPassword must be exactly 16 characters, not all spaces (MIAPOrgPassword)")
    if ukprn and uow.organisations.by_ukprn(ukprn):
        raise AdminError(f"an organisation with UKPRN {ukprn} already exists")
    if organisation_ref and uow.organisations.by_reference(organisation_ref):
        raise AdminError(f"an organisation with OrganisationRef {organisation_ref} already exists")
    organisation = uow.organisations.add(
        Organisation(id=None, name=name, ukprn=ukprn, organisation_ref=organisation_ref, password_hash=hash_password(password))
    )
    uow.commit()
    return organisation


def add_user(uow: UnitOfWork, *, organisation: str, username: str, roles: frozenset[Role]) -> User:
    org = uow.organisations.by_ukprn(organisation) or uow.organisations.by_reference(organisation)
    if org is None or org.id is None:
        raise AdminError(f"no organisation with UKPRN or OrganisationRef {organisation!r}")
    if not 1 <= len(username) <= 35 or not username.strip():
        raise AdminError("UserName must be 1-35 characters with at least one non-space")
    if not roles:
        raise AdminError("give at least one role")
    if uow.organisations.user(org.id, username) is not None:
        raise AdminError(f"user {username!r} already exists in {organisation}")
    user = uow.organisations.add_user(User(id=None, organisation_id=org.id, username=username, roles=roles))
    uow.commit()
    return user


def merge_learners(uow: UnitOfWork, *, master_uln: str, retired_uln: str) -> None:
    for uln in (master_uln, retired_uln):
        if not is_valid_uln(uln):
            raise AdminError(f"{uln!r} is not a valid ULN")
    now = uow.clock.now()
    try:
        uow.learners.merge(master_uln, retired_uln, now.date())
    except ValueError as error:
        raise AdminError(str(error)) from None
    uow.audit.record(
        at=now,
        organisation_id=None,
        username="lrs-ws admin",
        operation="mergeLearners",
        uln=retired_uln,
        outcome=f"merged into {master_uln}",
    )
    uow.commit()


def look_up_organisation(
    uow: UnitOfWork, caller: Caller, *, ukprn: str | None, organisation_ref: str | None, now: datetime
) -> Organisation | None:
    """GetOrganisation: by UKPRN when given, else by OrganisationRef; InvalidField when neither is."""
    if not ukprn and not organisation_ref:
        raise InvalidField("ukPrn", "give ukPrn or orgRef")
    found = uow.organisations.by_ukprn(ukprn) if ukprn else uow.organisations.by_reference(organisation_ref or "")
    audit(uow, caller, "GetOrganisation", None, f"{'WSRC0004' if found else 'WSRC0001'} {ukprn or organisation_ref}", now, find=True)
    uow.commit()
    return found
