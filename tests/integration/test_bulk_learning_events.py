"""Synthetic learning events and their bulk load."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func, select

from lrs_ws.adapters.bulk import (
    bulk_insert_learning_events,
    existing_ulns,
    seed_synthetic_learners,
    seed_synthetic_learning_events,
)
from lrs_ws.adapters.orm import learning_events
from lrs_ws.adapters.synthetic import REFERENCE_DATE, generate_learning_events
from lrs_ws.domain.learning_event import EVENT_FIELDS, TEXT_LENGTHS


def test_same_learners_and_seed_give_the_same_events() -> None:
    learners = [("9105106906", date(2007, 3, 14)), ("2083498614", date(1995, 8, 21))]
    first = list(generate_learning_events(learners, 8, seed=5, first_id=100))
    assert first == list(generate_learning_events(learners, 8, seed=5, first_id=100))
    assert first != list(generate_learning_events(learners, 8, seed=6, first_id=100))
    assert [e["id"] for e in first] == list(range(100, 100 + len(first)))


def test_generated_events_are_plausible() -> None:
    learners = [(f"{i:010d}", date(1980 + i % 30, 1 + i % 12, 1 + i % 28)) for i in range(1, 301)]
    events = list(generate_learning_events(learners, 6, seed=1))
    assert all(set(e) == {"uln", *EVENT_FIELDS} for e in events)
    assert {e["source"] for e in events} == {"ILR", "NPD", "AO"}
    assert 0 < sum(e["restriction"] == "1" for e in events) < len(events) // 20
    for e in events:
        for name, length in TEXT_LENGTHS.items():
            assert e[name] is None or len(e[name]) <= length, name
        if e["achievement_award_date"] is not None:
            assert e["achievement_award_date"] <= REFERENCE_DATE and e["status"] == "F" and e["grade"]
        else:
            assert e["status"] == "C" and e["grade"] is None
        assert e["participation_start_date"] <= REFERENCE_DATE
    per_learner = {}
    for e in events:
        per_learner[e["uln"]] = per_learner.get(e["uln"], 0) + 1
    assert max(per_learner.values()) == 6


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(learning_events)).scalar_one())


def test_seeding_events_for_new_learners_only_twice_without_collisions(engine: Engine) -> None:
    seed_synthetic_learners(engine, 60, seed=1, today=date(2026, 1, 5))
    before = existing_ulns(engine)
    first = seed_synthetic_learning_events(engine, per_learner=4, seed=1, chunk_size=50)
    assert count(engine) == first > 0
    seed_synthetic_learners(engine, 40, seed=1, today=date(2026, 1, 5))  # same seed: new ULNs all the same
    progress: list[int] = []
    second = seed_synthetic_learning_events(engine, per_learner=4, exclude=before, seed=1, on_progress=progress.append)
    assert sum(progress) == second and count(engine) == first + second
    with engine.connect() as connection:
        ids = list(connection.execute(select(learning_events.c.id).order_by(learning_events.c.id)).scalars())
        new_ulns = set(connection.execute(select(learning_events.c.uln).where(learning_events.c.id > first)).scalars())
    assert ids == list(range(1, first + second + 1))
    assert not new_ulns & before


def test_bulk_insert_fills_missing_columns(engine: Engine) -> None:
    assert bulk_insert_learning_events(engine, [{"id": 7, "uln": "9105106906", "source": "NPD"}], method="executemany") == 1
    with engine.connect() as connection:
        row = connection.execute(select(learning_events)).mappings().one()
    assert (row["restriction"], row["subject"], row["source"]) == ("0", None, "NPD")
