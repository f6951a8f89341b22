"""The one credentials check: organisation, password, user and role, for every operation; and
the record of every refusal."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lrs_ws.domain.codes import ErrorCode
from lrs_ws.domain.passwords import verify_password
from lrs_ws.domain.roles import Operation, may
from lrs_ws.domain.sign_in import Backoff, first_failure
from lrs_ws.services.ports import Caller, UnitOfWork

# What an audit row's outcome says of each refusal, after the code.
_REFUSAL_NOTES = {
    ErrorCode.UNKNOWN_ORGANISATION: "unknown organisation",
    ErrorCode.INCORRECT_PASSWORD: "wrong password",
    ErrorCode.INSUFFICIENT_ACCESS: "insufficient access",
}


class AccessDenied(Exception):
    """The caller may not run the operation; `code` is the WSEC code to answer with.

    `organisation_id` is the organisation named, when it exists; `wrong_password` marks a
    password that was checked and failed (it counts towards the backoff); `backoff` a request
    refused unchecked because its organisation and address are in backoff;
    `forget_failed_sign_ins` a correct password refused for its user, which still ends the count.
    """

    def __init__(
        self,
        code: ErrorCode,
        detail: str,
        *,
        organisation_id: int | None = None,
        wrong_password: bool = False,
        backoff: bool = False,
        forget_failed_sign_ins: bool = False,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.organisation_id = organisation_id
        self.wrong_password = wrong_password
        self.backoff = backoff
        self.forget_failed_sign_ins = forget_failed_sign_ins  # the password was right after all

    @property
    def outcome(self) -> str:
        """What the audit row says: the code and why."""
        note = "backoff" if self.backoff else _REFUSAL_NOTES.get(self.code, "")
        return f"{self.code.value} {note}".strip()


@dataclass(frozen=True)
class Credentials:
    ukprn: str | None
    organisation_ref: str | None
    password: str
    username: str
    address: str = ""  # the client's network address (backoff and audit)


def authenticate(
    uow: UnitOfWork,
    credentials: Credentials,
    operation: Operation,
    *,
    now: datetime,
) -> Caller:
    """Who is calling, or AccessDenied with WSEC0003 (organisation), 0005 (password, or too many
    wrong ones from this address: then the password is not even checked), 0006 (access)."""
    if credentials.ukprn:
        named = f"UKPRN {credentials.ukprn}"
    elif credentials.organisation_ref:
        named = f"OrganisationRef {credentials.organisation_ref}"
    else:
        raise AccessDenied(ErrorCode.UNKNOWN_ORGANISATION, "Neither UKPRN nor OrganisationRef was supplied")
    organisation, user, failed = uow.organisations.with_user(
        ukprn=credentials.ukprn,
        organisation_ref=credentials.organisation_ref,
        username=credentials.username,
        address=credentials.address,
    )
    if organisation is None or organisation.id is None:
        raise AccessDenied(ErrorCode.UNKNOWN_ORGANISATION, f"No organisation is registered with {named}")
    if failed is not None and failed.blocks(now):
        raise AccessDenied(
            ErrorCode.INCORRECT_PASSWORD,
            f"Too many incorrect passwords for this organisation from {credentials.address or 'this address'}: "
            f"sign-in is refused for {failed.seconds_left(now)} more seconds",
            organisation_id=organisation.id,
            backoff=True,
        )
    if not verify_password(credentials.password or "", organisation.password_hash):
        raise AccessDenied(
            ErrorCode.INCORRECT_PASSWORD,
            "The password is incorrect for this organisation",
            organisation_id=organisation.id,
            wrong_password=True,
        )
    # Our reading: an unknown user name has no roles, so it is refused like a user without the role.
    if user is None or user.id is None:
        raise AccessDenied(
            ErrorCode.INSUFFICIENT_ACCESS,
            f"User {credentials.username!r} is not a user of this organisation",
            organisation_id=organisation.id,
            forget_failed_sign_ins=failed is not None,
        )
    if not may(user.roles, operation):
        raise AccessDenied(
            ErrorCode.INSUFFICIENT_ACCESS,
            f"User {credentials.username!r} has no role that allows the {operation.value} operation",
            organisation_id=organisation.id,
            forget_failed_sign_ins=failed is not None,
        )
    return Caller(
        organisation_id=organisation.id,
        organisation_name=organisation.name,
        user_id=user.id,
        username=user.username,
        roles=user.roles,
        address=credentials.address,
        failed_sign_ins=failed is not None,
    )


def forget_failed_sign_ins(uow: UnitOfWork, caller: Caller) -> None:
    """A correct password ends the count of wrong ones. In a unit of work of its own: the
    request's may still fail and roll back, the password was right all the same."""
    uow.sign_ins.clear(caller.organisation_id, caller.address)
    uow.commit()


def record_refusal(
    uow: UnitOfWork,
    *,
    operation: str,
    credentials: Credentials,
    organisation_id: int | None,
    outcome: str,
    now: datetime,
    wrong_password: bool = False,
    forget_failed_sign_ins: bool = False,
    backoff: Backoff | None = None,
) -> None:
    """In a unit of work of its own (the refused request's rolls back): the audit row of a
    refused request; for a wrong password one more failure towards the backoff, for a right one
    refused for its user the end of the count."""
    if forget_failed_sign_ins and organisation_id is not None:
        uow.sign_ins.clear(organisation_id, credentials.address)
    if wrong_password and organisation_id is not None:
        uow.lock(f"sign-in:{organisation_id}:{credentials.address}")  # one count at a time per pair
        previous = uow.sign_ins.get(organisation_id, credentials.address)
        policy = backoff or Backoff()
        state = first_failure(now, policy) if previous is None else previous.after_another(now, policy)
        uow.sign_ins.save(organisation_id, credentials.address, state)
    uow.audit.record(
        at=now,
        organisation_id=organisation_id,
        username=credentials.username or None,
        operation=operation,
        uln=None,
        outcome=outcome[:255],
        address=credentials.address or None,
    )
    uow.commit()

