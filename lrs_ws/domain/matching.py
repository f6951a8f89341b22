"""Find by demographics: exact, possible (with the rule that matched), too many, none.

Our reading of the LRS matching (the public material gives only search tips):

* Names are compared after `name_key` (case-fold, trim, collapse spaces); postcodes after
  `post_code_key` (upper case, no spaces); gender after trimming.
* EXACT: exactly one learner agrees on all five key fields. When several do, none of them is
  "the" learner, so all are listed as possible matches with rule EXACT.
* Possible: each learner is reported with the FIRST rule it meets, in `MatchRule` order
  (its definition order is the priority). Every rule except DAY_MONTH_SWAPPED needs the same
  date of birth; DAY_MONTH_SWAPPED needs the swapped one and equal names. Gender and postcode
  only matter for EXACT: the tips tell users to retry with old or default postcodes.
* TOO_MANY: more possible matches than `limit` (no learners returned). NONE: nothing matched.

Candidates are the learners born on `candidate_birth_dates` whose names could meet a rule
(`may_match` on their `NameCodes`), read from an index that leads with the date of birth;
retired candidates are matched like any other and the caller resolves them to their master.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import lru_cache
from typing import NamedTuple, Protocol

import jellyfish
from rapidfuzz.distance import DamerauLevenshtein

from lrs_ws.domain.normalise import (
    fold_accents,
    mac_key,
    name_key,
    post_code_key,
    squashed,
    swapped_day_month,
)

DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class SearchKey:
    """The five key demographics of a search, as sent."""

    given_name: str
    family_name: str
    date_of_birth: date
    gender: str
    post_code: str


def search_key_hash(key: SearchKey) -> str:
    """Stable key of the five normalised search fields (find-before-register).

    Searches that differ only in case, spacing or postcode spacing share a key.
    """
    parts = (
        name_key(key.given_name),
        name_key(key.family_name),
        key.date_of_birth.isoformat(),
        (key.gender or "").strip(),
        post_code_key(key.post_code),
    )
    # JSON, not a plain join, so a '|' inside a name cannot shift fields into one another.
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


class MatchCandidate(NamedTuple):
    """The few columns matching needs, read through an index (never whole learners). A named
    tuple: hundreds are built per search, straight from database rows."""

    uln: str
    given_name: str
    family_name: str
    previous_family_name: str | None
    date_of_birth: date
    gender: str
    post_code: str
    master_uln: str | None = None  # set when this ULN is retired (linked to a master)


class MatchRule(str, Enum):
    """Why a learner matched. Definition order is the priority order (first rule wins)."""

    EXACT = "exact"  # all five agree (names only, for match_names)
    SAME_NAMES_AND_BIRTH_DATE = "same_names_and_birth_date"  # gender and/or postcode differ
    NAMES_SWAPPED = "names_swapped"  # given and family name the other way round
    DAY_MONTH_SWAPPED = "day_month_swapped"  # same names, born 03-05 vs 05-03
    PREVIOUS_FAMILY_NAME = "previous_family_name"  # searched family name is the old one
    PUNCTUATION_VARIANT = "punctuation_variant"  # Smith-Jones / Smith Jones, O'Neil / ONeil
    MAC_MC_VARIANT = "mac_mc_variant"  # MacDonald / McDonald
    PHONETIC_NAMES = "phonetic_names"  # both names sound alike (Metaphone or NYSIIS)
    ONE_TYPO_NAME = "one_typo_name"  # one edit (incl. a transposition) across both names


RULE_PRIORITY: dict[MatchRule, int] = {rule: rank for rank, rule in enumerate(MatchRule)}


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


class HasNames(Protocol):
    """Anything with a learner's names: a MatchCandidate or a Learner (read-only is enough)."""

    @property
    def given_name(self) -> str: ...
    @property
    def family_name(self) -> str: ...
    @property
    def previous_family_name(self) -> str | None: ...


@dataclass(frozen=True)
class _NameForms:
    """Every normal form one name is compared in, computed once per distinct name."""

    key: str
    squashed: str
    mac: str
    metaphone: str
    nysiis: str

    def sounds_like(self, other: _NameForms) -> bool:
        # Empty codes (names without letters) must not count as "sounding alike".
        return (bool(self.metaphone) and self.metaphone == other.metaphone) or (
            bool(self.nysiis) and self.nysiis == other.nysiis
        )


@lru_cache(maxsize=65536)  # names repeat a lot across candidates and requests
def _forms(name: str | None) -> _NameForms:
    flat = squashed(name)
    plain = fold_accents(flat)
    return _NameForms(
        key=name_key(name),
        squashed=flat,
        mac=mac_key(name),
        metaphone=jellyfish.metaphone(plain) if plain else "",
        nysiis=jellyfish.nysiis(plain) if plain else "",
    )


