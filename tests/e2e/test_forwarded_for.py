"""Behind a reverse proxy: with `--forwarded-allow-ips`, the client the backoff and the audit know
is the one X-Forwarded-For names; without it, the header is nobody's word and every client has
the proxy's address (here the test itself, on 127.0.0.1, plays the proxy)."""
from __future__ import annotations

import requests
from sqlalchemy import select

from lrs_ws.adapters.engines import make_engine
from lrs_ws.adapters.orm import audit_events
from tests.e2e.serving import answer_of, eventually, find_by_uln, serving

MISBEHAVING, WELL_BEHAVED = "203.0.113.7", "203.0.113.8"
OPTIONS = ("--workers", "1", "--no-worker", "--sign-in-failures", "2", "--sign-in-backoff-max", "60")


def _find(served, client: str, password: str = "DemoPassword0001") -> str:
    response = requests.post(
        served.url("/LearnerService.svc"),
        data=find_by_uln().replace("DemoPassword0001", password).encode(),
        headers={"Content-Type": "text/xml", "X-Forwarded-For": f"198.51.100.99, {client}"},  # the first: the client's own say
        timeout=10,
    )
    return answer_of(response.content)


def _misbehave(served) -> None:
    for attempt in range(3):  # two free failures, then the backoff
        assert _find(served, MISBEHAVING, password=f"WrongPassword{attempt:03d}") == "WSEC0005"


def _audited_addresses(served) -> set[str]:
    engine = make_engine(served.database_url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(select(audit_events.c.address).distinct()).scalars())
    finally:
        engine.dispose()


def test_a_trusted_proxys_header_names_the_client(tmp_path):
    with serving(tmp_path, *OPTIONS, "--forwarded-allow-ips", "127.0.0.1,::1") as served:
        _misbehave(served)
        assert _find(served, MISBEHAVING) == "WSEC0005"  # in backoff, even with the right password
        assert _find(served, WELL_BEHAVED) == "WSRC0004"  # another client of the same proxy is not
        # (a find's audit row is written a moment after it answers)
        addresses = eventually(lambda: (found := _audited_addresses(served)) >= {MISBEHAVING, WELL_BEHAVED} and found, 5,
                               what="both clients audited")
        assert "127.0.0.1" not in addresses, addresses
        assert "198.51.100.99" not in addresses  # what a client says of itself is not believed


def test_an_untrusted_header_is_ignored(tmp_path):
    with serving(tmp_path, *OPTIONS) as served:
        _misbehave(served)
        # Every client has the proxy's address: one misbehaving client blocks them all.
        assert _find(served, WELL_BEHAVED) == "WSEC0005"
        assert _audited_addresses(served) == {"127.0.0.1"}
