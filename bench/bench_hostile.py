"""Hostile clients against `lrs-ws serve`, each beside a quiet baseline measured in the same run.

Good traffic: learnerByULN for the demo learner Amelia from 127.0.0.1, closed loop, 2 keep-alive
connections. Rounds alternate (quiet, hostile, quiet, hostile, ...) so that the machine's
swings hit both; each figure is the median of the rounds with the spread (min-max).

- stalled: 48 connections that sent their headers and half a body, then nothing (renewed as
  the server closes them after --read-timeout);
- flood: 8 connections from 127.0.0.2 sending wrong OrgPasswords (each one different, so no
  cache helps) at --flood-rate per second in all (27/s: the flood of the issue; 0: as fast as
  the server answers), with the backoff (default settings) and without it (--sign-in-failures
  1000, so every wrong password costs a scrypt).

    python bench/bench_hostile.py --seconds 8 --rounds 3 --flood-rate 27
"""
from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# Run as a script: the checkout goes on sys.path first, so the imports from it follow (E402).
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import run_load  # noqa: E402

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
FIND = "http://api.lrs.miap.gov.uk/findmsg"


def find_request(password: str = "DemoPassword0001") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{SOAP}"><s:Body><f:FindLearnerByULN xmlns:f="{FIND}"><FindType>FUL</FindType>'
        f"<UKPRN>10000001</UKPRN><OrgPassword>{password}</OrgPassword><UserName>online</UserName>"
        "<ULN>9105106906</ULN><FamilyName>Hughes</FamilyName><GivenName>Amelia</GivenName>"
        "</f:FindLearnerByULN></s:Body></s:Envelope>"
    ).encode()


