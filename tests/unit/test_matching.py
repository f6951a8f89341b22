from datetime import date
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrs_ws.domain.matching import (
    RULE_PRIORITY,
    Match,
    MatchCandidate,
    MatchResult,
    MatchRule,
    Outcome,
    SearchKey,
    candidate_birth_dates,
    match,
    match_names,
    may_match,
    name_codes,
)

DOB = date(2001, 3, 5)
SEARCH = SearchKey("Mary", "Smith-Jones", DOB, "2", "SW1A 1AA")
_ulns = count(1_000_000_001)


def candidate(
    given_name: str = "Mary",
    family_name: str = "Smith-Jones",
    date_of_birth: date = DOB,
    gender: str = "2",
    post_code: str = "SW1A 1AA",
    previous_family_name: str | None = None,
    uln: str | None = None,
    master_uln: str | None = None,
) -> MatchCandidate:
    return MatchCandidate(
        uln=uln or str(next(_ulns)),
        given_name=given_name,
        family_name=family_name,
        previous_family_name=previous_family_name,
        date_of_birth=date_of_birth,
        gender=gender,
        post_code=post_code,
        master_uln=master_uln,
    )


def only_rule(search: SearchKey, c: MatchCandidate) -> MatchRule | None:
    result = match(search, [c])
    assert len(result.matches) <= 1
    return result.matches[0].rule if result.matches else None


def test_rules_are_in_documented_priority_order():
    assert list(MatchRule) == [
        MatchRule.EXACT,
        MatchRule.SAME_NAMES_AND_BIRTH_DATE,
        MatchRule.NAMES_SWAPPED,
        MatchRule.DAY_MONTH_SWAPPED,
        MatchRule.PREVIOUS_FAMILY_NAME,
        MatchRule.PUNCTUATION_VARIANT,
        MatchRule.MAC_MC_VARIANT,
        MatchRule.PHONETIC_NAMES,
        MatchRule.ONE_TYPO_NAME,
    ]
    assert [RULE_PRIORITY[r] for r in MatchRule] == list(range(len(MatchRule)))


def exact(uln: str) -> MatchResult:
    return MatchResult(Outcome.EXACT, (Match(uln, MatchRule.EXACT),))


def test_exact_match_after_normalisation():
    c = candidate(given_name=" MARY ", family_name="smith-jones", post_code="sw1a1aa")
    assert match(SEARCH, [c]) == exact(c.uln)


def test_one_exact_match_wins_over_possible_ones():
    the_one = candidate()
    possible = candidate(given_name="Marie")
    assert match(SEARCH, [possible, the_one]) == exact(the_one.uln)


def test_several_exact_matches_are_possible_matches():
    a, b = candidate(uln="2000000002"), candidate(uln="2000000001")
    other = candidate(uln="1000000001", post_code="LS1 1AA")
    result = match(SEARCH, [a, other, b])
    assert result.outcome is Outcome.POSSIBLE
    assert result.matches == (
        Match("2000000001", MatchRule.EXACT),
        Match("2000000002", MatchRule.EXACT),
        Match("1000000001", MatchRule.SAME_NAMES_AND_BIRTH_DATE),
    )


@pytest.mark.parametrize(
    "changes",
    [{"post_code": "M1 1AE"}, {"gender": "9"}, {"gender": "1", "post_code": "ZZ99 9ZZ"}],
)
def test_same_names_and_birth_date_elsewhere(changes):
    assert only_rule(SEARCH, candidate(**changes)) is MatchRule.SAME_NAMES_AND_BIRTH_DATE


def test_names_swapped():
    search = SearchKey("Hussain", "Ahmed", DOB, "1", "B11 1AA")
    c = candidate(given_name="Ahmed", family_name="Hussain", gender="1", post_code="B11 1AA")
    assert only_rule(search, c) is MatchRule.NAMES_SWAPPED


def test_day_month_swapped():
    c = candidate(date_of_birth=date(2001, 5, 3))
    assert only_rule(SEARCH, c) is MatchRule.DAY_MONTH_SWAPPED


