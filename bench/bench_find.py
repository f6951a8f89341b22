"""Requests per second and latency of learnerByULN, learnerByDemographics and the PLR
(GetLearnerLearningEvents) over HTTP, as ratios to a trivial spyne echo served the same way.

For each backend (SQLite, PostgreSQL) and size it builds (once, cached under bench/.data/ or as
`lrs_bench_*` databases) a register of the demo data and N synthetic learners with up to 3
learning events each, starts `lrs-ws serve` on a free loopback port beside the echo service (the
framework's ceiling), and drives both with `bench/load.py`, alternating: every round of an
operation sits between two echo rounds, and its ratio is taken against their mean. One command
prints every figure:

    python bench/bench_find.py [--backends sqlite postgres] [--learners 100000 1000000] [--rounds 5]
"""
from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import requests
from sqlalchemy import create_engine, func, select, text

# Run as a script: the checkout goes on sys.path first, so the imports from it follow (E402).
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.echo_service import REQUEST as ECHO_REQUEST  # noqa: E402
from bench.load import LoadResult, run_load  # noqa: E402
from lrs_ws.adapters.engines import make_engine, normalise_url, sqlite_path  # noqa: E402
from lrs_ws.adapters.orm import LearnerRow  # noqa: E402
from lrs_ws.services.seed import load_demo_file  # noqa: E402

DATA = ROOT / "bench" / ".data"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
FIND = "http://api.lrs.miap.gov.uk/findmsg"
TEMPURI = "http://tempuri.org/"
QCF_INTERFACE = "http://schemas.datacontract.org/2004/07/Amor.Qcf.Service.Interface"
EVENTS_PER_LEARNER = 3
ORG = load_demo_file()["organisation"]
CREDENTIALS = f"<UKPRN>{ORG['ukprn']}</UKPRN><OrgPassword>{ORG['password']}</OrgPassword><UserName>online</UserName>"


def lrs(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "lrs_ws", *args], check=True, cwd=ROOT)


def _build(url: str, learners: int) -> None:
    started = time.perf_counter()
    lrs("db", "upgrade", "--database-url", url)
    lrs("seed", "demo", "--database-url", url)
    lrs("seed", "synthetic", "--learners", str(learners), "--events-per-learner", str(EVENTS_PER_LEARNER), "--database-url", url)
    print(f"  built {url} in {time.perf_counter() - started:.0f} s", flush=True)


def database(learners: int, server_url: str | None = None) -> str:
    """The benchmark database of this size: a SQLite file, or a database on `server_url`'s
    PostgreSQL server (created and filled once, then reused)."""
    if server_url is None:
        DATA.mkdir(parents=True, exist_ok=True)
        path = DATA / f"lrs-{learners}-events{EVENTS_PER_LEARNER}.sqlite3"
        url = f"sqlite:///{path}"
        if not path.exists():
            _build(url, learners)
        return url
    name = f"lrs_bench_{learners}_events{EVENTS_PER_LEARNER}"
    url = server_url.rsplit("/", 1)[0] + "/" + name
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    if not exists:
        _build(url, learners)
    return url


