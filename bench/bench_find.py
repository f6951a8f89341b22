"""Requests per second and latency of learnerByULN, learnerByDemographics and the PLR
(GetLearnerLearningEvents) over HTTP.

For each size it builds (once, cached under bench/.data/) a SQLite database with the demo data
and N synthetic learners with up to 3 learning events each, starts `lrs-ws serve` on a free
loopback port, and drives it with `bench/load.py`; first it runs a trivial spyne echo service
the same way (the framework ceiling).

    python bench/bench_find.py --learners 100000 1000000 --seconds 20 --concurrency 4
"""
from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

import requests
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lrs_ws.adapters.orm import LearnerRow  # noqa: E402
from lrs_ws.adapters.unit_of_work import make_engine, normalise_url  # noqa: E402
from bench.echo_service import REQUEST as ECHO_REQUEST  # noqa: E402
from bench.load import run_load  # noqa: E402
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
    subprocess.run([sys.executable, "-m", "lrs_ws.cli", *args], check=True, cwd=ROOT)


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


def by_demographics(row) -> bytes:
    return envelope(
        f'<f:FindLearnerByDemographics xmlns:f="{FIND}"><FindType>FUL</FindType>{CREDENTIALS}'
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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.post(f"http://127.0.0.1:{port}{probe}", data=b"", timeout=1)
            return process
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server on port {port} did not start")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--postgres", metavar="URL", default=None,
        help="run on this PostgreSQL server (e.g. postgresql://postgres@127.0.0.1:5432/test) instead of SQLite files",
    )
    args = parser.parse_args()
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{backend}; server: lrs-ws serve (gunicorn, {args.workers} Hypercorn workers x 4 threads); client: {args.concurrency} keep-alive connections, {args.seconds:.0f} s each")

    port = free_port()
    echo = start([sys.executable, "bench/echo_service.py", "--port", str(port), "--workers", str(args.workers)], port, "/")
    try:
        run_load("127.0.0.1", port, "/", [ECHO_REQUEST.encode()], seconds=3, concurrency=args.concurrency)  # warm up
        result = run_load("127.0.0.1", port, "/", [ECHO_REQUEST.encode()], seconds=args.seconds, concurrency=args.concurrency, expect=(b"EchoResponse",))
        print(result.line("spyne echo (framework ceiling)"), flush=True)
    finally:
        stop(echo)

    for learners in args.learners:
        url = database(learners, args.postgres)
        rows = sample(url, 2000)
        port = free_port()
        server = start(
            [sys.executable, "-m", "lrs_ws.cli", "serve", "--no-demo", "--port", str(port), "--workers", str(args.workers), "--database-url", url],
            port,
            "/LearnerService.svc",
        )
        try:
            # Warm up: let every worker finish starting (migrations check, schemas, password cache).
            run_load("127.0.0.1", port, "/LearnerService.svc", [by_uln(r) for r in rows[:50]], seconds=3, concurrency=args.concurrency)
            for label, path, build, expect in (
                ("learnerByULN", "/LearnerService.svc", by_uln, (b"<ResponseCode>WSRC0004<",)),
                ("learnerByDemographics", "/LearnerService.svc", by_demographics, (b"<ResponseCode>WSRC0004<", b"<ResponseCode>WSRC0003<")),
                # A synthetic learner who does not share (AbilityToShare 0 or 2) is answered WSEC0206.
                ("GetLearnerLearningEvents", "/LearnerServiceR9.svc", learning_events, (b">WSRC0004<", b">WSEC0206<")),
            ):
                result = run_load(
                    "127.0.0.1", port, path, [build(r) for r in rows],
                    seconds=args.seconds, concurrency=args.concurrency, expect=expect,
                )
                print(result.line(f"{label}, {learners:,} learners"), flush=True)
        finally:
            stop(server)


if __name__ == "__main__":
    main()