def test_day_month_swapped_needs_the_same_names():
    c = candidate(given_name="Marie", date_of_birth=date(2001, 5, 3))
    assert match(SEARCH, [c]).outcome is Outcome.NONE


def test_previous_family_name():
    search = SearchKey("Mary", "Brown", DOB, "2", "SW1A 1AA")
    c = candidate(family_name="Smith-Jones", previous_family_name="brown")
    assert only_rule(search, c) is MatchRule.PREVIOUS_FAMILY_NAME


@pytest.mark.parametrize(
    "searched, stored",
    [("Smith Jones", "Smith-Jones"), ("SmithJones", "Smith-Jones"), ("ONeil", "O'Neil")],
)
def test_punctuation_variants(searched, stored):
    search = SearchKey("Mary", searched, DOB, "2", "SW1A 1AA")
    assert only_rule(search, candidate(family_name=stored)) is MatchRule.PUNCTUATION_VARIANT


def test_mac_mc_variant():
    search = SearchKey("Iain", "McDonald", DOB, "1", "IV1 1AA")
    c = candidate(given_name="Iain", family_name="MacDonald", gender="1", post_code="IV1 1AA")
    assert only_rule(search, c) is MatchRule.MAC_MC_VARIANT


@pytest.mark.parametrize(
    "searched, stored",
    [
        (("Steven", "Thompson"), ("Stephen", "Thompson")),
        (("Kathryn", "Smith"), ("Catherine", "Smyth")),
        (("Shaun", "Philips"), ("Sean", "Phillips")),
    ],
)
def test_phonetic_names(searched, stored):
    search = SearchKey(*searched, DOB, "2", "SW1A 1AA")
    c = candidate(given_name=stored[0], family_name=stored[1])
    assert only_rule(search, c) is MatchRule.PHONETIC_NAMES


@pytest.mark.parametrize(
    "searched, stored",
    [
        (("Mary", "Smtih-Jones"), ("Mary", "Smith-Jones")),  # transposition
        (("Marty", "Smith-Jones"), ("Mary", "Smith-Jones")),  # insertion
        (("Mary", "Hartis"), ("Mary", "Harris")),  # substitution
    ],
)
def test_one_typo_name(searched, stored):
    search = SearchKey(*searched, DOB, "2", "SW1A 1AA")
    c = candidate(given_name=stored[0], family_name=stored[1])
    assert only_rule(search, c) is MatchRule.ONE_TYPO_NAME


def test_typos_that_sound_alike_are_phonetic():
    search = SearchKey("Marry", "Kowalsky", DOB, "2", "SW1A 1AA")
    c = candidate(given_name="Mary", family_name="Kowalski")
    assert only_rule(search, c) is MatchRule.PHONETIC_NAMES


def test_two_typos_are_not_a_match():
    search = SearchKey("Marty", "Smtih-Jones", DOB, "2", "SW1A 1AA")
    c = candidate(given_name="Mary", family_name="Smith-Jones")
    assert match(search, [c]).outcome is Outcome.NONE


def test_name_variants_need_the_same_birth_date():
    c = candidate(family_name="Smith Jones", date_of_birth=date(2001, 3, 6))
    assert match(SEARCH, [c]).outcome is Outcome.NONE
    swapped = candidate(family_name="Smith Jones", date_of_birth=date(2001, 5, 3))
    assert match(SEARCH, [swapped]).outcome is Outcome.NONE


def test_unrelated_learner_born_the_same_day_is_no_match():
    assert match(SEARCH, [candidate(given_name="Oliver", family_name="Patel")]).outcome is Outcome.NONE


def test_none_without_candidates():
    assert match(SEARCH, []) == match(SEARCH, iter(()))
    assert match(SEARCH, []).outcome is Outcome.NONE
    assert match(SEARCH, []).matches == ()


def test_too_many_possible_matches():
    many = [candidate(post_code=f"LS{i} 1AA") for i in range(4)]
    assert match(SEARCH, many, limit=4).outcome is Outcome.POSSIBLE
    result = match(SEARCH, many, limit=3)
    assert result.outcome is Outcome.TOO_MANY
    assert result.matches == ()


