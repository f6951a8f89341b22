"""SQLAlchemy implementations of the learner and learning-event ports, over one Connection (one
transaction); those of the callers (organisations, sign-ins, the search and audit logs) are in
`lrs_ws.adapters.callers`.

Statements are Core statements, those of the request path built once (building one costs more
than running it), run on the unit of work's connection: rows map to the domain dataclasses in
`lrs_ws.adapters.mapping`, and no ORM session or identity map sits between a use case and the
optimistic lock.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Integer,
    RowMapping,
    Select,
    String,
    and_,
    bindparam,
    column,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    update,
    values,
)

from lrs_ws.adapters import mapping
from lrs_ws.adapters.fixed_select import FixedSelect
from lrs_ws.adapters.orm import (
    NO_OP_WRITE,
    learners,
    learning_events,
)
from lrs_ws.domain.learner import Learner, LearnerStatus
from lrs_ws.domain.learning_event import LearningEvent, event_order
from lrs_ws.domain.matching import MatchCandidate, NameCodes, may_match, name_codes

# Well under SQLite's bound-parameter limit and PostgreSQL's comfortable IN-list size.
_IN_CHUNK = 500
_SEARCH_CHUNK = 400  # searches read in one statement (7 parameters each)

# Columns an update may change: everything but the key and the creation date.
_UPDATABLE_COLUMNS = tuple(
    name for name in mapping.LEARNER_ROW_COLUMNS if name not in ("uln", "created_date", "version_number")
)


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# The statements a batch job runs for nearly every learner, built once (building one costs more
# than SQLite takes to run it).
_ULN_EXISTS = select(exists().where(learners.c.uln == bindparam("uln")))
_LINKED_LEARNERS = learners.alias("linked")
# Learners, each once for every ULN linked to it (through ix_learners_master_uln), or once with none.
_WITH_LINKED = select(learners, _LINKED_LEARNERS.c.uln.label("linked_uln")).outerjoin(
    _LINKED_LEARNERS, _LINKED_LEARNERS.c.master_uln == learners.c.uln
)
_GET = _WITH_LINKED.where(learners.c.uln.in_(bindparam("ulns", expanding=True)))
# The same for one ULN: no expanding IN, whose list SQLAlchemy renders into the SQL on every
# execution (a third of the cost of a find by ULN's read).
_GET_ONE = FixedSelect(_WITH_LINKED.where(learners.c.uln == bindparam("uln")))
# Through ix_learners_candidates, which holds every one of these columns.
# The date of birth comes as the driver gives it (SQLite: text), converted in
# mapping.row_to_candidate: SQLAlchemy's own date processing costs more than the rest of a row.
def _candidates(born: ColumnElement[bool]) -> Select:
    return select(
        *(
            type_coerce(learners.c[name], String).label(name) if name == "date_of_birth" else learners.c[name]
            for name in mapping.CANDIDATE_COLUMNS
        )
    ).where(born)


_CANDIDATES = _candidates(learners.c.date_of_birth.in_(bindparam("dates", expanding=True)))
# Only those whose names could match (domain.matching.may_match, in SQL; None never equals), or
# that have no codes. Evaluated on the index entries of those dates: a handful of rows come back.
def _codes_may_match(given: Any, family: Any, given_mac: Any, given_metaphone: Any, given_nysiis: Any) -> ColumnElement[bool]:
    """The learner's name codes against a search's (NameCodes' order), whether parameters or a
    joined search's columns."""
    return or_(
        learners.c.code_given.is_(None),
        learners.c.code_given == given,
        learners.c.code_family.in_([family, given]),
        learners.c.code_given_mac == given_mac,
        learners.c.code_given_metaphone == given_metaphone,
        learners.c.code_given_nysiis == given_nysiis,
    )


_MAY_MATCH = _codes_may_match(*(bindparam(name) for name in ("given", "family", "given_mac", "given_metaphone", "given_nysiis")))
_NAMED_CANDIDATES = _CANDIDATES.where(_MAY_MATCH)
# The same for the one or two dates of a search (its own, and its day/month swap when that is a
# date) as plain parameters: no expanding IN for SQLAlchemy to render on every execution.
_NAMED_CANDIDATES_ON = {
    days: FixedSelect(
        _candidates(
            learners.c.date_of_birth.in_([bindparam(f"day{index}", type_=learners.c.date_of_birth.type) for index in range(days)])
        ).where(_MAY_MATCH)
    )
    for days in (1, 2)
}

# Many searches' candidates at once (a batch job's chunk): each search (its key, a date, its name
# codes) joined to the learners of that date whose codes may match, as _NAMED_CANDIDATES does.
_SEARCH_COLUMNS = ("k", "d", "g", "f", "m", "p", "n")  # the key, the date, then NameCodes' order
_SEARCHES_PER_STATEMENT = 50  # searches are sent in statements for multiples of this many (padded)


@functools.lru_cache(maxsize=32)
def _searched_candidates(rows: int, lateral: bool) -> Select:
    """The statement for `rows` searches, parameters k0, d0, g0 ... (built once per size:
    building it costs more than running it). `lateral` (PostgreSQL): each search's learners
    read through the index by a subquery of its own; a plain join is planned as a hash join
    over every learner there. SQLite, which has no LATERAL, plans the join as a loop over the
    searches that reads the index (tests/integration/test_learner_repository.py)."""
    searches = (
        values(
            column("k", Integer), column("d", Date), *(column(name, String) for name in _SEARCH_COLUMNS[2:]), name="searches"
        )
        .data([tuple(bindparam(f"{name}{row}") for name in _SEARCH_COLUMNS) for row in range(rows)])
        .cte("searches")  # a CTE: SQLite names no columns of a VALUES in FROM
    )
    codes = (searches.c[name] for name in _SEARCH_COLUMNS[2:])
    same_date_and_codes = and_(learners.c.date_of_birth == searches.c.d, _codes_may_match(*codes))
    if not lateral:
        return select(searches.c.k, *_CANDIDATES.selected_columns).select_from(searches).join(learners, same_date_and_codes)
    # OFFSET 0 keeps the subquery a subquery (PostgreSQL would pull it up into a join).
    found = select(*_CANDIDATES.selected_columns).where(same_date_and_codes).offset(literal_column("0")).lateral("found")
    return select(searches.c.k, *found.c).select_from(searches).join(found, true())


_UPDATE = (
    update(learners)
    .where(learners.c.uln == bindparam("b_uln"), learners.c.version_number == bindparam("b_expected"))
    .values({name: bindparam(f"b_{name}") for name in (*_UPDATABLE_COLUMNS, "version_number")})
)


class SqlLearnerRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        # Candidates by date of birth, once remember_candidates() is on (batch jobs).
        self._remembered: dict[date, list[MatchCandidate]] | None = None
        self._remembered_days: dict[str, date] = {}  # ULN -> the date it is remembered under
        # And the candidates of searches (a date and name codes): those _NAMED_CANDIDATES reads.
        self._searched: dict[tuple[date, NameCodes], dict[str, MatchCandidate]] = {}
        self._searched_names: dict[date, set[NameCodes]] = {}  # date -> the names searched on it
        self._searched_in: dict[str, list[tuple[date, NameCodes]]] = {}  # ULN -> the searches it is in

    def get(self, uln: str) -> Learner | None:
        """The learner and the ULNs linked to it, in one query."""
        rows = _GET_ONE.mappings(self.connection, {"uln": uln})
        if not rows:
            return None
        return mapping.row_to_learner(rows[0], [row["linked_uln"] for row in rows if row["linked_uln"] is not None])

    def get_many(self, ulns: Iterable[str]) -> list[Learner]:
        """Learners in the order asked for; unknown ULNs are left out, repeats are repeated."""
        wanted = list(ulns)
        distinct = list(dict.fromkeys(wanted))
        if len(wanted) == 1:  # most often (a find's match): without the expanding IN
            learner = self.get(wanted[0])
            return [] if learner is None else [learner]
        rows: dict[str, RowMapping] = {}
        linked: dict[str, list[str]] = {}
        for chunk in _chunks(distinct):
            for row in self.connection.execute(_GET, {"ulns": list(chunk)}).mappings():
                rows[row["uln"]] = row
                if row["linked_uln"] is not None:
                    linked.setdefault(row["uln"], []).append(row["linked_uln"])
        return [
            mapping.row_to_learner(rows[uln], linked.get(uln, ()))
            for uln in wanted
            if uln in rows
        ]

    def add(self, learner: Learner) -> None:
        self.connection.execute(insert(learners), [mapping.learner_to_row(learner)])
        self._remember(learner)

    def update(self, learner: Learner, expected_version: int) -> bool:
        """Store `learner` only if the row is still at `expected_version` (one atomic UPDATE).

        The stored version becomes `learner.version_number` when the caller already bumped it,
        otherwise `expected_version + 1`: every update moves the version on. On success
        `learner.version_number` holds the stored version.
        """
        new_version = max(learner.version_number, expected_version + 1)
        row = mapping.learner_to_row(learner)
        values = {f"b_{name}": row[name] for name in _UPDATABLE_COLUMNS}
        values.update(b_version_number=new_version, b_uln=learner.uln, b_expected=expected_version)
        updated = self.connection.execute(_UPDATE, values).rowcount == 1
        if updated:
            learner.version_number = new_version
            self._remember(learner)
        return updated

    def uln_exists(self, uln: str) -> bool:
        return bool(self.connection.execute(_ULN_EXISTS, {"uln": uln}).scalar())

    def known_ulns(self, ulns: Iterable[str]) -> set[str]:
        """Those of `ulns` that were ever issued (retired ones included), by the primary key."""
        known: set[str] = set()
        for chunk in _chunks(list(dict.fromkeys(ulns))):
            known.update(self.connection.execute(select(learners.c.uln).where(learners.c.uln.in_(chunk))).scalars())
        return known

    def candidates_born_on(
        self, dates: Iterable[date], *, names: NameCodes | None = None, fresh: bool = False
    ) -> list[MatchCandidate]:
        """Only the matching columns, `WHERE date_of_birth IN (...)`, read from ix_learners_candidates alone;
        with `names`, only the learners whose name codes may match them (or who have none).

        Sorted by ULN in Python: an ORDER BY could tempt the planner to walk the primary key.
        With remember_candidates() on, dates already read are answered from memory (every
        learner of the date, whatever `names`), unless `fresh` and other writers could have
        committed since (PostgreSQL).
        """
        wanted = sorted(set(dates))
        if not wanted:
            return []
        remembered = self._remembered
        if remembered is None or (fresh and self._postgres):
            candidates = self._read_candidates(wanted, names)
        elif names is not None:  # the memory of searches: what the SQL would read, read once
            missing = [day for day in wanted if (day, names) not in self._searched]
            if missing:
                self._read_searches([(missing, names)])
            found: dict[str, MatchCandidate] = {}
            for day in wanted:
                found.update(self._searched[day, names])
            candidates = list(found.values())
        else:
            missing = [day for day in wanted if day not in remembered]
            for day in missing:
                remembered[day] = []
            for candidate in self._read_candidates(missing) if missing else ():
                remembered[candidate.date_of_birth].append(candidate)
                self._remembered_days[candidate.uln] = candidate.date_of_birth
            candidates = [candidate for day in wanted for candidate in remembered[day]]
        candidates.sort(key=lambda candidate: candidate.uln)
        return candidates

    def _read_candidates(self, dates: list[date], names: NameCodes | None = None) -> list[MatchCandidate]:
        rows: Sequence[Sequence[Any]]
        if names is None:
            rows = self.connection.execute(_CANDIDATES, {"dates": dates}).all()
        elif len(dates) in _NAMED_CANDIDATES_ON:
            values = {**names._asdict(), **{f"day{index}": day for index, day in enumerate(dates)}}
            rows = _NAMED_CANDIDATES_ON[len(dates)].rows(self.connection, values)
        else:
            rows = self.connection.execute(_NAMED_CANDIDATES, {"dates": dates, **names._asdict()}).all()
        return list(map(mapping.row_to_candidate, rows))

    def remember_candidates(self, searches: Iterable[tuple[Iterable[date], NameCodes]] = ()) -> None:
        """Until this unit of work ends, read each date of birth's candidates once, and each
        search's (dates and name codes) once: a batch job meets the same ones again and again.
        `searches`: those to read now, in one statement (a job's chunk of learners). This
        repository's own writes keep the memory current. On SQLite this takes the database's
        write lock now, so no other writer can commit while the memory is used; on PostgreSQL
        pass `fresh` where that matters."""
        if not self._postgres:
            self.connection.execute(NO_OP_WRITE)
        self._remembered = {}
        self._remembered_days = {}
        self._forget_searches()
        self._read_searches(searches)

    def _forget_searches(self) -> None:
        self._searched, self._searched_names, self._searched_in = {}, {}, {}

    def _read_searches(self, searches: Iterable[tuple[Iterable[date], NameCodes]]) -> None:
        """Read the candidates of searches not yet in the memory, _SEARCH_CHUNK at a time."""
        keys = list(dict.fromkeys((day, names) for dates, names in searches for day in dates))
        keys = [key for key in keys if key not in self._searched]
        for key in keys:
            day, names = key
            self._searched[key] = {}
            self._searched_names.setdefault(day, set()).add(names)
        for start in range(0, len(keys), _SEARCH_CHUNK):
            chunk = keys[start : start + _SEARCH_CHUNK]
            size = -(-len(chunk) // _SEARCHES_PER_STATEMENT) * _SEARCHES_PER_STATEMENT
            parameters: dict[str, object] = {}
            for number in range(size):
                search: tuple[object, ...] = (None,) * 7  # the padding: no date, so no learner
                if number < len(chunk):
                    day, names = chunk[number]
                    search = (start + number, day, *names)
                parameters.update(zip((f"{name}{number}" for name in _SEARCH_COLUMNS), search, strict=True))
            for found in self.connection.execute(_searched_candidates(size, self._postgres), parameters).all():
                key = keys[found[0]]
                candidate = mapping.row_to_candidate(found[1:])
                self._searched[key][candidate.uln] = candidate
                self._searched_in.setdefault(candidate.uln, []).append(key)

    def remembered_may_be_stale(self) -> bool:
        """Whether other writers can commit while candidates are remembered (PostgreSQL)."""
        return self._postgres

    @property
    def _postgres(self) -> bool:
        return self.connection.dialect.name == "postgresql"

    def _remember(self, learner: Learner) -> None:
        """Keep remembered candidates current after this repository added or changed `learner`."""
        remembered = self._remembered
        if remembered is None:
            return
        for key in self._searched_in.pop(learner.uln, ()):  # an update may change the names or the date
            self._searched[key].pop(learner.uln, None)
        searched = self._searched_names.get(learner.date_of_birth, ())
        if searched:
            codes = name_codes(learner.given_name, learner.family_name)
            candidate = mapping.learner_to_candidate(learner)
            for names in searched:
                if may_match(names, codes):  # what _NAMED_CANDIDATES would now read
                    self._searched[learner.date_of_birth, names][learner.uln] = candidate
                    self._searched_in.setdefault(learner.uln, []).append((learner.date_of_birth, names))
        old_day = self._remembered_days.pop(learner.uln, None)  # an update may change the date of birth
        if old_day is not None:
            remembered[old_day] = [candidate for candidate in remembered[old_day] if candidate.uln != learner.uln]
        if learner.date_of_birth in remembered:
            remembered[learner.date_of_birth].append(mapping.learner_to_candidate(learner))
            self._remembered_days[learner.uln] = learner.date_of_birth

    def merge(self, master_uln: str, retired_uln: str, today: date) -> None:
        """Retire `retired_uln` into `master_uln`.

        The retired learner gets status 2 and master_uln; learners earlier retired into it are
        re-pointed at the new master so links never chain; every changed row gets a new version
        and last_updated_date, the master included (its LinkedULNs changed).
        ValueError for the same ULN twice, an unknown ULN, a retired master or an already retired
        ULN; the caller's unit of work then rolls back.
        """
        if self._remembered is not None:  # links change: read again
            self._remembered, self._remembered_days = {}, {}
            self._forget_searches()
        if master_uln == retired_uln:
            raise ValueError(f"cannot merge ULN {master_uln} into itself")
        states = dict(
            self.connection.execute(
                select(learners.c.uln, learners.c.learner_status)
                .where(learners.c.uln.in_([master_uln, retired_uln]))
                .with_for_update()  # PostgreSQL: hold both rows until commit; SQLite ignores it
            ).all()
        )
        for uln in (master_uln, retired_uln):
            if uln not in states:
                raise ValueError(f"unknown ULN {uln}")
        if states[master_uln] == LearnerStatus.RETIRED.value:
            raise ValueError(f"master ULN {master_uln} is itself retired")
        if states[retired_uln] == LearnerStatus.RETIRED.value:
            raise ValueError(f"ULN {retired_uln} is already retired")

        bumped = {
            "version_number": learners.c.version_number + 1,
            "last_updated_date": today,
        }
        not_retired = learners.c.learner_status != LearnerStatus.RETIRED.value
        # Conditional updates: if another transaction retired either ULN in between, stop.
        retired = self.connection.execute(
            update(learners)
            .where(learners.c.uln == retired_uln, not_retired)
            .values(learner_status=LearnerStatus.RETIRED.value, master_uln=master_uln, **bumped)
        )
        master = self.connection.execute(
            update(learners).where(learners.c.uln == master_uln, not_retired).values(**bumped)
        )
        if retired.rowcount != 1 or master.rowcount != 1:
            raise ValueError(f"ULN {master_uln} or {retired_uln} was retired by another merge")
        self.connection.execute(
            update(learners)
            .where(learners.c.master_uln == retired_uln)
            .values(master_uln=master_uln, **bumped)
        )

    def count(self) -> int:
        return int(self.connection.execute(select(func.count()).select_from(learners)).scalar_one())


_EVENTS = select(learning_events).where(learning_events.c.uln.in_(bindparam("ulns", expanding=True)))
_EVENTS_OF_ONE = FixedSelect(select(learning_events).where(learning_events.c.uln == bindparam("uln")))  # most learners


# A learner (as _GET_ONE: once per linked ULN) with the events of its own ULN, each row of the
# learner's joined with one event (event columns prefixed `event_`, NULL when it has none).
_EVENT_LABELS = tuple(f"event_{name}" for name in mapping.EVENT_COLUMNS)
_EVENT_NAMES = tuple(zip(mapping.EVENT_COLUMNS, _EVENT_LABELS, strict=True))
_LEARNER_WITH_EVENTS = FixedSelect(
    _WITH_LINKED.add_columns(*(learning_events.c[name].label(label) for name, label in _EVENT_NAMES))
    .outerjoin(learning_events, learning_events.c.uln == learners.c.uln)
    .where(learners.c.uln == bindparam("uln"))
)


class SqlLearningEventRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def with_learner(self, uln: str) -> tuple[Learner | None, list[LearningEvent]]:
        """The learner (as LearnerRepository.get) and every event (sensitive ones too) of its own
        ULN, ordered as for_learners, in one query: a PLR read's, one round trip fewer. Events of
        the ULNs linked to it are not among them. (None, []) for an unknown ULN."""
        rows = _LEARNER_WITH_EVENTS.mappings(self.connection, {"uln": uln})
        if not rows:
            return None, []
        linked = list(dict.fromkeys(row["linked_uln"] for row in rows if row["linked_uln"] is not None))
        learner = mapping.row_to_learner(rows[0], linked)
        events: dict[int, LearningEvent] = {}
        for row in rows:
            if row["event_id"] is not None and row["event_id"] not in events:
                events[row["event_id"]] = mapping.row_to_event(
                    {name: row[label] for name, label in _EVENT_NAMES}
                )
        return learner, sorted(events.values(), key=event_order)

    def for_learners(self, ulns: Iterable[str]) -> list[LearningEvent]:
        """Every event (sensitive ones too) of these ULNs, oldest first, through ix_learning_events_uln.

        Sorted in Python (`event_order`): NULL dates sort differently on SQLite and PostgreSQL.
        """
        wanted = list(dict.fromkeys(ulns))
        if len(wanted) == 1:
            events = [mapping.row_to_event(row) for row in _EVENTS_OF_ONE.mappings(self.connection, {"uln": wanted[0]})]
            events.sort(key=event_order)
            return events
        events = []
        for chunk in _chunks(wanted):
            rows = self.connection.execute(_EVENTS, {"ulns": list(chunk)}).mappings()
            events.extend(mapping.row_to_event(row) for row in rows)
        events.sort(key=event_order)
        return events

    def next_ids(self, count: int) -> list[int]:
        """`count` IDs above every stored one (not reserved: a concurrent import may collide on the
        primary key, and then its transaction fails and writes nothing)."""
        top = self.connection.execute(select(func.max(learning_events.c.id))).scalar() or 0
        return list(range(top + 1, top + 1 + count))

    def existing_ids(self, ids: Iterable[int]) -> set[int]:
        found: set[int] = set()
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            found.update(self.connection.execute(select(learning_events.c.id).where(learning_events.c.id.in_(chunk))).scalars())
        return found

    def add_many(self, events: Iterable[LearningEvent]) -> list[int]:
        """Insert the events; those without an ID get one above both the stored IDs and the
        batch's own (`event.id` is set). Returns the IDs in order."""
        batch = list(events)
        missing = [event for event in batch if event.id is None]
        if missing:
            top = max((event.id for event in batch if event.id is not None), default=0)
            stored = self.next_ids(1)[0] - 1
            for offset, event in enumerate(missing, start=max(top, stored) + 1):
                event.id = offset
        rows = [mapping.event_to_row(event) for event in batch]
        for start in range(0, len(rows), _IN_CHUNK * 10):
            self.connection.execute(insert(learning_events), rows[start : start + _IN_CHUNK * 10])
        return [event.id for event in batch]  # type: ignore[misc]  # every event has its id now (above)

    def count(self) -> int:
        return int(self.connection.execute(select(func.count()).select_from(learning_events)).scalar_one())