def sample(url: str, count: int) -> list:
    """Random active learners to look for (one table scan here, outside the measured part)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(LearnerRow).where(LearnerRow.master_uln.is_(None)).order_by(func.random()).limit(count)
        ).all()
    engine.dispose()
    return rows


def envelope(body: str) -> bytes:
    return f'<s:Envelope xmlns:s="{SOAP}"><s:Body>{body}</s:Body></s:Envelope>'.encode()


def by_uln(row) -> bytes:
    return envelope(
        f'<f:FindLearnerByULN xmlns:f="{FIND}"><FindType>FUL</FindType>{CREDENTIALS}<ULN>{row.uln}</ULN>'
        f"<FamilyName>{escape(row.family_name)}</FamilyName><GivenName>{escape(row.given_name)}</GivenName>"
        "</f:FindLearnerByULN>"
    )


def by_demographics(row, find_type: str = "FUL") -> bytes:
    return envelope(
        f'<f:FindLearnerByDemographics xmlns:f="{FIND}"><FindType>{find_type}</FindType>{CREDENTIALS}'
        f"<FamilyName>{escape(row.family_name)}</FamilyName><GivenName>{escape(row.given_name)}</GivenName>"
        f"<DateOfBirth>{row.date_of_birth.isoformat()}</DateOfBirth><Gender>{row.gender}</Gender>"
        f"<LastKnownPostCode>{row.last_known_post_code}</LastKnownPostCode></f:FindLearnerByDemographics>"
    )


def learning_events(row) -> bytes:
    return envelope(
        f'<GetLearnerLearningEvents xmlns="{TEMPURI}"><invokingOrganisation xmlns:a="{QCF_INTERFACE}">'
        f"<a:Password>{ORG['password']}</a:Password><a:Ukprn>{ORG['ukprn']}</a:Ukprn><a:Username>online</a:Username>"
        "</invokingOrganisation><userType>LNR</userType><vendorID>0</vendorID><language>ENG</language>"
        f"<uln>{row.uln}</uln><givenName>{escape(row.given_name)}</givenName><familyName>{escape(row.family_name)}</familyName>"
        "<getType>FULL</getType></GetLearnerLearningEvents>"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command: list[str], port: int, probe: str) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300  # a server in sandbox mode first copies the register (its baseline)
    while time.monotonic() < deadline:
        try:
            requests.post(f"http://127.0.0.1:{port}{probe}", data=b"", timeout=1)
            return process
        except requests.RequestException:  # not listening yet, or listening and not yet serving
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server on port {port} did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=20)


OPERATIONS = (
    ("learnerByULN", "/LearnerService.svc", by_uln, (b"<ResponseCode>WSRC0004<",)),
    ("learnerByDemographics", "/LearnerService.svc", by_demographics, (b"<ResponseCode>WSRC0004<", b"<ResponseCode>WSRC0003<")),
    # The same searches with CHK, which writes no search-log row: what the FUL search's one
    # synchronous write (find-before-register needs it) costs.
    ("learnerByDemographics CHK", "/LearnerService.svc", lambda row: by_demographics(row, "CHK"),
     (b"<ResponseCode>WSRC0004<", b"<ResponseCode>WSRC0003<")),
    # A synthetic learner who does not share (AbilityToShare 0 or 2) is answered WSEC0206.
    ("GetLearnerLearningEvents", "/LearnerServiceR9.svc", learning_events, (b">WSRC0004<", b">WSEC0206<")),
)
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Figures:
    """One operation on one register: its rounds and the echo rounds around them."""

    label: str
    rounds: list[LoadResult]
    ratios: list[float]  # each round's req/s over the mean of the echo rounds either side
    echoes: list[float]  # the echo rounds' req/s

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    def line(self) -> str:
        merged = LoadResult(
            requests=sum(r.requests for r in self.rounds), errors=sum(r.errors for r in self.rounds),
            seconds=sum(r.seconds for r in self.rounds), latencies_ms=[x for r in self.rounds for x in r.latencies_ms],
        )
        return (
            f"{merged.line(self.label)}\n{'':42} ratio to the echo {self.ratio:.2f} "
            f"(rounds {min(self.ratios):.2f}-{max(self.ratios):.2f}; echo {min(self.echoes):.0f}-{max(self.echoes):.0f} req/s)"
        )


def warm(url: str) -> None:
    """Read the register once so that the measurement finds it in the OS page cache, as a
    server that has been running does: a cold 1 GB file would measure the disk, not lrs-ws."""
    path = sqlite_path(url)
    if path:
        lrs("db", "upgrade", "--database-url", url)  # a register built by an older release
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
        return
    lrs("db", "upgrade", "--database-url", url)  # a register built by an older release
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        # What autovacuum does on a server that has been running: the visibility map that lets
        # demographic search read its candidates from the index alone.
        conn.execute(text("VACUUM ANALYZE learners"))
        conn.execute(text("ANALYZE learning_events"))
        for table in ("learners", "learning_events"):  # the tables and their indexes, into the buffers
            conn.execute(text(f"SELECT count(*), max(uln) FROM {table}")).all()
    engine.dispose()


def measure(echo_port: int, port: int, rows: list, learners: int, args) -> list[Figures]:
    """Each operation in `args.rounds` rounds, every round between two echo rounds: the echo is
    measured beside the operation, since this machine's speed drifts from minute to minute."""
    def echo() -> LoadResult:
        return run_load("127.0.0.1", echo_port, "/", [ECHO_REQUEST.encode()], seconds=args.seconds,
                        concurrency=args.concurrency, expect=(b"EchoResponse",))

    figures = []
    for label, path, build, expect in OPERATIONS:
        if args.only and label not in args.only:
            continue
        bodies = [build(r) for r in rows]
        run_load("127.0.0.1", port, path, bodies[:200], seconds=2, concurrency=args.concurrency)  # warm up
        before, rounds, ratios, echoes = echo(), [], [], []
        for _ in range(args.rounds):
            result = run_load("127.0.0.1", port, path, bodies, seconds=args.seconds, concurrency=args.concurrency, expect=expect)
            after = echo()
            rounds.append(result)
            ratios.append(result.rps / ((before.rps + after.rps) / 2))
            echoes += [before.rps, after.rps]
            before = after
        figure = Figures(f"{label}, {learners:,} learners", rounds, ratios, echoes)
        print(figure.line(), flush=True)
        figures.append(figure)
    return figures


