"""The one credentials check: organisation, password, user and role, for every operation."""
from __future__ import annotations

from dataclasses import dataclass

from lrs_ws.domain.codes import ErrorCode
from lrs_ws.domain.passwords import verify_password
from lrs_ws.domain.roles import Operation, may
from lrs_ws.services.ports import Caller, UnitOfWork


class AccessDenied(Exception):
    """The caller may not run the operation; `code` is the WSEC code to answer with."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Credentials:
    ukprn: str | None
    organisation_ref: str | None
    password: str
    username: str


def authenticate(uow: UnitOfWork, credentials: Credentials, operation: Operation) -> Caller:
    """Who is calling, or AccessDenied with WSEC0003 (organisation), 0005 (password), 0006 (access)."""
    if credentials.ukprn:
        named = f"UKPRN {credentials.ukprn}"
    elif credentials.organisation_ref:
        named = f"OrganisationRef {credentials.organisation_ref}"
    else:
        raise AccessDenied(ErrorCode.UNKNOWN_ORGANISATION, "Neither UKPRN nor OrganisationRef was supplied")
    organisation, user = uow.organisations.with_user(
        ukprn=credentials.ukprn, organisation_ref=credentials.organisation_ref, username=credentials.username
    )
    if organisation is None or organisation.id is None:
        raise AccessDenied(ErrorCode.UNKNOWN_ORGANISATION, f"No organisation is registered with {named}")
    if not verify_password(credentials.password or "", organisation.password_hash):
        raise AccessDenied(ErrorCode.INCORRECT_PASSWORD, "The password is incorrect for this organisation")
    # Our reading: an unknown user name has no roles, so it is refused like a user without the role.
    if user is None or user.id is None:
        raise AccessDenied(
            ErrorCode.INSUFFICIENT_ACCESS, f"User {credentials.username!r} is not a user of this organisation"
        )
    if not may(user.roles, operation):
        raise AccessDenied(
            ErrorCode.INSUFFICIENT_ACCESS,
            f"User {credentials.username!r} has no role that allows the {operation.value} operation",
        )
    return Caller(
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        user_id=user.id,
        username=user.username,
        roles=user.roles,
    )
