"""A small closed-loop HTTP load generator: N processes, one keep-alive connection each.

Each process posts envelopes from a list for a fixed time and returns its latencies.
"""
from __future__ import annotations

import http.client
import multiprocessing as mp
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")

    def line(self, label: str) -> str:
        return (
            f"{label:<42} {self.rps:8.0f} req/s   p50 {self.percentile(50):6.1f} ms   "
            f"p90 {self.percentile(90):6.1f} ms   p99 {self.percentile(99):6.1f} ms   "
            f"({self.requests} requests, {self.errors} errors)"
        )


def _worker(args) -> tuple[int, int, list[float], float, float]:
    host, port, path, bodies, seconds, offset, expect = args
    connection = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    latencies: list[float] = []
    errors = 0
    i = offset
    began = time.time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        body = bodies[i % len(bodies)]
        i += 1
        start = time.perf_counter()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        latencies.append((time.perf_counter() - start) * 1000)
        if response.status != 200 or (expect and not any(marker in payload for marker in expect)):
            errors += 1
    ended = time.time()
    connection.close()
    return len(latencies), errors, latencies, began, ended


def run_load(
    host: str, port: int, path: str, bodies: list[bytes], *, seconds: float, concurrency: int, expect: tuple[bytes, ...] = ()
) -> LoadResult:
    """Closed-loop load; a response counts as an error unless it is 200 and holds one of `expect`."""
    jobs = [(host, port, path, bodies, seconds, k * 7919, expect) for k in range(concurrency)]
    with mp.Pool(concurrency) as pool:
        results = pool.map(_worker, jobs)
    # The span of the measured loops, not of process start-up.
    elapsed = max(r[4] for r in results) - min(r[3] for r in results)
    return LoadResult(
        requests=sum(r[0] for r in results),
        errors=sum(r[1] for r in results),
        seconds=elapsed,
        latencies_ms=[x for r in results for x in r[2]],
    )
