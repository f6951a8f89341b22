"""The learner's fields as xsd/learner.xsd orders and bounds them.

The domain names the fields (``lrs_ws.domain.learner.LearnerDetails``, in LearnerToRegister's
order); the XSD alone says in which order a batch learner carries them and how long each may
be. tests/contract/test_learner_fields.py holds the two to each other.
"""
from __future__ import annotations

from lrs_ws.contract.namespaces import LEARNER
from lrs_ws.contract.xsd_types import type_index

_INDEX = type_index()
_LEARNER = f"{{{LEARNER}}}Learner"

# MIAP BatchLearner in wire order, which is not LearnerToRegister's: the learners of
# submitBatchRegistration and the learner columns of an LRB file.
BATCH_FIELDS: tuple[str, ...] = _INDEX.child_names(f"{{{LEARNER}}}BatchLearner")

# The most characters each member of MIAP Learner may hold (its type's maxLength), by wire
# name; members without one (the dates, VersionNumber) are left out.
LEARNER_LENGTHS: dict[str, int] = {
    child.name: simple.max_length
    for child in _INDEX.children[_LEARNER]
    if (simple := _INDEX.simple.get(child.type)) is not None and simple.max_length is not None
}
