"""A flood of wrong passwords against the real server: the backoff keeps it cheap and audited.

The flood comes from 127.0.0.2 (another loopback address, so another client to the server),
the good traffic from 127.0.0.1.
"""
from __future__ import annotations

import http.client
import threading
import time

from sqlalchemy import func, select

from lrs_ws.adapters.engines import make_engine
from lrs_ws.adapters.orm import audit_events
from tests.e2e.serving import answer_of, find_by_uln, serving

FREE_FAILURES = 3
FLOOD_ADDRESS = "127.0.0.2"


def wrong_password(number: int) -> bytes:
    # Every password differs, so no cache can answer for it: each checked one costs a scrypt.
    return find_by_uln().replace("DemoPassword0001", f"Wrong{number:011d}").encode()


def flood(port: int, seconds: float, rate: float, connections: int = 8) -> list[str]:
    """`rate` wrong passwords a second in all, from `connections` keep-alive connections."""
    answers: list[str] = []
    lock = threading.Lock()

    def one(k: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(FLOOD_ADDRESS, 0))
        interval = connections / rate
        began = time.monotonic()
        sent = 0
        while time.monotonic() - began < seconds:
            time.sleep(max(0.0, began + sent * interval - time.monotonic()))
            connection.request("POST", "/LearnerService.svc", body=wrong_password(k * 100_000 + sent), headers={"Content-Type": "text/xml"})
            code = answer_of(connection.getresponse().read())
            sent += 1
            with lock:
                answers.append(code)
        connection.close()

    threads = [threading.Thread(target=one, args=(k,)) for k in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def audit_outcomes(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            query = (
                select(audit_events.c.outcome, func.count())
                .where(audit_events.c.address == FLOOD_ADDRESS)
                .group_by(audit_events.c.outcome)
            )
            return dict(connection.execute(query).all())
    finally:
        engine.dispose()


def test_a_wrong_password_flood_is_backed_off_audited_and_leaves_good_traffic_alone(tmp_path) -> None:
    options = ("--workers", "2", "--sign-in-failures", str(FREE_FAILURES), "--sign-in-backoff-max", "2")
    with serving(tmp_path, *options) as served:
        good_latencies: list[float] = []
        good_answers: list[str] = []
        flooding = threading.Event()

        def good_traffic() -> None:
            connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
            while flooding.is_set():
                started = time.monotonic()
                connection.request("POST", "/LearnerService.svc", body=find_by_uln().encode(), headers={"Content-Type": "text/xml"})
                good_answers.append(answer_of(connection.getresponse().read()))
                good_latencies.append(time.monotonic() - started)
            connection.close()

        flooding.set()
        good = threading.Thread(target=good_traffic)
        good.start()
        try:
            flood_answers = flood(served.port, seconds=4, rate=27)
        finally:
            flooding.clear()
            good.join()

        # Every wrong password is refused, and recorded with its reason and address.
        assert len(flood_answers) >= 80 and set(flood_answers) == {"WSEC0005"}
        outcomes = audit_outcomes(served.database_url)
        assert sum(outcomes.values()) == len(flood_answers)
        # Checked (a scrypt each): the free failures and what the 8 connections had in flight when
        # the first block began, then at most one a connection each time a block (1 s, 2 s, 2 s)
        # ran out (the connections are spread over both workers, 8 threads in all). Without the
        # backoff every one of them would have been checked.
        checked, unchecked = outcomes.get("WSEC0005 wrong password", 0), outcomes.get("WSEC0005 backoff", 0)
        assert FREE_FAILURES <= checked <= FREE_FAILURES + 8 + 3 * 8, outcomes
        assert checked * 4 < len(flood_answers), outcomes
        assert unchecked == len(flood_answers) - checked

        # The organisation's other client went on being served, promptly.
        assert good_answers and set(good_answers) == {"WSRC0004"}
        assert max(good_latencies) < 1.0

        # Once the block runs out, the correct password works again from the flooding address.
        time.sleep(2.2)
        connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10, source_address=(FLOOD_ADDRESS, 0))
        connection.request("POST", "/LearnerService.svc", body=find_by_uln().encode(), headers={"Content-Type": "text/xml"})
        assert answer_of(connection.getresponse().read()) == "WSRC0004"
        connection.close()
