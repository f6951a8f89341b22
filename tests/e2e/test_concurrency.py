"""Concurrent writes against the real server (2 worker processes x 4 threads)."""
from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.contract.conftest import credentials

# The server's module-scoped fixtures, shared with its tests: pytest finds them by name here.
from tests.e2e.test_server import lrs, server  # noqa: F401 - used by name, as fixtures


def test_simultaneous_registrations_of_one_learner_issue_one_uln(lrs):  # noqa: F811 - the fixture imported above
    learner = {"GivenName": "Rhys", "FamilyName": "Pritchard", "DateOfBirth": "2005-07-07", "Gender": "1", "LastKnownPostCode": "CF10 1AA"}
    assert lrs.learnerByDemographics(FindType="FUL", **credentials(), **learner).ResponseCode == "WSRC0001"
    start = threading.Barrier(12)

    def register(_):
        start.wait()
        return lrs.registerSingleLearner(**credentials(), Learner={**learner, "AbilityToShare": "1"}).ResponseCode

    with ThreadPoolExecutor(12) as pool:
        codes = Counter(pool.map(register, range(12)))
    assert codes == {"WSRC0005": 1, "WSRC0021": 11}
    found = lrs.learnerByDemographics(FindType="FUL", **credentials(), **learner)
    assert found.ResponseCode == "WSRC0004" and len(found.Learner) == 1


def test_simultaneous_updates_of_one_version_let_exactly_one_win(lrs):  # noqa: F811 - the fixture imported above
    amelia = lrs.learnerByULN(FindType="FUL", **credentials(), ULN="9105106906", GivenName="Amelia", FamilyName="Hughes").Learner[0]
    base = {
        "GivenName": amelia.GivenName, "FamilyName": amelia.FamilyName, "DateOfBirth": amelia.DateOfBirth,
        "Gender": amelia.Gender, "AbilityToShare": amelia.AbilityToShare, "ULN": amelia.ULN,
        "VersionNumber": amelia.VersionNumber,
    }
    start = threading.Barrier(8)

    def update(i):
        start.wait()
        return lrs.updateSingleLearner(**credentials(), Learner={**base, "LastKnownPostCode": f"B{i + 1} 1AA"})

    with ThreadPoolExecutor(8) as pool:
        codes = Counter(pool.map(update, range(8)))
    assert codes == {"WSRC0006": 1, "WSRC0013": 7}