def _name_rule(
    given: _NameForms, family: _NameForms, candidate_given: str, candidate_family: str,
    candidate_previous: str | None,
) -> MatchRule | None:
    """The first name rule the candidate's names meet (EXACT when equal), or None."""
    c_given, c_family = _forms(candidate_given), _forms(candidate_family)
    if given.key == c_given.key and family.key == c_family.key:
        return MatchRule.EXACT
    if given.key == c_family.key and family.key == c_given.key:
        return MatchRule.NAMES_SWAPPED
    if (
        candidate_previous
        and given.key == c_given.key
        and family.key == _forms(candidate_previous).key
    ):
        return MatchRule.PREVIOUS_FAMILY_NAME
    if given.squashed == c_given.squashed and family.squashed == c_family.squashed:
        return MatchRule.PUNCTUATION_VARIANT
    if given.mac == c_given.mac and family.mac == c_family.mac:
        return MatchRule.MAC_MC_VARIANT
    if given.sounds_like(c_given) and family.sounds_like(c_family):
        return MatchRule.PHONETIC_NAMES
    typos = DamerauLevenshtein.distance(given.squashed, c_given.squashed, score_cutoff=1)
    if typos <= 1:
        typos += DamerauLevenshtein.distance(family.squashed, c_family.squashed, score_cutoff=1)
        if typos <= 1:
            return MatchRule.ONE_TYPO_NAME
    return None


class NameCodes(NamedTuple):
    """The normal forms of a learner's names that every name rule needs one of to agree: stored
    beside the names, they let a search read only the learners it could match (`may_match`)."""

    given: str  # squashed given name
    family: str  # squashed family name
    given_mac: str
    given_metaphone: str | None  # None: no letters to sound
    given_nysiis: str | None


def name_codes(given_name: str | None, family_name: str | None) -> NameCodes:
    given, family = _forms(given_name), _forms(family_name)
    return NameCodes(given.squashed, family.squashed, given.mac, given.metaphone or None, given.nysiis or None)


def may_match(search: NameCodes, candidate: NameCodes) -> bool:
    """False only when no rule of `match` can hold between these names, whatever the dates.

    Why each rule needs one of these to agree: EXACT, SAME_NAMES_AND_BIRTH_DATE, PREVIOUS_FAMILY_NAME,
    DAY_MONTH_SWAPPED and PUNCTUATION_VARIANT need equal given names once squashed; NAMES_SWAPPED
    the candidate's family name equal to the given name sent; MAC_MC_VARIANT equal given names
    in Mac form; PHONETIC_NAMES given names that sound alike; ONE_TYPO_NAME at most one edit
    across both names, so one of them is equal once squashed. The repository's SQL is this test.
    """
    return (
        candidate.given == search.given
        or candidate.family in (search.family, search.given)
        or candidate.given_mac == search.given_mac
        or (search.given_metaphone is not None and candidate.given_metaphone == search.given_metaphone)
        or (search.given_nysiis is not None and candidate.given_nysiis == search.given_nysiis)
    )


def candidate_birth_dates(dob: date) -> set[date]:
    """The dates of birth whose learners can match a search: dob and its day/month swap."""
    swapped = swapped_day_month(dob)
    return {dob} if swapped is None else {dob, swapped}


def match_names(given: str, family: str, candidate: HasNames) -> MatchRule | None:
    """How the names sent agree with a learner's (find by ULN): EXACT, a name rule, or None."""
    return _name_rule(
        _forms(given), _forms(family),
        candidate.given_name, candidate.family_name, candidate.previous_family_name,
    )


def match(
    search: SearchKey, candidates: Iterable[MatchCandidate], limit: int = DEFAULT_LIMIT
) -> MatchResult:
    """Classify candidates against a search; see the module docstring for the rules."""
    given, family = _forms(search.given_name), _forms(search.family_name)
    dob = search.date_of_birth
    swapped_dob = swapped_day_month(dob)
    gender = (search.gender or "").strip()
    post_code = post_code_key(search.post_code)

    best: dict[str, MatchRule] = {}  # per ULN, in case a candidate is passed twice
    for c in candidates:
        if c.date_of_birth == dob:
            rule = _name_rule(given, family, c.given_name, c.family_name, c.previous_family_name)
            if rule is MatchRule.EXACT and (
                (c.gender or "").strip() != gender or post_code_key(c.post_code) != post_code
            ):
                rule = MatchRule.SAME_NAMES_AND_BIRTH_DATE
        elif swapped_dob is not None and c.date_of_birth == swapped_dob:
            same_names = given.key == _forms(c.given_name).key and (
                family.key == _forms(c.family_name).key
            )
            rule = MatchRule.DAY_MONTH_SWAPPED if same_names else None
        else:
            continue  # not in the blocking dates: never a match
        if rule is not None and (
            c.uln not in best or RULE_PRIORITY[rule] < RULE_PRIORITY[best[c.uln]]
        ):
            best[c.uln] = rule

    exact = [uln for uln, rule in best.items() if rule is MatchRule.EXACT]
    if len(exact) == 1:
        return MatchResult(Outcome.EXACT, (Match(exact[0], MatchRule.EXACT),))
    if not best:
        return MatchResult(Outcome.NONE)
    if len(best) > limit:
        return MatchResult(Outcome.TOO_MANY)
    ordered = sorted(best.items(), key=lambda item: (RULE_PRIORITY[item[1]], item[0]))
    return MatchResult(Outcome.POSSIBLE, tuple(Match(uln, rule) for uln, rule in ordered))