def measure_pair(echo_port: int, port: int, sandbox_port: int, rows: list, learners: int, args) -> tuple[list[Figures], list[Figures]]:
    """Each operation's rounds alternating between the plain server and the one in sandbox mode
    (journal and planted-fault checks on), every round between two echo rounds."""
    def echo() -> LoadResult:
        return run_load("127.0.0.1", echo_port, "/", [ECHO_REQUEST.encode()], seconds=args.seconds,
                        concurrency=args.concurrency, expect=(b"EchoResponse",))

    plain, in_sandbox = [], []
    for label, path, build, expect in OPERATIONS:
        if args.only and label not in args.only:
            continue
        bodies = [build(r) for r in rows]
        for warm_port in (port, sandbox_port):
            run_load("127.0.0.1", warm_port, path, bodies[:200], seconds=2, concurrency=args.concurrency)
        sides: dict[int, tuple[list[LoadResult], list[float], list[float]]] = {port: ([], [], []), sandbox_port: ([], [], [])}
        before = echo()
        for _ in range(args.rounds):
            for side in (port, sandbox_port):
                result = run_load("127.0.0.1", side, path, bodies, seconds=args.seconds, concurrency=args.concurrency, expect=expect)
                after = echo()
                rounds, ratios, echoes = sides[side]
                rounds.append(result)
                ratios.append(result.rps / ((before.rps + after.rps) / 2))
                echoes += [before.rps, after.rps]
                before = after
        for side, out, what in ((port, plain, ""), (sandbox_port, in_sandbox, ", sandbox mode")):
            figure = Figures(f"{label}{what}, {learners:,} learners", *sides[side])
            print(figure.line(), flush=True)
            out.append(figure)
    return plain, in_sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", choices=("sqlite", "postgres"), default=["sqlite", "postgres"])
    parser.add_argument("--postgres", metavar="URL", default=DEFAULT_POSTGRES, help=f"the PostgreSQL server (default {DEFAULT_POSTGRES})")
    parser.add_argument("--seconds", type=float, default=2, help="length of one round")
    parser.add_argument("--rounds", type=int, default=8, help="rounds of each operation, each between two echo rounds")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sandbox", action="store_true", help="also serve each register in sandbox mode and compare")
    parser.add_argument("--only", nargs="+", metavar="OPERATION", help="only these operations (e.g. learnerByULN)")
    args = parser.parse_args()
    print(
        f"server: lrs-ws serve (gunicorn, {args.workers} Hypercorn workers x 4 threads) and the spyne echo beside it; "
        f"client: {args.concurrency} keep-alive connections; {args.rounds} rounds of {args.seconds:.0f} s per operation, "
        "each between two echo rounds; ratio = the round's req/s over the mean of those two echoes (median, range)"
    )
    echo_port = free_port()
    echo_server = start([sys.executable, "bench/echo_service.py", "--port", str(echo_port), "--workers", str(args.workers)], echo_port, "/")
    results: dict[tuple, list[Figures]] = {}
    try:
        run_load("127.0.0.1", echo_port, "/", [ECHO_REQUEST.encode()], seconds=2, concurrency=args.concurrency)  # warm up
        for backend in args.backends:
            for learners in args.learners:
                url = database(learners, args.postgres if backend == "postgres" else None)
                print(f"\n{'PostgreSQL' if backend == 'postgres' else 'SQLite'}, {learners:,} learners", flush=True)
                rows = sample(url, 2000)
                warm(url)
                port = free_port()
                server = start(
                    [sys.executable, "-m", "lrs_ws", "serve", "--no-demo", "--no-worker", "--port", str(port),
                     "--workers", str(args.workers), "--database-url", url],
                    port, "/LearnerService.svc",
                )
                try:
                    if args.sandbox:  # a second server on the register, in sandbox mode: rounds alternate between them
                        sandbox_port = free_port()
                        sandboxed = start(
                            [sys.executable, "-m", "lrs_ws", "serve", "--no-demo", "--no-worker", "--port", str(sandbox_port),
                             "--workers", str(args.workers), "--database-url", url, "--sandbox", "--sandbox-token", "bench"],
                            sandbox_port, "/LearnerService.svc",
                        )
                        try:
                            plain, in_sandbox = measure_pair(echo_port, port, sandbox_port, rows, learners, args)
                        finally:
                            stop(sandboxed)
                        results[backend, learners], results[backend, learners, "sandbox"] = plain, in_sandbox
                    else:
                        results[backend, learners] = measure(echo_port, port, rows, learners, args)
                finally:
                    stop(server)
    finally:
        stop(echo_server)
    _compare(results, args)


