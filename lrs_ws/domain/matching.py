"""Find by demographics: exact, possible (with the rule that matched), too many, none.

Interface fixed for the other layers; the rules are filled in below.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum


@dataclass(frozen=True)
class SearchKey:
    """The five key demographics of a search, as sent."""

    given_name: str
    family_name: str
    date_of_birth: date
    gender: str
    post_code: str


@dataclass(frozen=True)
class MatchCandidate:
    """The few columns matching needs, read through an index (never whole learners)."""

    uln: str
    given_name: str
    family_name: str
    previous_family_name: str | None
    date_of_birth: date
    gender: str
    post_code: str
    master_uln: str | None = None  # set when this ULN is retired (linked to a master)


class MatchRule(str, Enum):
    EXACT = "exact"


class Outcome(str, Enum):
    EXACT = "exact"  # WSRC0004
    POSSIBLE = "possible"  # WSRC0003
    TOO_MANY = "too_many"  # WSRC0002
    NONE = "none"  # WSRC0001


@dataclass(frozen=True)
class Match:
    uln: str
    rule: MatchRule


@dataclass(frozen=True)
class MatchResult:
    outcome: Outcome
    matches: tuple[Match, ...] = ()