def test_single_exact_match_is_not_limited():
    many = [candidate(post_code=f"LS{i} 1AA") for i in range(20)] + [candidate()]
    assert match(SEARCH, many, limit=10).outcome is Outcome.EXACT


def test_possible_matches_ordered_by_rule_then_uln():
    cands = [
        candidate(uln="3000000003", family_name="Smith Jones"),
        candidate(uln="3000000001", family_name="Smyth-Jones"),
        candidate(uln="3000000002", family_name="SmithJones"),
        candidate(uln="1000000009", post_code="ZZ99 9ZZ"),
        candidate(uln="9000000009", given_name="Smith-Jones", family_name="Mary"),
    ]
    expected = (
        Match("1000000009", MatchRule.SAME_NAMES_AND_BIRTH_DATE),
        Match("9000000009", MatchRule.NAMES_SWAPPED),
        Match("3000000002", MatchRule.PUNCTUATION_VARIANT),
        Match("3000000003", MatchRule.PUNCTUATION_VARIANT),
        Match("3000000001", MatchRule.PHONETIC_NAMES),
    )
    assert match(SEARCH, cands).matches == expected
    assert match(SEARCH, list(reversed(cands))).matches == expected


def test_first_rule_in_priority_wins():
    # Names swapped AND both names sound alike: reported as names_swapped only.
    search = SearchKey("Ann", "Anne", DOB, "2", "X1 1XX")
    c = candidate(given_name="Anne", family_name="Ann", post_code="X1 1XX")
    assert only_rule(search, c) is MatchRule.NAMES_SWAPPED


def test_candidate_passed_twice_is_listed_once():
    c = candidate(family_name="Smith Jones")
    assert match(SEARCH, [c, c]).matches == (Match(c.uln, MatchRule.PUNCTUATION_VARIANT),)


def test_candidates_outside_the_blocking_dates_are_ignored():
    far = candidate(date_of_birth=date(1990, 1, 1))
    assert match(SEARCH, [far]).outcome is Outcome.NONE


def test_retired_candidates_are_matched_like_others():
    retired = candidate(uln="4000000004", master_uln="5000000005")
    result = match(SEARCH, [retired])
    assert result == exact("4000000004")
    master = candidate(uln="5000000005", post_code="LS1 1AA")
    result = match(SEARCH, [master, retired])
    assert result.outcome is Outcome.EXACT  # resolving to the master is the caller's job
    assert result.matches[0].uln == "4000000004"


def test_candidate_birth_dates():
    assert candidate_birth_dates(date(2001, 3, 5)) == {date(2001, 3, 5), date(2001, 5, 3)}
    assert candidate_birth_dates(date(2001, 3, 25)) == {date(2001, 3, 25)}
    assert candidate_birth_dates(date(2001, 7, 7)) == {date(2001, 7, 7)}


def test_match_is_deterministic_for_any_candidate_order():
    import random

    cands = [candidate(family_name=name) for name in ("Smith Jones", "Smyth-Jones", "Smith-Jonse")]
    cands += [candidate(post_code="LS1 1AA"), candidate(uln="1111111111", post_code="LS2 2AA")]
    first = match(SEARCH, cands)
    rng = random.Random(5)
    for _ in range(10):
        rng.shuffle(cands)
        assert match(SEARCH, cands) == first


class Names:
    def __init__(self, given: str, family: str, previous: str | None = None) -> None:
        self.given_name, self.family_name, self.previous_family_name = given, family, previous


