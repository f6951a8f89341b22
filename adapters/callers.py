"""Who calls, and what their calls leave behind: organisations and their users, wrong passwords
by address, the search log and the audit log (SQLAlchemy implementations of those ports, over
the unit of work's Connection; see lrs_ws.adapters.repository for the learners and events)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from lrs_ws.adapters import mapping
from lrs_ws.adapters.deferred_writes import AUDIT_INSERT, SEARCH_INSERT, DeferredWrites
from lrs_ws.adapters.fixed_select import FixedSelect
from lrs_ws.adapters.orm import audit_events, organisations, recent_searches, sign_in_failures, users
from lrs_ws.domain.sign_in import FailedSignIns
from lrs_ws.services.ports import AuditEntry, Organisation, User


def _with_user(named_column) -> Select:
    """An organisation by one of its names, with its user and its wrong passwords from one address."""
    user_columns = [users.c.id.label("user_id"), users.c.username, users.c.roles]
    failure_columns = [sign_in_failures.c.failures, sign_in_failures.c.last_failure_at, sign_in_failures.c.blocked_until]
    return (
        select(organisations, *user_columns, *failure_columns)
        .outerjoin(users, and_(users.c.organisation_id == organisations.c.id, users.c.username == bindparam("username")))
        .outerjoin(
            sign_in_failures,
            and_(sign_in_failures.c.organisation_id == organisations.c.id, sign_in_failures.c.address == bindparam("address")),
        )
        .where(named_column == bindparam("named"))
    )


# Built once: building a statement per request costs more than running it.
_WITH_USER_BY_UKPRN = FixedSelect(_with_user(organisations.c.ukprn))
_WITH_USER_BY_REFERENCE = FixedSelect(_with_user(organisations.c.organisation_ref))


class SqlOrganisationRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def by_ukprn(self, ukprn: str) -> Organisation | None:
        return self._one(organisations.c.ukprn == ukprn)

    def by_reference(self, organisation_ref: str) -> Organisation | None:
        return self._one(organisations.c.organisation_ref == organisation_ref)

    def by_id(self, organisation_id: int) -> Organisation | None:
        return self._one(organisations.c.id == organisation_id)

    def _one(self, condition: ColumnElement[bool]) -> Organisation | None:
        row = self.connection.execute(select(organisations).where(condition)).mappings().first()
        return None if row is None else mapping.row_to_organisation(row)

    def with_user(
        self, *, ukprn: str | None, organisation_ref: str | None, username: str, address: str = ""
    ) -> tuple[Organisation | None, User | None, FailedSignIns | None]:
        """The organisation named by UKPRN (else OrganisationRef), its user, and its wrong
        passwords from `address`, in one query: every request runs this."""
        query, named = (_WITH_USER_BY_UKPRN, ukprn) if ukprn else (_WITH_USER_BY_REFERENCE, organisation_ref)
        rows = query.mappings(self.connection, {"named": named, "username": username, "address": address})
        if not rows:
            return None, None, None
        row = rows[0]
        organisation = mapping.row_to_organisation(row)
        failed = None if row["failures"] is None else _failed_sign_ins(row)
        if row["user_id"] is None:
            return organisation, None, failed
        user = mapping.row_to_user({**row, "id": row["user_id"], "organisation_id": row["id"]})
        return organisation, user, failed

    def user(self, organisation_id: int, username: str) -> User | None:
        query = select(users).where(
            and_(users.c.organisation_id == organisation_id, users.c.username == username)
        )
        row = self.connection.execute(query).mappings().first()
        return None if row is None else mapping.row_to_user(row)

    def all(self) -> list[Organisation]:
        rows = self.connection.execute(select(organisations).order_by(organisations.c.name, organisations.c.id)).mappings()
        return [mapping.row_to_organisation(row) for row in rows]

    def users_of(self, organisation_id: int) -> list[User]:
        query = select(users).where(users.c.organisation_id == organisation_id).order_by(users.c.username)
        return [mapping.row_to_user(row) for row in self.connection.execute(query).mappings()]

    def user_by_id(self, user_id: int) -> User | None:
        row = self.connection.execute(select(users).where(users.c.id == user_id)).mappings().first()
        return None if row is None else mapping.row_to_user(row)

    def add(self, organisation: Organisation) -> Organisation:
        """Insert and return a copy carrying the new id."""
        new_id = self.connection.execute(
            insert(organisations).values(**mapping.organisation_to_row(organisation)).returning(organisations.c.id)
        ).scalar_one()
        return Organisation(
            id=new_id,
            name=organisation.name,
            ukprn=organisation.ukprn,
            organisation_ref=organisation.organisation_ref,
            password_hash=organisation.password_hash,
        )

    def add_user(self, user: User) -> User:
        """Insert and return a copy carrying the new id."""
        new_id = self.connection.execute(
            insert(users).values(**mapping.user_to_row(user)).returning(users.c.id)
        ).scalar_one()
        return User(id=new_id, organisation_id=user.organisation_id, username=user.username, roles=frozenset(user.roles))


class SqlSearchLog:
    def __init__(self, connection: Connection, deferred: DeferredWrites | None = None) -> None:
        self.connection = connection
        self.deferred = deferred

    def record(self, organisation_id: int, search_key: str, response_code: str, at: datetime, *, deferred: bool = False) -> None:
        """In this unit of work's transaction; with `deferred`, by the process's DeferredWrites
        when there is one."""
        row = {
            "organisation_id": organisation_id, "search_key": search_key, "response_code": response_code,
            "searched_at": mapping.to_naive_utc(at),
        }
        if deferred and self.deferred is not None:
            self.deferred.add(SEARCH_INSERT, row)
            return
        self.connection.execute(SEARCH_INSERT, row)

    def recent(self, organisation_id: int, search_key: str, since: datetime) -> list[str]:
        """Response codes of matching searches at or after `since`, newest first."""
        query = (
            select(recent_searches.c.response_code)
            .where(
                recent_searches.c.organisation_id == organisation_id,
                recent_searches.c.search_key == search_key,
                recent_searches.c.searched_at >= mapping.to_naive_utc(since),
            )
            .order_by(recent_searches.c.searched_at.desc(), recent_searches.c.id.desc())
        )
        return list(self.connection.execute(query).scalars())


def _failed_sign_ins(row) -> FailedSignIns:
    return FailedSignIns(
        count=row["failures"],
        last_at=mapping.from_naive_utc(row["last_failure_at"]),
        blocked_until=mapping.from_naive_utc(row["blocked_until"]),
    )


class SqlSignInLog:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _pair(self, organisation_id: int, address: str):
        return and_(sign_in_failures.c.organisation_id == organisation_id, sign_in_failures.c.address == address)

    def get(self, organisation_id: int, address: str) -> FailedSignIns | None:
        query = select(sign_in_failures).where(self._pair(organisation_id, address))
        row = self.connection.execute(query).mappings().first()
        return None if row is None else _failed_sign_ins(row)

    def save(self, organisation_id: int, address: str, state: FailedSignIns) -> None:
        """Insert or replace the pair's row (callers hold the pair's lock: no upsert race)."""
        values = {
            "failures": state.count,
            "last_failure_at": mapping.to_naive_utc(state.last_at),
            "blocked_until": None if state.blocked_until is None else mapping.to_naive_utc(state.blocked_until),
        }
        updated = self.connection.execute(
            update(sign_in_failures).where(self._pair(organisation_id, address)).values(**values)
        )
        if updated.rowcount == 0:
            self.connection.execute(insert(sign_in_failures).values(organisation_id=organisation_id, address=address, **values))

    def clear(self, organisation_id: int, address: str) -> None:
        self.connection.execute(delete(sign_in_failures).where(self._pair(organisation_id, address)))


class SqlAuditLog:
    def __init__(self, connection: Connection, deferred: DeferredWrites | None = None) -> None:
        self.connection = connection
        self.deferred = deferred

    def record(
        self,
        *,
        at: datetime,
        organisation_id: int | None,
        username: str | None,
        operation: str,
        uln: str | None,
        outcome: str,
        address: str | None = None,
        deferred: bool = False,
    ) -> None:
        """In this unit of work's transaction; with `deferred` (finds), by the process's
        DeferredWrites when there is one."""
        row = {
            "at": mapping.to_naive_utc(at), "organisation_id": organisation_id, "username": username,
            "operation": operation, "uln": uln, "outcome": outcome, "address": address,
        }
        if deferred and self.deferred is not None:
            self.deferred.add(AUDIT_INSERT, row)
            return
        self.connection.execute(AUDIT_INSERT, row)

    def entries(
        self, ulns: Iterable[str], operations: Iterable[str] | None, offset: int, limit: int
    ) -> tuple[int, list[AuditEntry]]:
        condition: ColumnElement[bool] = audit_events.c.uln.in_(list(ulns))
        if operations is not None:
            condition = and_(condition, audit_events.c.operation.in_(list(operations)))
        total = self.connection.execute(select(func.count()).select_from(audit_events).where(condition)).scalar_one()
        query = (
            select(
                audit_events.c.at, audit_events.c.operation, organisations.c.name, audit_events.c.username,
                audit_events.c.uln, audit_events.c.address, audit_events.c.outcome, audit_events.c.organisation_id,
            )
            .select_from(audit_events.outerjoin(organisations, organisations.c.id == audit_events.c.organisation_id))
            .where(condition)
            .order_by(audit_events.c.at.desc(), audit_events.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
        page = [
            AuditEntry(mapping.from_naive_utc(at), operation, name, username, uln, address, outcome, organisation_id)
            for at, operation, name, username, uln, address, outcome, organisation_id in self.connection.execute(query)
        ]
        return int(total), page
