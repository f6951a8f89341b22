"""The domain's table of the learner's fields (lrs_ws.domain.learner.LearnerDetails) and our XSD
(xsd/learner.xsd) held to each other: the same fields, in the same order where the XSD gives
one, the same dates, and room in the database for every value the XSD lets through."""
from __future__ import annotations

import dataclasses

import pytest

from lrs_ws.adapters.orm import LearnerRow
from lrs_ws.contract import type_index
from lrs_ws.contract.learner_fields import BATCH_FIELDS, LEARNER_LENGTHS
from lrs_ws.contract.namespaces import LEARNER
from lrs_ws.domain.batch import BATCH_DETAIL_FIELDS, BATCH_IDENTIFIERS
from lrs_ws.domain.learner import (
    DATE_FIELDS,
    DETAIL_FIELDS,
    FIELD_NAMES,
    WIRE_NAMES,
    LearnerDetails,
)
from lrs_ws.domain.organisation import ORGANISATION_REF_PATTERN, UKPRN_PATTERN

INDEX = type_index()
DETAIL_WIRE_NAMES = [WIRE_NAMES[name] for name in DETAIL_FIELDS]


def children(type_name: str):
    return INDEX.children[f"{{{LEARNER}}}{type_name}"]


def names(type_name: str) -> list[str]:
    return [child.name for child in children(type_name)]


def test_learner_to_register_is_the_domain_table_in_its_order():
    assert names("LearnerToRegister") == DETAIL_WIRE_NAMES
    assert tuple(field.name for field in dataclasses.fields(LearnerDetails)) == DETAIL_FIELDS
    assert {FIELD_NAMES[wire] for wire in DETAIL_WIRE_NAMES} == set(DETAIL_FIELDS)


def test_learner_to_update_adds_the_uln_and_the_version():
    assert names("LearnerToUpdate") == [*DETAIL_WIRE_NAMES, "ULN", "VersionNumber"]


def test_a_learner_found_carries_every_detail_in_the_same_order():
    found = names("Learner")
    assert [name for name in found if name in WIRE_NAMES.values()] == DETAIL_WIRE_NAMES


def test_a_batch_learner_is_the_identifiers_then_every_detail_in_its_own_order():
    assert tuple(names("BatchLearner")) == BATCH_FIELDS
    assert BATCH_FIELDS[: len(BATCH_IDENTIFIERS)] == BATCH_IDENTIFIERS
    assert sorted(BATCH_FIELDS[len(BATCH_IDENTIFIERS):]) == sorted(BATCH_DETAIL_FIELDS) == sorted(DETAIL_WIRE_NAMES)
    assert BATCH_FIELDS[len(BATCH_IDENTIFIERS):] != tuple(DETAIL_WIRE_NAMES)  # MIAP's own order, not LearnerToRegister's
    assert names("OutputBatchLearner") == [*BATCH_FIELDS, "ReturnCode"]


def test_what_the_domain_requires_the_xsd_requires_and_what_it_may_lack_the_xsd_may_leave_out():
    sent = {child.name: child for child in children("LearnerToRegister")}
    hints = {field.name: field for field in dataclasses.fields(LearnerDetails)}
    for name, field in hints.items():
        wire = WIRE_NAMES[name]
        if field.default is dataclasses.MISSING:
            assert sent[wire].mandatory, wire
        if field.default is None:
            assert not sent[wire].mandatory, wire


def test_the_date_fields_are_the_xsd_dates():
    dates = {
        FIELD_NAMES[child.name] for child in children("LearnerToRegister") if INDEX.simple[child.type].name.startswith("MIAPDate")
    }
    assert dates == DATE_FIELDS


@pytest.mark.parametrize("type_name", ["LearnerToRegister", "LearnerToUpdate", "BatchLearner", "Learner"])
def test_every_text_the_xsd_lets_through_fits_its_column(type_name):
    columns = LearnerRow.__table__.columns
    for child in children(type_name):
        field = FIELD_NAMES.get(child.name, {"ULN": "uln", "LearnerStatus": "learner_status", "TierLevel": "tier_level"}.get(child.name))
        if field is None or field in DATE_FIELDS:
            continue
        limit = INDEX.simple[child.type].max_length
        assert limit is not None and limit <= columns[field].type.length == LEARNER_LENGTHS[child.name], child.name


def test_the_learner_columns_follow_the_domain_table():
    columns = [column.name for column in LearnerRow.__table__.columns]
    assert columns[columns.index("title"):columns.index("notes") + 1] == list(DETAIL_FIELDS)


def test_the_organisation_rules_are_the_xsd_patterns():
    assert INDEX.simple[f"{{{LEARNER}}}MIAPUKPRN"].patterns == ((UKPRN_PATTERN,),)
    assert INDEX.simple[f"{{{LEARNER}}}MIAPOrganisationRef"].patterns == ((ORGANISATION_REF_PATTERN,),)