@pytest.mark.parametrize(
    "given, family, learner, rule",
    [
        ("mary", " SMITH-JONES", Names("Mary", "Smith-Jones"), MatchRule.EXACT),
        ("Smith-Jones", "Mary", Names("Mary", "Smith-Jones"), MatchRule.NAMES_SWAPPED),
        ("Mary", "Brown", Names("Mary", "Smith", "Brown"), MatchRule.PREVIOUS_FAMILY_NAME),
        ("Mary", "Smith Jones", Names("Mary", "Smith-Jones"), MatchRule.PUNCTUATION_VARIANT),
        ("Iain", "Mcleod", Names("Iain", "MacLeod"), MatchRule.MAC_MC_VARIANT),
        ("Steven", "Smith", Names("Stephen", "Smith"), MatchRule.PHONETIC_NAMES),
        ("Mary", "Smtih", Names("Mary", "Smith"), MatchRule.ONE_TYPO_NAME),
        ("Oliver", "Patel", Names("Mary", "Smith"), None),
    ],
)
def test_match_names(given, family, learner, rule):
    assert match_names(given, family, learner) is rule


def test_match_names_accepts_a_match_candidate():
    assert match_names("Mary", "Smith-Jones", candidate()) is MatchRule.EXACT


def test_names_without_letters_do_not_sound_alike():
    assert match_names("123", "456", Names("789", "000")) is None


def test_many_candidates_stay_fast():
    import time

    cands = [
        candidate(given_name=f"Given{i}", family_name=f"Family{i % 97}x{i}") for i in range(500)
    ]
    start = time.perf_counter()
    for _ in range(10):
        match(SEARCH, cands)
    assert (time.perf_counter() - start) / 10 < 0.05


# Names built from pieces that exercise every rule: punctuation, Mac/Mc, accents, sound-alikes.
_name_pieces = st.sampled_from(list("abcdeflmnoprstyzAEMZ '-ëçø") + ["Mac", "Mc", "ph", "gh"])
_names = st.lists(_name_pieces, min_size=1, max_size=8).map("".join)
_edits = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 20), st.sampled_from(list("ae -'kc"))), max_size=2)


def _edited(name: str, edits: list[tuple[int, int, str]]) -> str:
    """`name` with a few of the slips an MIS makes: a letter lost, added, changed or swapped with
    the next, shouting, Mac written Mc, a hyphen written as a space."""
    for kind, at, letter in edits:
        name = _edit(name, kind, at % len(name), letter) or "a"
    return name


def _edit(name: str, kind: int, i: int, letter: str) -> str:
    return [
        lambda: name[:i] + name[i + 1 :],
        lambda: name[:i] + letter + name[i:],
        lambda: name[:i] + letter + name[i + 1 :],
        lambda: name[:i] + name[i + 1 : i + 2] + name[i] + name[i + 2 :],
        lambda: name.upper(),
        lambda: name.replace("Mac", "Mc"),
        lambda: name.replace("-", " "),
    ][kind]()


@settings(max_examples=3000, deadline=None)
@given(_names, _names, _names, _edits, _edits, st.booleans(), st.sampled_from([DOB, date(2001, 5, 3)]))
def test_every_learner_that_matches_has_name_codes_that_may_match(given_name, family_name, previous, given_edits, family_edits, swap, born):
    """may_match (the repository's filter) never leaves out a learner whom match would report."""
    their_given, their_family = _edited(given_name, given_edits), _edited(family_name, family_edits)
    if swap:
        their_given, their_family = their_family, their_given
    learner = candidate(their_given, their_family, born, previous_family_name=previous)
    result = match(SearchKey(given_name, family_name, DOB, "2", "SW1A 1AA"), [learner])
    if result.outcome is not Outcome.NONE:
        assert may_match(name_codes(given_name, family_name), name_codes(their_given, their_family))


def test_may_match_leaves_out_names_with_nothing_in_common() -> None:
    search = name_codes("Mary", "Smith-Jones")
    assert may_match(search, name_codes("MARY", "Brown"))
    assert may_match(search, name_codes("Zoe", "SmithJones"))
    assert may_match(search, name_codes("Smith Jones", "Mary"))  # the other way round
    assert may_match(search, name_codes("Marie", "Black"))  # sounds the same (Metaphone MR)
    assert not may_match(search, name_codes("Amelia", "Brown"))
    assert not may_match(name_codes("1", "Smith"), name_codes("2", "Jones"))  # no letters: nothing sounds alike
