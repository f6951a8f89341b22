"""What names an organisation to the LRS: its UKPRN and its OrganisationRef.

The rules are those of MIAPUKPRN and MIAPOrganisationRef (xsd/learner.xsd);
tests/contract/test_learner_fields.py holds the two to each other.
"""
from __future__ import annotations

import re

# A regular expression, for the patterns that embed it (the name of an LRB file).
UKPRN_PATTERN = "[0-9a-zA-Z]{8}"
ORGANISATION_REF_PATTERN = "[0-9a-zA-Z]{6}"
_UKPRN = re.compile(UKPRN_PATTERN)
_ORGANISATION_REF = re.compile(ORGANISATION_REF_PATTERN)


def is_ukprn(text: str) -> bool:
    """A UK Provider Reference Number: exactly 8 letters or digits."""
    return _UKPRN.fullmatch(text) is not None


def is_organisation_ref(text: str) -> bool:
    """An OrganisationRef: exactly 6 letters or digits."""
    return _ORGANISATION_REF.fullmatch(text) is not None
