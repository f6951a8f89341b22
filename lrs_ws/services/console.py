"""The web console's use cases: who may sign in, and what each viewer may see.

Two kinds of viewer (docs/console.md): in sandbox mode, whoever holds the sandbox token sees
everything the sandbox holds; outside it, a user with the super_user role of an organisation
signs in with the organisation's credentials (the same check, backoff and audit as a SOAP call)
and sees what their roles allow, for their own organisation. The pages are an entry point: they
ask these functions, which use the same rules and ports as the SOAP services.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lrs_ws.domain.roles import Operation, Role, may
from lrs_ws.domain.sign_in import Backoff
from lrs_ws.services.auth import AccessDenied, Credentials, authenticate, record_refusal
from lrs_ws.services.ports import Caller, Organisation, UnitOfWork, User

SIGN_IN = "ConsoleSignIn"  # the audit's name for a console sign-in
SANDBOX_VIEWER = "sandbox console"  # the user name the audit records for the sandbox token's holder


@dataclass(frozen=True)
class Viewer:
    """Who is looking: `caller` None for the sandbox token's holder, who sees everything."""

    caller: Caller | None
    address: str = ""

    @property
    def sandbox(self) -> bool:
        return self.caller is None

    @property
    def name(self) -> str:
        if self.caller is None:
            return "sandbox token"
        return f"{self.caller.username} ({self.caller.organisation_name})"

    @property
    def organisation_id(self) -> int | None:
        """The organisation whose jobs and users the viewer sees; None: every one."""
        return None if self.caller is None else self.caller.organisation_id

    def may(self, operation: Operation) -> bool:
        """Whether the viewer may see what `operation` would show (the SOAP roles' rules)."""
        return self.caller is None or may(self.caller.roles, operation)

    @property
    def audit_username(self) -> str:
        return SANDBOX_VIEWER if self.caller is None else self.caller.username


def sign_in(uow: UnitOfWork, credentials: Credentials, now: datetime) -> Caller:
    """A super user's sign-in: AccessDenied as a SOAP call is refused (WSEC0003, 0005, 0006)."""
    caller = authenticate(uow, credentials, Operation.CONSOLE, now=now)
    uow.audit.record(
        at=now, organisation_id=caller.organisation_id, username=caller.username, operation=SIGN_IN, uln=None,
        outcome="signed in", address=credentials.address or None,
    )
    if caller.failed_sign_ins:
        uow.sign_ins.clear(caller.organisation_id, caller.address)
    uow.commit()
    return caller


def refused_sign_in(uow: UnitOfWork, credentials: Credentials, denied: AccessDenied, now: datetime, backoff: Backoff | None) -> None:
    """The refusal's audit row, and a wrong password counted towards the backoff (in a unit of
    work of its own, as for a refused SOAP call)."""
    record_refusal(
        uow, operation=SIGN_IN, credentials=credentials, organisation_id=denied.organisation_id, outcome=denied.outcome,
        now=now, wrong_password=denied.wrong_password, forget_failed_sign_ins=denied.forget_failed_sign_ins, backoff=backoff,
    )


def viewer_of(uow: UnitOfWork, user_id: int | None, address: str) -> Viewer | None:
    """The viewer of a session: the sandbox token's holder (`user_id` None), or the user as the
    register holds them now. None when the user is gone or no longer a super user: a role taken
    away ends their console sessions at once."""
    if user_id is None:
        return Viewer(None, address)
    user = uow.organisations.user_by_id(user_id)
    if user is None or not may(user.roles, Operation.CONSOLE):
        return None
    organisation = uow.organisations.by_id(user.organisation_id)
    if organisation is None or organisation.id is None or user.id is None:
        return None
    return Viewer(Caller(organisation.id, organisation.name, user.id, user.username, user.roles, address), address)


@dataclass(frozen=True)
class OrganisationView:
    organisation: Organisation
    users: tuple[User, ...]


def organisations(uow: UnitOfWork, viewer: Viewer) -> list[OrganisationView]:
    """The organisations the viewer sees (the sandbox: all; a super user: their own) with their
    users. No password hash leaves this function."""
    if viewer.organisation_id is None:
        shown = uow.organisations.all()
    else:
        own = uow.organisations.by_id(viewer.organisation_id)
        shown = [] if own is None else [own]
    return [
        OrganisationView(
            Organisation(o.id, o.name, o.ukprn, o.organisation_ref, password_hash=""),
            tuple(uow.organisations.users_of(o.id)) if o.id is not None else (),
        )
        for o in shown
    ]


def role_names(roles: frozenset[Role]) -> list[str]:
    return sorted(role.value for role in roles)