def _compare(results: dict[tuple, list[Figures]], args) -> None:
    """The goals' comparisons: 1M against 100k, PostgreSQL against SQLite, sandbox mode against
    plain (ratios to the echo)."""
    lines = []
    for key, plain in results.items():
        if len(key) == 2 and (*key, "sandbox") in results:
            for alone, sandboxed in zip(plain, results[(*key, "sandbox")], strict=True):
                kept = sandboxed.ratio / alone.ratio
                spread = (
                    f"rounds: plain {min(alone.ratios):.2f}-{max(alone.ratios):.2f}, "
                    f"sandbox {min(sandboxed.ratios):.2f}-{max(sandboxed.ratios):.2f}"
                )
                lines.append(f"{key[0]}, {key[1]:,}: {alone.label.split(',')[0]}, sandbox mode keeps {kept:.2f} of the rate ({spread})")
    for backend in args.backends:
        if (backend, 100_000) in results and (backend, 1_000_000) in results:
            for small, large in zip(results[backend, 100_000], results[backend, 1_000_000], strict=True):
                lines.append(f"{backend}: {large.label.split(',')[0]}, 1M / 100k time: {small.ratio / large.ratio:.2f}")
    for learners in args.learners:
        if ("sqlite", learners) in results and ("postgres", learners) in results:
            for lite, pg in zip(results["sqlite", learners], results["postgres", learners], strict=True):
                lines.append(f"{learners:,}: {lite.label.split(',')[0]}, PostgreSQL / SQLite time: {lite.ratio / pg.ratio:.2f}")
    if lines:
        print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
