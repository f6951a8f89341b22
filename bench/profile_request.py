"""In-process cost of one request, and where it goes: the WSGI application (screening, schema
validation, spyne, the use case, the database) called directly, no HTTP, one thread.

    python bench/profile_request.py --learners 100000 [--postgres URL] [--requests 2000] [--profile] [--hooks | --sandbox]

Prints the mean and the percentiles per operation; with --profile, the top functions by
cumulative and by own time (cProfile) for each; with --hooks, every call goes through a
before-hook and an after-hook that do nothing (their cost; without, the front's fast path). The
database is bench_find's (built once).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

# Run as a script: the checkout goes on sys.path first, so the imports from it follow (E402).
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_find import OPERATIONS, database, sample  # noqa: E402
from lrs_ws.bootstrap import build_app  # noqa: E402
from lrs_ws.config import Settings  # noqa: E402


def call(app, path: str, body: bytes) -> bytes:
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "", "CONTENT_TYPE": "text/xml; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "REMOTE_ADDR": "127.0.0.1", "HTTP_SOAPACTION": '""',
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.errors": sys.stderr,
    }
    status = []
    chunks = app(environ, lambda s, headers, exc_info=None: status.append(s))
    return b"".join(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", help="one operation by name")
    parser.add_argument("--hooks", action="store_true", help="a before- and an after-hook that do nothing")
    parser.add_argument("--sandbox", action="store_true", help="in sandbox mode: the planted-fault check and the journal on every call")
    args = parser.parse_args()
    url = database(args.learners, args.postgres)
    rows = sample(url, args.requests)
    if args.hooks:
        from lrs_ws.web.hooks import SoapHooks

        hooks = SoapHooks()
        hooks.before(lambda call: None)
        hooks.after(lambda call, outcome: None)
        app = build_app(Settings(database_url=url), hooks=hooks)
    elif args.sandbox:
        app = build_app(Settings(database_url=url, sandbox=True, sandbox_token="bench"))
    else:
        app = build_app(Settings(database_url=url))
    for label, path, build, expect in OPERATIONS:
        if args.only and args.only != label:
            continue
        bodies = [build(r) for r in rows]
        for body in bodies[:100]:  # warm up
            call(app, path, body)
        profiler = cProfile.Profile() if args.profile else None
        times = []
        if profiler:
            profiler.enable()
        for body in bodies:
            started = time.perf_counter()
            answer = call(app, path, body)
            times.append((time.perf_counter() - started) * 1000)
            assert any(e in answer for e in expect), answer[:500]
        if profiler:
            profiler.disable()
        times.sort()
        print(
            f"{label:<26} {args.learners:>9,} learners  mean {statistics.fmean(times):5.2f} ms  "
            f"p50 {times[len(times) // 2]:5.2f}  p99 {times[int(len(times) * 0.99)]:5.2f} ms  ({len(times)} requests)",
            flush=True,
        )
        if profiler:
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(int(__import__("os").environ.get("PROFILE_LINES", "25")))
                print(out.getvalue())


if __name__ == "__main__":
    main()
