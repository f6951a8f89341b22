"""Why a demographic search found nobody (or only possible matches): the learners on the register
closest to what was sent, and for each the key fields that did not agree.

What the sandbox's request journal shows beside a learnerByDemographics that answered WSRC0001
or WSRC0003: "date of birth differs: 2007-03-15 sent, 2007-03-14 held"; and beside a
learnerByULN that did not find its learner exactly, why not. Closeness is the number
of the five key fields that agree (compared as matching compares them), then how alike the names
are.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import DamerauLevenshtein

from lrs_ws.domain.matching import MatchCandidate, SearchKey
from lrs_ws.domain.normalise import name_key, post_code_key
from lrs_ws.domain.uln import is_valid_uln

NEAR_MISSES = 3  # shown for one search


@dataclass(frozen=True)
class NearMiss:
    uln: str
    differences: tuple[str, ...]  # the key fields that did not agree, in words (none: all five did)


def _differences(sent: SearchKey, held: MatchCandidate) -> tuple[str, ...]:
    checks = (
        ("given name", sent.given_name, held.given_name, name_key(sent.given_name) == name_key(held.given_name)),
        ("family name", sent.family_name, held.family_name, name_key(sent.family_name) == name_key(held.family_name)),
        ("date of birth", sent.date_of_birth.isoformat(), held.date_of_birth.isoformat(), sent.date_of_birth == held.date_of_birth),
        ("gender", sent.gender, held.gender, (sent.gender or "").strip() == (held.gender or "").strip()),
        ("postcode", sent.post_code, held.post_code, post_code_key(sent.post_code) == post_code_key(held.post_code)),
    )
    return tuple(f"{what} differs: {was_sent} sent, {was_held} held" for what, was_sent, was_held, same in checks if not same)


def _name_distance(sent: SearchKey, held: MatchCandidate) -> int:
    return DamerauLevenshtein.distance(name_key(sent.given_name), name_key(held.given_name)) + DamerauLevenshtein.distance(
        name_key(sent.family_name), name_key(held.family_name)
    )


def near_misses(sent: SearchKey, candidates: Iterable[MatchCandidate], limit: int = NEAR_MISSES) -> list[NearMiss]:
    """The `limit` candidates closest to `sent`, closest first (ties by ULN, so the answer is stable)."""
    ranked = sorted(
        ((len(differences := _differences(sent, held)), _name_distance(sent, held), held.uln, differences) for held in candidates),
    )
    return [NearMiss(uln, differences) for _, _, uln, differences in ranked[:limit]]


def why_not_found_by_uln(uln: str, given_name: str, family_name: str, held: tuple[str, str] | None) -> str:
    """Why a learnerByULN found nobody (or only a possible match): `held` is the (given, family)
    name of the learner holding the ULN, if one does."""
    if not is_valid_uln(uln):
        return f"{uln} is not a ULN: its check digit does not agree"
    if held is None:
        return f"no learner holds ULN {uln}"
    differences = [
        f"{what} differs: {sent} sent, {kept} held"
        for what, sent, kept in (("given name", given_name, held[0]), ("family name", family_name, held[1]))
        if name_key(sent) != name_key(kept)
    ]
    return f"the names sent do not agree with those held for ULN {uln}: {'; '.join(differences) or 'they differ in form only'}"