def start(database: Path, *extra: str) -> tuple[subprocess.Popen, int, Path]:
    log = database.with_suffix(".log")
    with open(log, "w") as out:  # the child has its own copy
        process = subprocess.Popen(
            [sys.executable, "-m", "lrs_ws", "serve", "--port", "0", "--database-url", f"sqlite:///{database}", *extra],
            stdout=out, stderr=subprocess.STDOUT, cwd=database.parent,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"Learner Register:\s+http://127\.0\.0\.1:(\d+)/", log.read_text())
        if found:
            port = int(found.group(1))
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    return process, port, log
            except OSError:
                pass
        if process.poll() is not None:
            raise SystemExit(f"lrs-ws serve exited:\n{log.read_text()}")
        time.sleep(0.2)
    process.kill()
    raise SystemExit("lrs-ws serve did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


class Stallers:
    """`count` connections that keep sending half a request and then nothing."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count = port, count
        self.stopping = threading.Event()
        self.closed_after: list[float] = []  # seconds from the stall until the server closed it
        self.threads = [threading.Thread(target=self._one, daemon=True) for _ in range(count)]

    def _one(self) -> None:
        head = (
            f"POST /LearnerService.svc HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: text/xml\r\n"
            "Content-Length: 2000\r\n\r\n"
        ).encode() + b"<" * 1000
        while not self.stopping.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=60) as sock:
                    sock.sendall(head)
                    stalled = time.monotonic()
                    while sock.recv(65536):
                        pass
                    self.closed_after.append(time.monotonic() - stalled)
            except OSError:
                time.sleep(0.1)

    def __enter__(self) -> Stallers:
        for thread in self.threads:
            thread.start()
        time.sleep(1.0)  # all of them connected and stalled
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()


def _flood(args) -> tuple[int, int]:
    port, seconds, k, interval = args
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=("127.0.0.2", 0))
    sent = refused = 0
    began = time.perf_counter()
    deadline = began + seconds
    while time.perf_counter() < deadline:
        pause = began + sent * interval - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        connection.request(
            "POST", "/LearnerService.svc", body=find_request(f"Wrong{k:03d}{sent:08d}"), headers={"Content-Type": "text/xml"}
        )
        payload = connection.getresponse().read()
        sent += 1
        refused += b"WSEC0005" in payload
    return sent, refused


class Flood:
    def __init__(self, port: int, seconds: float, rate: float, connections: int = 8) -> None:
        interval = connections / rate if rate else 0.0  # each connection's share of the rate
        self.jobs = [(port, seconds, k, interval) for k in range(connections)]
        self.pool = mp.Pool(connections)

    def __enter__(self) -> Flood:
        self.result = self.pool.map_async(_flood, self.jobs)
        time.sleep(0.5)
        return self

    def __exit__(self, *exc) -> None:
        results = self.result.get()
        self.pool.close()
        self.sent = sum(r[0] for r in results)
        self.refused = sum(r[1] for r in results)


def server_cpu_seconds(process: subprocess.Popen) -> float:
    """CPU time (user + system) of the server's workers so far."""
    total = 0
    for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def good(port: int, seconds: float):
    return run_load("127.0.0.1", port, "/LearnerService.svc", [find_request()], seconds=seconds, concurrency=2, expect=(b"WSRC0004",))


def spread(values: list[float], fmt: str = "{:.1f}") -> str:
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def audit_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        return dict(connection.execute("SELECT outcome, count(*) FROM audit_events WHERE address = '127.0.0.2' GROUP BY outcome"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stalled", type=int, default=48)
    parser.add_argument("--flood-rate", type=float, default=27, help="wrong passwords per second in all (0: unpaced)")
    args = parser.parse_args()
    print(
        "lrs-ws serve (2 workers x 4 threads, SQLite, demo data); good traffic: learnerByULN, 2 connections; "
        f"{args.rounds} rounds of {args.seconds:.0f} s"
    )

    with tempfile.TemporaryDirectory() as folder:
        for label, extra, hostile in (
            (f"{args.stalled} stalled connections (--read-timeout 5)", ("--read-timeout", "5"), "stalled"),
            (f"wrong-password flood ({args.flood_rate:g}/s), backoff on (defaults)", (), "flood"),
            (
                f"wrong-password flood ({args.flood_rate:g}/s), backoff off (--sign-in-failures 1000000)",
                ("--sign-in-failures", "1000000"),
                "flood",
            ),
        ):
            database = Path(folder) / f"{hostile}-{len(extra)}.sqlite3"
            process, port, _ = start(database, *extra)
            try:
                good(port, 2)  # warm-up: both workers, caches
                quiet, loud, stalls, floods = [], [], [], []
                if hostile == "flood":  # the flood alone first: what one wrong password costs the server
                    before = server_cpu_seconds(process)
                    with Flood(port, args.seconds, args.flood_rate) as alone:
                        pass
                    cost = (server_cpu_seconds(process) - before) / alone.sent * 1000
                for _ in range(args.rounds):
                    quiet.append(good(port, args.seconds))
                    if hostile == "stalled":
                        with Stallers(port, args.stalled) as stallers:
                            loud.append(good(port, args.seconds))
                        stalls.extend(stallers.closed_after)
                    else:
                        with Flood(port, args.seconds + 1, args.flood_rate) as flood:
                            loud.append(good(port, args.seconds))
                        floods.append(flood)
            finally:
                stop(process)
            print(f"\n{label}")
            print(f"  good req/s   quiet {spread([r.rps for r in quiet], '{:.0f}')}   hostile {spread([r.rps for r in loud], '{:.0f}')}"
                  f"   ratio {spread([b.rps / a.rps for a, b in zip(quiet, loud, strict=True)], '{:.2f}')}")
            print(f"  good p50 ms  quiet {spread([r.percentile(50) for r in quiet])}   hostile {spread([r.percentile(50) for r in loud])}")
            print(f"  good p99 ms  quiet {spread([r.percentile(99) for r in quiet])}   hostile {spread([r.percentile(99) for r in loud])}"
                  f"   ratio {spread([b.percentile(99) / a.percentile(99) for a, b in zip(quiet, loud, strict=True)], '{:.2f}')}")
            print(f"  good max ms  hostile {spread([max(r.latencies_ms) for r in loud])}; errors: {sum(r.errors for r in quiet + loud)}")
            if stalls:
                print(f"  stalled connections closed by the server after {spread(stalls)} s ({len(stalls)} closed)")
            if floods:
                print(f"  the flood alone: {alone.sent} wrong passwords, {cost:.1f} ms of server CPU each")
                sent = sum(f.sent for f in floods)
                seconds = args.rounds * (args.seconds + 1)
                counts = audit_counts(database)
                print(
                    f"  flood: {sent} wrong passwords sent ({sent / seconds:.0f}/s), "
                    f"all refused: {sum(f.refused for f in floods) == sent}; "
                    f"audit: {counts.get('WSEC0005 wrong password', 0)} checked (scrypt), "
                    f"{counts.get('WSEC0005 backoff', 0)} refused in backoff"
                )


if __name__ == "__main__":
    main()
