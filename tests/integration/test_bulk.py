"""The synthetic learner generator and the bulk loader."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Connection, Engine, func, select

from lrs_ws.adapters.bulk import (
    LoadMethod,
    bulk_insert_learners,
    existing_ulns,
    insert_learners,
    seed_synthetic_learners,
)
from lrs_ws.adapters.orm import learners
from lrs_ws.adapters.repository import SqlLearnerRepository
from lrs_ws.adapters.synthetic import (
    FEMALE_GIVEN_NAMES,
    MALE_GIVEN_NAMES,
    REFERENCE_DATE,
    generate_learners,
)
from lrs_ws.domain.learner import DETAIL_FIELDS, LearnerStatus
from lrs_ws.domain.uln import is_valid_uln

# learner.xsd MIAPPostCode (the non-BFPO form), anchored.
POST_CODE = re.compile(r"[A-Z]{1,2}[0-9R][0-9A-Z]? [0-9][ABDEFGHJLNPQRSTUWXYZ]{2}")


def test_same_seed_and_count_give_the_same_learners() -> None:
    assert list(generate_learners(500, seed=42)) == list(generate_learners(500, seed=42))
    assert list(generate_learners(50, seed=42)) != list(generate_learners(50, seed=43))
    # A prefix of a longer run is the shorter run.
    assert list(generate_learners(100, seed=42)) == list(generate_learners(500, seed=42))[:100]


def test_generated_learners_are_plausible() -> None:
    rows = list(generate_learners(5000, seed=1))
    ulns = [row["uln"] for row in rows]
    assert len(set(ulns)) == len(ulns)
    assert all(is_valid_uln(uln) for uln in ulns)
    assert all(set(row) == {"uln", *DETAIL_FIELDS} for row in rows)
    for row in rows:
        if row["gender"] == "1":
            assert row["given_name"] in MALE_GIVEN_NAMES
        elif row["gender"] == "2":
            assert row["given_name"] in FEMALE_GIVEN_NAMES
        assert POST_CODE.fullmatch(row["last_known_post_code"]), row["last_known_post_code"]
        age = (REFERENCE_DATE - row["date_of_birth"]).days / 365.25
        assert 13.9 < age < 70.1
        assert all(len(row[name]) <= 35 for name in ("given_name", "family_name"))
        assert len(row["last_known_address_line1"]) <= 50
    genders = [row["gender"] for row in rows]
    assert genders.count("1") > 2000 and genders.count("2") > 2000 and 0 < genders.count("9") + genders.count("0") < 250
    young = sum(1 for row in rows if (REFERENCE_DATE - row["date_of_birth"]).days < 26 * 365.25)
    assert young > 0.7 * len(rows)
    assert sum(row["ability_to_share"] == "1" for row in rows) > 0.8 * len(rows)


def test_generator_avoids_ulns_already_taken() -> None:
    first_run = [row["uln"] for row in generate_learners(200, seed=5)]
    taken = set(first_run[:100])
    second_run = [row["uln"] for row in generate_learners(200, seed=5, taken=taken.__contains__)]
    assert not taken & set(second_run)


@pytest.mark.parametrize("method", ["auto", "executemany"])  # auto is COPY on PostgreSQL
def test_bulk_insert_loads_every_row_in_chunks_with_progress(
    engine: Engine, connections: Callable[[], Connection], method: LoadMethod
) -> None:
    progress: list[int] = []
    rows = list(generate_learners(1234, seed=9))
    inserted = bulk_insert_learners(
        engine, iter(rows), chunk_size=500, today=date(2026, 9, 1), on_progress=progress.append, method=method
    )

    assert inserted == 1234
    assert progress == [500, 500, 234]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(learners)).scalar_one() == 1234
    with connections() as conn:
        loaded = SqlLearnerRepository(conn).get(rows[700]["uln"])
    assert loaded is not None
    assert {name: getattr(loaded, name) for name in ("uln", *DETAIL_FIELDS)} == rows[700]
    assert (loaded.created_date, loaded.last_updated_date, loaded.version_number) == (date(2026, 9, 1), date(2026, 9, 1), 1)
    assert loaded.learner_status is LearnerStatus.ACTIVE and loaded.tier_level == "0"


def test_seeding_twice_with_the_same_seed_adds_new_ulns(engine: Engine) -> None:
    assert seed_synthetic_learners(engine, 300, seed=1, today=date(2026, 1, 5)) == 300
    assert insert_learners(engine, [], progress=lambda n: None, today=date(2026, 1, 5)) == 0
    assert seed_synthetic_learners(engine, 300, seed=1, today=date(2026, 1, 5)) == 300
    assert len(existing_ulns(engine)) == 600


def test_copy_is_refused_where_it_does_not_exist(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        pytest.skip("COPY exists on PostgreSQL")
    with pytest.raises(ValueError, match="COPY needs PostgreSQL"):
        bulk_insert_learners(engine, generate_learners(1), method="copy", today=date(2026, 1, 5))
