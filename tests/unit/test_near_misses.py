"""Near misses of a demographic search: the closest learners and what did not agree."""
from __future__ import annotations

from datetime import date

from lrs_ws.domain.matching import MatchCandidate, SearchKey
from lrs_ws.domain.near_misses import NearMiss, near_misses, why_not_found_by_uln

AMELIA = MatchCandidate("9105106906", "Amelia", "Hughes", None, date(2007, 3, 14), "2", "B15 2TT", None)
AMELIE = MatchCandidate("8032816126", "Amelie", "Hughes", None, date(2007, 3, 14), "2", "M1 1AE", None)
OLIVER = MatchCandidate("2717046088", "Oliver", "Smith-Jones", None, date(2006, 11, 2), "1", "M1 1AE", None)


def test_the_closest_come_first_with_what_differed_in_words():
    sent = SearchKey("amelia", "HUGHES", date(2007, 3, 15), "2", "b152tt")
    found = near_misses(sent, [OLIVER, AMELIE, AMELIA])
    assert found[0] == NearMiss("9105106906", ("date of birth differs: 2007-03-15 sent, 2007-03-14 held",))
    assert found[1] == NearMiss(
        "8032816126",
        (
            "given name differs: amelia sent, Amelie held",
            "date of birth differs: 2007-03-15 sent, 2007-03-14 held",
            "postcode differs: b152tt sent, M1 1AE held",
        ),
    )
    assert found[2].uln == "2717046088" and len(found[2].differences) == 5


def test_at_most_three_and_none_from_nothing():
    sent = SearchKey("Amelia", "Hughes", date(2007, 3, 14), "2", "B15 2TT")
    assert len(near_misses(sent, [AMELIA, AMELIE, OLIVER, AMELIA._replace(uln="1111111111")])) == 3
    assert near_misses(sent, []) == []


def test_why_a_find_by_uln_found_nobody():
    assert why_not_found_by_uln("9105106907", "Amelia", "Hughes", None) == "9105106907 is not a ULN: its check digit does not agree"
    assert why_not_found_by_uln("9105106906", "Amelia", "Hughes", None) == "no learner holds ULN 9105106906"
    assert why_not_found_by_uln("9105106906", "Zara", "hughes", ("Amelia", "Hughes")) == (
        "the names sent do not agree with those held for ULN 9105106906: given name differs: Zara sent, Amelia held"
    )
    assert why_not_found_by_uln("9105106906", "Amelia", "Hughes-Price", ("Amelia", "Hughes")).endswith(
        "family name differs: Hughes-Price sent, Hughes held"
    )
