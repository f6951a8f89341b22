"""Batch registration: an LRB file of M learners against a register of N, and the
submitBatchRegistration web service beside it, each run the way a user runs it.

The register (the demo data plus N synthetic learners, no learning events) is built once and
cached: a SQLite file bench/.data/batch-N.sqlite3, or with --postgres a database
lrs_bench_batch_N on that server. Every run works on a copy (the file copied, or CREATE
DATABASE ... TEMPLATE), so the cached register stays at N; the copy is not timed.

Outside the timed part: existing learners are sampled from the copy with one query, and an LRB
CSV file LRB_10000001_<DDMMYYYYHHMM>.CSV of M rows is written with a realistic mix (new
learners, existing ones by ULN, some with a new address line, existing ones by their five key
fields, possible matches, wrong ULN check digits, rows with field problems).

Timed, each a `python -m lrs_ws ...` subprocess (wall time; peak RSS and CPU by GNU time):

  1. batch validate FILE                  (exit status 1 expected: the file has bad rows)
  2. batch submit FILE --user batch
  3. worker --until-idle                  the processing figure: M / its wall time
  4. batch output JOBID --out DIR         checked: M rows, return codes against the job counts

Then the web service on the same run database (the register plus the file's new learners):
`serve --port 0 --no-worker`, client threads posting SubmitBatch calls (keep-alive), a
`worker --until-idle` for those jobs, and GetSubmitBatchOutput for every job.

    python bench/bench_batch.py                      # 1,000,000 learners, a file of 100,000
    python bench/bench_batch.py --quick              # a smoke run: 20,000 / 5,000 / 20 calls
    python bench/bench_batch.py --quick --postgres postgresql://postgres@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import jellyfish
import requests
from lxml import etree
from sqlalchemy import create_engine, text

# Run as a script: the checkout goes on sys.path first, so the imports from it follow (E402).
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lrs_ws.adapters.engines import normalise_url, redacted  # noqa: E402
from lrs_ws.adapters.lrb import layout, names, writing  # noqa: E402
from lrs_ws.adapters.synthetic import INWARD_LETTERS, POSTCODE_DISTRICTS, generate_learners  # noqa: E402
from lrs_ws.contract.learner_fields import BATCH_FIELDS  # noqa: E402
from lrs_ws.contract.namespaces import BATCHMSG, FINDMSG, SOAP_ENV  # noqa: E402
from lrs_ws.domain.batch import Count, ReturnCode  # noqa: E402
from lrs_ws.domain.learner import DETAIL_FIELDS, WIRE_NAMES  # noqa: E402
from lrs_ws.domain.rules import DEFAULT_PROHIBITED_WORDS  # noqa: E402
from lrs_ws.domain.uln import is_valid_uln  # noqa: E402
from lrs_ws.services.seed import load_demo_file  # noqa: E402

DATA = ROOT / "bench" / ".data"
DEMO = load_demo_file()
ORG = DEMO["organisation"]
UKPRN = ORG["ukprn"]
GOAL_LEARNERS_PER_SECOND = 2000
GOAL_WORKER_RSS_MB = 300  # MB = 10^6 bytes (stricter than MiB)
BANNER = re.compile(r"^  Learner Register:\s+(?P<base>https?://\S+?)/LearnerService\.svc\s*$", re.M)
QUICK = {"register": 20_000, "file_learners": 5_000, "ws_calls": 20}
DEFAULTS = {"register": 1_000_000, "file_learners": 100_000, "ws_calls": 500}


# --------------------------------------------------------------------------- small helpers


def lrs(*args: str) -> list[str]:
    """`lrs-ws ARGS` as a user runs it, with this interpreter."""
    return [sys.executable, "-m", "lrs_ws", *args]


def mb(kib: int) -> float:
    return kib * 1024 / 1e6


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def say(line: str = "") -> None:
    print(line, flush=True)


def git_state() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True).stdout
        changed = len(dirty.splitlines())
        return f"{head}" + (f" + {changed} changed files in the work tree" if changed else " (clean)")
    except OSError:
        return "unknown"


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory_total() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


# --------------------------------------------------------------------------- the register


@dataclass
class Register:
    backend: str  # SQLite or PostgreSQL
    size: int  # synthetic learners asked for (N)
    url: str  # the cached register
    built_seconds: float | None  # None: it was there already


def _build(url: str, learners: int) -> None:
    for args in (("db", "upgrade"), ("seed", "demo"),
                 ("seed", "synthetic", "--learners", str(learners), "--events-per-learner", "0")):
        subprocess.run(lrs(*args, "--database-url", url), check=True, cwd=ROOT)


def _upgrade(url: str) -> None:
    """A register cached by an older lrs-ws gets this one's schema (nothing changes otherwise)."""
    subprocess.run(lrs("db", "upgrade", "--database-url", url), check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def sqlite_register(learners: int) -> Register:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"batch-{learners}.sqlite3"
    if path.exists():
        _upgrade(f"sqlite:///{path}")
        return Register("SQLite", learners, f"sqlite:///{path}", None)
    building = DATA / f".batch-{learners}.building.sqlite3"
    for stale in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        stale.unlink(missing_ok=True)
    say(f"building the register: {path} (demo data + {learners:,} synthetic learners) ...")
    started = time.perf_counter()
    _build(f"sqlite:///{building}", learners)
    import sqlite3

    with contextlib.closing(sqlite3.connect(building)) as conn:  # fold the WAL in: one file to copy
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(building, path)
    Path(f"{building}-wal").unlink(missing_ok=True)
    Path(f"{building}-shm").unlink(missing_ok=True)
    return Register("SQLite", learners, f"sqlite:///{path}", time.perf_counter() - started)


def _admin(server_url: str):
    return create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")


def _on_server(server_url: str, name: str) -> str:
    return server_url.rsplit("/", 1)[0] + "/" + name


def _drop(conn, name: str) -> None:
    force = " WITH (FORCE)" if int(conn.scalar(text("SHOW server_version_num"))) >= 130000 else ""
    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"{force}'))


def postgres_register(learners: int, server_url: str) -> Register:
    """lrs_bench_batch_N on the server: built under another name and renamed when complete,
    so an interrupted build is never taken for the register."""
    name = f"lrs_bench_batch_{learners}"
    building = f"{name}_building"
    admin = _admin(server_url)
    try:
        with admin.connect() as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                _upgrade(_on_server(server_url, name))
                return Register("PostgreSQL", learners, _on_server(server_url, name), None)
            _drop(conn, building)
            conn.execute(text(f'CREATE DATABASE "{building}"'))
        say(f"building the register: database {name} (demo data + {learners:,} synthetic learners) ...")
        started = time.perf_counter()
        _build(_on_server(server_url, building), learners)
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{building}" RENAME TO "{name}"'))
        return Register("PostgreSQL", learners, _on_server(server_url, name), time.perf_counter() - started)
    finally:
        admin.dispose()


@contextlib.contextmanager
def run_copy(register: Register, workdir: Path, server_url: str | None, keep: bool) -> Iterator[tuple[str, float]]:
    """A copy of the register for one run (its URL, and the seconds the copy took); removed
    afterwards unless `keep`."""
    started = time.perf_counter()
    if server_url is None:
        source = Path(register.url.removeprefix("sqlite:///"))
        target = workdir / "run.sqlite3"
        shutil.copyfile(source, target)
        if Path(f"{source}-wal").exists() and Path(f"{source}-wal").stat().st_size:
            shutil.copyfile(f"{source}-wal", f"{target}-wal")
        yield f"sqlite:///{target}", time.perf_counter() - started
        return  # the file goes with workdir
    template = register.url.rsplit("/", 1)[1]
    name = f"lrs_bench_batch_run_{os.getpid()}"
    admin = _admin(server_url)
    try:
        with admin.connect() as conn:
            _drop(conn, name)
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        yield _on_server(server_url, name), time.perf_counter() - started
    finally:
        if keep:
            say(f"kept the run database {name}")
        else:
            with admin.connect() as conn:
                _drop(conn, name)
        admin.dispose()


def database_version(url: str) -> str:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            if url.startswith("sqlite"):
                return "SQLite " + conn.scalar(text("SELECT sqlite_version()"))
            return "PostgreSQL " + conn.scalar(text("SHOW server_version"))
    finally:
        engine.dispose()


def count_learners(url: str) -> int:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return conn.scalar(text("SELECT count(*) FROM learners"))
    finally:
        engine.dispose()


SAMPLE_COLUMNS = ("uln", *DETAIL_FIELDS)


def sample_learners(url: str, count: int, register_size: int, rng: random.Random) -> list[dict[str, str]]:
    """`count` random active learners of the register, in one query: random rowids on SQLite,
    TABLESAMPLE BERNOULLI on PostgreSQL (a little more than needed, then shuffled and cut)."""
    columns = ", ".join(SAMPLE_COLUMNS)
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            if url.startswith("sqlite"):
                top = conn.scalar(text("SELECT max(rowid) FROM learners"))
                ids = rng.sample(range(1, top + 1), min(top, int(count * 1.1) + 100))
                query = f"SELECT {columns} FROM learners WHERE master_uln IS NULL AND rowid IN ({','.join(map(str, ids))})"
            else:
                percent = min(100.0, 100.0 * (count * 1.15 + 100) / max(register_size, 1))
                query = (f"SELECT {columns} FROM learners TABLESAMPLE BERNOULLI ({percent:.6f}) "
                         f"REPEATABLE ({rng.randrange(1 << 30)}) WHERE master_uln IS NULL")
            rows = conn.execute(text(query)).all()
    finally:
        engine.dispose()
    learners = []
    for row in rows:
        learner = {}
        for name, value in zip(SAMPLE_COLUMNS, row, strict=True):
            if value is None or value == "":
                continue
            learner[name] = value.isoformat() if isinstance(value, date) else str(value)
        learners.append(learner)
    learners.sort(key=lambda learner: learner["uln"])  # the same sample whatever order the rows came in
    rng.shuffle(learners)
    if len(learners) < count:
        raise SystemExit(f"the register gave {len(learners):,} learners, {count:,} needed: use a larger --register")
    return learners[:count]


# --------------------------------------------------------------------------- learners to send


def wire(learner: dict[str, str]) -> dict[str, str]:
    """Stored field names to BatchLearner wire names (details only, no ULN)."""
    return {WIRE_NAMES[name]: value for name, value in learner.items() if name in WIRE_NAMES}


_CONSONANTS = "bfjklnprst"  # distinct codes under both Metaphone and NYSIIS
_VOWELS = "aeiou"
_PROHIBITED = {word.lower() for word in DEFAULT_PROHIBITED_WORDS}


class FreshLearners:
    """New learners: the synthetic generator's details (names, ages, addresses), with a family
    name made up for each, distinct in spelling and in sound (Metaphone and NYSIIS) from every
    other one made, so no new learner is a possible match of another."""

    def __init__(self, seed: int) -> None:
        self._source = generate_learners(10**9, seed=seed)
        self._index = 0
        self._sounds: set[str] = set()

    def _family_name(self) -> str:
        while True:
            if self._index >= 1_000_000:
                raise SystemExit("ran out of made-up family names")
            j = (self._index * 7919 + 104_729) % 1_000_000  # a bijection of 0..999,999
            self._index += 1
            name = "".join(_CONSONANTS[int(d)] + _VOWELS[(int(d) + k) % 5] for k, d in enumerate(f"{j:06d}")).capitalize()
            sounds = {"m:" + jellyfish.metaphone(name), "n:" + jellyfish.nysiis(name)}
            if not sounds & self._sounds and name.lower() not in _PROHIBITED:
                self._sounds |= sounds
                return name

    def next(self) -> dict[str, str]:
        learner = next(self._source)
        learner.update(family_name=self._family_name(), previous_family_name=None, family_name_at_age16=None)
        if learner.get("email_address"):
            learner["email_address"] = f"{learner['given_name']}.{learner['family_name']}@example.com".lower().replace("'", "")
        learner.pop("uln")
        return {name: value.isoformat() if isinstance(value, date) else str(value)
                for name, value in learner.items() if value not in (None, "")}


def other_post_code(rng: random.Random, current: str) -> str:
    outward = current.split()[0] if current else ""
    while True:
        district = rng.choice(POSTCODE_DISTRICTS)[0]
        if district != outward:
            return f"{district} {rng.randrange(10)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"


def wrong_check_digit(uln: str, rng: random.Random) -> str:
    while True:
        candidate = uln[:9] + str(rng.randrange(10))
        if candidate != uln and not is_valid_uln(candidate):
            return candidate


# (key, share of the file, what it is, the ReturnCode we expect)
FILE_MIX: tuple[tuple[str, float, str, str], ...] = (
    ("new", 0.40, "new learners (no ULN, fresh names)", "RC003"),
    ("uln", 0.20, "existing, by ULN, own details", "RC001"),
    ("uln+address", 0.10, "existing, by ULN, new address line 1", "RC005"),
    ("exact", 0.10, "existing, no ULN, five key fields", "RC002"),
    ("possible", 0.10, "existing names + birth date, other postcode", "RC007"),
    ("bad-uln", 0.05, "existing, ULN with a wrong check digit", "RC009"),
    ("bad-row", 0.05, "field problems (dd/mm/yyyy date, long name, bad postcode)", "RC011"),
)
WS_MIX: tuple[tuple[str, float, str, str], ...] = (
    ("new", 0.70, "new learners (no ULN, fresh names)", "RC003"),
    ("uln", 0.20, "existing, by ULN, own details", "RC001"),
    ("exact", 0.10, "existing, no ULN, five key fields", "RC002"),
)
_PREFIX = {"new": "NEW", "uln": "ULN", "uln+address": "UPD", "exact": "EXA", "possible": "POS", "bad-uln": "BUL", "bad-row": "BAD"}
_CATEGORY = {prefix: key for key, prefix in _PREFIX.items()}
_EXISTING = {"uln", "uln+address", "exact", "possible", "bad-uln"}


def shares(mix, total: int) -> dict[str, int]:
    counts = {key: int(share * total) for key, share, _, _ in mix}
    counts[mix[0][0]] += total - sum(counts.values())  # the rounding goes to the new learners
    return counts


def existing_needed(mix, total: int) -> int:
    return sum(n for key, n in shares(mix, total).items() if key in _EXISTING)


def make_learner(category: str, number: int, rng: random.Random, fresh: FreshLearners, existing: Iterator[dict]) -> dict[str, str]:
    mis = {"MISIdentifier": f"{_PREFIX[category]}{number:07d}"}
    if category == "new":
        return {**mis, **wire(fresh.next())}
    if category == "bad-row":
        learner = {**mis, **wire(fresh.next())}
        kind = number % 3
        if kind == 0:  # a spreadsheet rewrote the date
            learner["DateOfBirth"] = date.fromisoformat(learner["DateOfBirth"]).strftime("%d/%m/%Y")
        elif kind == 1:  # 36 characters and more: MIAPName allows 35
            learner["GivenName"] = (learner["GivenName"] + " Alexandrina Georgiana Maximiliana")[:40]
        else:
            learner["LastKnownPostCode"] = "NOT KNOWN"
        return learner
    stored = next(existing)
    if category in ("uln", "uln+address", "bad-uln"):
        learner = {"ULN": stored["uln"], **mis, **wire(stored)}
        if category == "uln+address":
            new_line = f"{rng.randint(241, 999)} Newbridge {rng.choice(('Road', 'Street', 'Lane', 'Close'))}"
            learner["LastKnownAddressLine1"] = new_line
        elif category == "bad-uln":
            learner["ULN"] = wrong_check_digit(stored["uln"], rng)
        return learner
    five = {name: stored[field] for name, field in (
        ("GivenName", "given_name"), ("FamilyName", "family_name"), ("DateOfBirth", "date_of_birth"),
        ("Gender", "gender"), ("LastKnownPostCode", "last_known_post_code"))}
    if category == "possible":
        five["LastKnownPostCode"] = other_post_code(rng, stored["last_known_post_code"])
    return {**mis, **five}


def make_learners(mix, total: int, rng: random.Random, fresh: FreshLearners, existing: Iterator[dict]) -> list[dict[str, str]]:
    categories = [key for key, n in shares(mix, total).items() for _ in range(n)]
    rng.shuffle(categories)
    return [make_learner(category, number, rng, fresh, existing) for number, category in enumerate(categories, 1)]


def category_of(mis_identifier: str | None) -> str:
    return _CATEGORY.get((mis_identifier or "")[:3], "?")


# --------------------------------------------------------------------------- timed steps


@dataclass
class Step:
    label: str
    command: str
    seconds: float
    returncode: int
    peak_rss_mb: float
    cpu_seconds: float
    learners: int
    peak_rss_mb_polled: float = 0.0  # VmHWM polled every 50 ms: a lower bound, a cross-check
    stdout: str = field(repr=False, default="")
    stderr: str = field(repr=False, default="")

    @property
    def per_second(self) -> float:
        return self.learners / self.seconds if self.seconds else float("nan")

    def line(self, expected: int = 0) -> str:
        status = f"exit {self.returncode}" + ("" if self.returncode == expected else f" (expected {expected})")
        return (f"  {self.label:<34} {self.seconds:8.1f} s {self.per_second:9,.0f} learners/s   "
                f"peak RSS {self.peak_rss_mb:6.0f} MB   CPU {self.cpu_seconds:7.1f} s   {status}")


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


class _HighWater(threading.Thread):
    """Polls VmHWM of the step's Python process (under GNU time: its child) every 50 ms: a
    lower bound of its peak RSS, the figure when GNU time is missing, else a cross-check."""

    def __init__(self, pid: int, under_time: bool) -> None:
        super().__init__(daemon=True)
        self.pid, self.under_time = pid, under_time
        self.peak_mb = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.05):
            pids = children(self.pid) if self.under_time else {self.pid}
            for pid in pids:
                self.peak_mb = max(self.peak_mb, peak_rss_mb(pid) or 0.0)


def run_step(label: str, args: list[str], workdir: Path, learners: int, *, expected: int = 0) -> Step:
    """Run `lrs-ws ARGS` to its end: its wall time, and its peak RSS and CPU time as GNU time
    reports them (%M, %U + %S; the peak RSS, or the VmHWM polled every 50 ms if higher).

    Not wait4's rusage of our own child: Linux counts the parent's resident set at the moment
    of the exec in the child's ru_maxrss (this script's ~90 MB), and GNU time, a small process,
    forks the step itself."""
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    out_path, err_path, usage_path = workdir / f"{slug}.stdout", workdir / f"{slug}.stderr", workdir / f"{slug}.usage"
    command = lrs(*args)
    if GNU_TIME:
        command = [GNU_TIME, "-f", "%M %U %S", "-o", str(usage_path), *command]
    with open(out_path, "w") as out, open(err_path, "w") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=workdir)
        polled = _HighWater(process.pid, GNU_TIME is not None)
        polled.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            for pid in children(process.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            process.kill()
            os.waitpid(process.pid, 0)
            raise
        seconds = time.perf_counter() - started
        polled.done.set()
        polled.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if GNU_TIME:
        max_kib, user, system = usage_path.read_text().split("\n")[-2].split()  # after "Command exited with ..."
        # ru_maxrss can miss a peak the kernel never folded into its high-water mark: take the larger.
        peak, cpu = max(mb(int(max_kib)), polled.peak_mb), float(user) + float(system)
    else:
        peak, cpu = polled.peak_mb, usage.ru_utime + usage.ru_stime
    step = Step(label, " ".join(["lrs-ws", *args]), seconds, process.returncode, peak, cpu, learners,
                peak_rss_mb_polled=polled.peak_mb,
                stdout=out_path.read_text(errors="replace"), stderr=err_path.read_text(errors="replace"))
    say(step.line(expected))
    if step.returncode != expected:
        tail = "\n".join((step.stdout + step.stderr).strip().splitlines()[-15:])
        raise SystemExit(f"{label}: exit status {step.returncode}, expected {expected}:\n{tail}")
    return step


def fixed_cost(args: list[str], workdir: Path, runs: int = 2) -> float:
    """Wall seconds of `lrs-ws ARGS` (best of `runs`): part of every step's wall time."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(lrs(*args), cwd=workdir, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


# --------------------------------------------------------------------------- the LRB file path


def job_counts(url: str, job_id: int, workdir: Path) -> dict[str, int] | None:
    """The job's five counts as `lrs-ws batch status JOBID` prints them (None if unreadable)."""
    shown = subprocess.run(lrs("batch", "status", str(job_id), "--database-url", url), cwd=workdir, capture_output=True, text=True)
    for line in shown.stdout.splitlines():
        tokens = line.split()
        if tokens and tokens[0] == str(job_id) and len(tokens) >= 12:
            with contextlib.suppress(ValueError):
                return dict(zip([count.value for count in Count], map(int, tokens[7:12]), strict=True))
    return None


def class_counts(codes: Counter) -> dict[str, int]:
    totals = {count.value: 0 for count in Count}
    for code, n in codes.items():
        totals[ReturnCode(code).count.value] += n
    return totals


def print_crosstab(title: str, by_category: dict[str, Counter], mix) -> None:
    codes = sorted({code for counter in by_category.values() for code in counter})
    say(f"  {title}")
    say("    " + f"{'rows sent':<58} {'expect':>6} " + " ".join(f"{code:>7}" for code in codes))
    for key, _, what, expect in mix:
        counter = by_category.get(key, Counter())
        if not counter:
            continue
        label = f"{key}: {what}"
        say("    " + f"{label[:58]:<58} {expect:>6} " + " ".join(f"{counter.get(code, 0):>7,}" for code in codes))
    total = Counter()
    for counter in by_category.values():
        total.update(counter)
    say("    " + f"{'all':<58} {'':>6} " + " ".join(f"{total.get(code, 0):>7,}" for code in codes))


def file_path(args, url: str, workdir: Path, rng: random.Random, fresh: FreshLearners, existing: Iterator[dict],
              results: dict) -> None:
    m = args.file_learners
    learners = make_learners(FILE_MIX, m, rng, fresh, existing)
    name = names.file_name_for(UKPRN, datetime.now(), "CSV")
    path = workdir / name
    written = writing.write_lrb(path, layout.Header("2A", "bench_batch", UKPRN, m), learners)
    assert written == m
    mix = Counter(category_of(learner["MISIdentifier"]) for learner in learners)
    say(f"LRB file {name}: {m:,} learners, {path.stat().st_size / 1e6:.1f} MB (written in advance)")
    for key, _, what, expect in FILE_MIX:
        say(f"  {mix[key]:>8,}  {key:<12} {what} (expect {expect})")
    results["file"] = {"name": name, "bytes": path.stat().st_size, "mix": dict(mix)}

    say("timed:")
    validate = run_step("batch validate", ["batch", "validate", str(path)], workdir, m, expected=1)
    rows_flagged = len({line.split(",")[0] for line in validate.stdout.splitlines() if line.startswith("row ")})
    say(f"    {validate.stdout.strip().splitlines()[-1]}  ({rows_flagged:,} rows flagged; {mix['bad-row']:,} bad rows written)")
    submit = run_step("batch submit", ["batch", "submit", str(path), "--user", "batch", "--database-url", url], workdir, m)
    say(f"    {submit.stdout.strip()}")
    found = re.search(r"Queued job (\d+)", submit.stdout)
    if not found:
        raise SystemExit(f"batch submit printed no job id:\n{submit.stdout}\n{submit.stderr}")
    job_id = int(found.group(1))
    worker = run_step("worker --until-idle (file job)", ["worker", "--until-idle", "--database-url", url], workdir, m)
    out_dir = workdir / "output"
    out_dir.mkdir()
    output = run_step("batch output", ["batch", "output", str(job_id), "--out", str(out_dir), "--database-url", url], workdir, m)

    # Check the output file: M rows plus the heading, every return code, and the job's counts.
    out_file = out_dir / names.output_file_name(name)
    by_category: dict[str, Counter] = {}
    codes: Counter = Counter()
    rows = 0
    with open(out_file, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        headings = next(reader)
        code_at, mis_at = headings.index("ReturnCode"), headings.index("MISIdentifier")
        for record in reader:
            rows += 1
            codes[record[code_at]] += 1
            by_category.setdefault(category_of(record[mis_at]), Counter())[record[code_at]] += 1
    status = job_counts(url, job_id, workdir)
    checks = {
        "output rows = M (+ heading)": rows == m,
        "return codes add up to M": sum(codes.values()) == m,
        "every return code is RC001-RC013": all(code in ReturnCode._value2member_map_ for code in codes),
        "counts from the codes = `batch status` counts": status is not None and class_counts(codes) == status,
        "RC011 >= rows flagged by validate": codes.get("RC011", 0) >= rows_flagged,
    }
    say(f"  output {out_file.name}: {rows:,} rows + heading")
    for what, ok in checks.items():
        say(f"    {'ok      ' if ok else 'MISMATCH'}  {what}")
    say(f"    `batch status {job_id}` counts: {status}")
    say("    return codes: " + ", ".join(f"{code} {n:,} ({100 * n / m:.1f}%)" for code, n in sorted(codes.items())))
    print_crosstab("return codes by the kind of row sent:", by_category, FILE_MIX)
    results["file"].update(
        job_id=job_id, rows_flagged_by_validate=rows_flagged, return_codes=dict(codes), job_counts=status,
        return_codes_by_kind={key: dict(counter) for key, counter in by_category.items()},
        checks=checks, steps=[step_json(s) for s in (validate, submit, worker, output)],
    )
    results["_steps"] += [validate, submit, worker, output]
    results["_file_worker"] = worker


def step_json(step: Step) -> dict:
    data = {k: v for k, v in asdict(step).items() if k not in ("stdout", "stderr")}
    data["learners_per_second"] = step.per_second
    return data


# --------------------------------------------------------------------------- the web service path


def _credentials(user: str) -> str:
    return f"<UKPRN>{ORG['ukprn']}</UKPRN><OrgPassword>{ORG['password']}</OrgPassword><UserName>{user}</UserName>"


def submit_envelope(learners: list[dict[str, str]]) -> bytes:
    body = "".join(
        "<Learner>" + "".join(f"<{name}>{escape(learner[name])}</{name}>" for name in BATCH_FIELDS if learner.get(name)) + "</Learner>"
        for learner in learners
    )
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><b:SubmitBatch xmlns:b="{BATCHMSG}">'
        f"{_credentials('batch')}<JobType>FUL</JobType><LearnerRecordCount>{len(learners)}</LearnerRecordCount>{body}"
        f"</b:SubmitBatch></soapenv:Body></soapenv:Envelope>"
    ).encode()


def output_envelope(job_id: int) -> bytes:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><b:GetSubmitBatchOutput xmlns:b="{BATCHMSG}">'
        f"{_credentials('batch')}<JobID>{job_id}</JobID></b:GetSubmitBatchOutput></soapenv:Body></soapenv:Envelope>"
    ).encode()


def find_envelope() -> bytes:
    """learnerByULN of a demo learner: warms the server's workers up, writes no batch job."""
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"><soapenv:Body><f:FindLearnerByULN xmlns:f="{FINDMSG}">'
        f"<FindType>FUL</FindType>{_credentials('online')}<ULN>9105106906</ULN><FamilyName>Hughes</FamilyName>"
        f"<GivenName>Amelia</GivenName></f:FindLearnerByULN></soapenv:Body></soapenv:Envelope>"
    ).encode()


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found.update(int(child) for child in listing.read_text().split())
    return found


def peak_rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return mb(int(line.split()[1]))
    return None


@contextlib.contextmanager
def serving(url: str, workdir: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """`lrs-ws serve --port 0 --no-worker` on `url`: its process and base URL once /health is 200."""
    log_path = workdir / "serve.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            lrs("serve", "--port", "0", "--no-worker", "--no-demo", "--database-url", url),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 120
        base = None
        while True:
            if process.poll() is not None:
                raise SystemExit(f"serve exited ({process.returncode}):\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise SystemExit(f"serve was not ready within 120 s:\n{log_path.read_text()[-3000:]}")
            if base is None and (found := BANNER.search(log_path.read_text(errors="replace"))):
                base = found["base"]
            if base is not None:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(base + "/health", timeout=2).status_code == 200:
                        break
            time.sleep(0.1)
        yield process, base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for child in children(process.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(child, signal.SIGKILL)
                process.kill()
                process.wait()


@dataclass
class Posted:
    seconds: float
    latencies_ms: list[float]
    statuses: list[int]
    bodies: list[bytes]


def post_all(base: str, envelopes: list[bytes], clients: int) -> Posted:
    """Post every envelope once, from `clients` threads with a keep-alive session each."""
    latencies = [0.0] * len(envelopes)
    statuses = [0] * len(envelopes)
    bodies = [b""] * len(envelopes)
    taken = iter(range(len(envelopes)))
    lock = threading.Lock()
    failures: list[BaseException] = []

    def client() -> None:
        session = requests.Session()
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
        try:
            while True:
                with lock:
                    i = next(taken, None)
                if i is None:
                    return
                started = time.perf_counter()
                response = session.post(base + "/LearnerService.svc", data=envelopes[i], headers=headers, timeout=300)
                content = response.content
                latencies[i] = (time.perf_counter() - started) * 1000
                statuses[i], bodies[i] = response.status_code, content
        except BaseException as error:  # reported after the join
            failures.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"a client failed: {failures[0]!r}")
    return Posted(seconds, latencies, statuses, bodies)


_CODE = re.compile(rb"<(?:\w+:)?ResponseCode>(\w+)</")
_JOB = re.compile(rb"<(?:\w+:)?JobID>(\d+)</")


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def ws_path(args, url: str, workdir: Path, rng: random.Random, fresh: FreshLearners, existing: Iterator[dict],
            results: dict) -> None:
    calls, per_call, clients = args.ws_calls, args.ws_learners, args.ws_clients
    total = calls * per_call
    batches = [make_learners(WS_MIX, per_call, rng, fresh, existing) for _ in range(calls)]
    envelopes = [submit_envelope(learners) for learners in batches]
    mix = Counter(category_of(learner["MISIdentifier"]) for learners in batches for learner in learners)
    say(f"{calls:,} SubmitBatch calls of {per_call} learners ({total:,}; "
        f"{sum(map(len, envelopes)) / calls / 1000:.0f} kB each), from {clients} client threads (written in advance)")
    for key, _, what, expect in WS_MIX:
        say(f"  {mix[key]:>8,}  {key:<12} {what} (expect {expect})")
    results["ws"] = {"calls": calls, "learners_per_call": per_call, "clients": clients, "mix": dict(mix),
                     "database": "the file run's database, after its job"}
    with serving(url, workdir) as (server, base):
        say(f"serve --port 0 --no-worker on {base} (default workers and threads), on this run's database after the "
            f"file job (the register plus the file's new learners); warmed up with {4 * clients} learnerByULN calls")
        post_all(base, [find_envelope()] * (4 * clients), clients)
        say("timed:")
        submitted = post_all(base, envelopes, clients)
        codes = [(_CODE.search(body) or [None, b"?"])[1].decode() for body in submitted.bodies]
        accepted = [int(_JOB.search(body).group(1)) for body, code, status in zip(submitted.bodies, codes, submitted.statuses, strict=True)
                    if status == 200 and code == "WSRC0007"]
        p50, p99 = percentile(submitted.latencies_ms, 50), percentile(submitted.latencies_ms, 99)
        say(f"  {'SubmitBatch (' + str(clients) + ' clients)':<34} {submitted.seconds:8.1f} s "
            f"{len(accepted) * per_call / submitted.seconds:9,.0f} learners/s   {len(accepted) / submitted.seconds:6.1f} calls/s   "
            f"p50 {p50:6.0f} ms   p99 {p99:6.0f} ms   {len(accepted)}/{calls} WSRC0007")
        if len(accepted) != calls:
            say(f"    answers: {dict(Counter(zip(submitted.statuses, codes, strict=True)))}")
        worker = run_step("worker --until-idle (WS jobs)", ["worker", "--until-idle", "--database-url", url], workdir,
                          len(accepted) * per_call)
        outputs = post_all(base, [output_envelope(job_id) for job_id in accepted], clients)
        serve_rss = {pid: peak_rss_mb(pid) for pid in children(server.pid)}
        serve_rss[server.pid] = peak_rss_mb(server.pid)
    finished = 0
    codes_seen: Counter = Counter()
    by_category: dict[str, Counter] = {}
    for status, body in zip(outputs.statuses, outputs.bodies, strict=True):
        learners = 0
        if status == 200:
            root = etree.fromstring(body)
            answer = next((e.text for e in root.iter() if _local(e) == "ResponseCode"), None)
            for element in root.iter():
                if _local(element) == "Learner":
                    values = {_local(child): child.text for child in element}
                    learners += 1
                    codes_seen[values.get("ReturnCode")] += 1
                    by_category.setdefault(category_of(values.get("MISIdentifier")), Counter())[values.get("ReturnCode")] += 1
            finished += answer == "WSRC0009" and learners == per_call
    say(f"  {'GetSubmitBatchOutput (' + str(clients) + ' clients)':<34} {outputs.seconds:8.1f} s "
        f"{sum(codes_seen.values()) / outputs.seconds:9,.0f} learners/s   {len(accepted) / outputs.seconds:6.1f} calls/s   "
        f"p50 {percentile(outputs.latencies_ms, 50):6.0f} ms   p99 {percentile(outputs.latencies_ms, 99):6.0f} ms   "
        f"{finished}/{len(accepted)} WSRC0009 with {per_call} learners")
    workers = [v for pid, v in serve_rss.items() if pid != server.pid and v is not None]
    say(f"  serve peak RSS: arbiter {serve_rss.get(server.pid) or 0:.0f} MB, "
        f"{len(workers)} child processes up to {max(workers, default=0):.0f} MB each")
    say("    return codes: " + ", ".join(f"{code} {n:,} ({100 * n / max(total, 1):.1f}%)" for code, n in sorted(codes_seen.items())))
    print_crosstab("return codes by the kind of learner sent:", by_category, WS_MIX)
    results["ws"].update(
        submit_seconds=submitted.seconds, accepted_calls=len(accepted), calls_per_second=len(accepted) / submitted.seconds,
        learners_per_second_accepted=len(accepted) * per_call / submitted.seconds, submit_p50_ms=p50, submit_p99_ms=p99,
        worker=step_json(worker), output_seconds=outputs.seconds, output_calls_per_second=len(accepted) / outputs.seconds,
        output_p50_ms=percentile(outputs.latencies_ms, 50), output_p99_ms=percentile(outputs.latencies_ms, 99),
        outputs_complete=finished, return_codes=dict(codes_seen),
        return_codes_by_kind={key: dict(counter) for key, counter in by_category.items()},
        serve_peak_rss_mb={str(pid): v for pid, v in serve_rss.items()},
    )
    results["_steps"].append(worker)
    results["_ws"] = (submitted, accepted, outputs, p50, p99, worker)


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--register", type=int, metavar="N", help="synthetic learners on the register (default 1,000,000; --quick 20,000)")
    parser.add_argument("--file-learners", type=int, metavar="M", help="learners in the LRB file (default 100,000; --quick 5,000)")
    parser.add_argument("--ws-calls", type=int, metavar="C", help="SubmitBatch calls (default 500; --quick 20; 0 skips the web service)")
    parser.add_argument("--ws-learners", type=int, default=200, metavar="L", help="learners per SubmitBatch call (1-200, default 200)")
    parser.add_argument("--ws-clients", type=int, default=4, metavar="T", help="client threads (default 4)")
    parser.add_argument("--postgres", metavar="URL",
                        help="run on this PostgreSQL server (e.g. postgresql://postgres@127.0.0.1:5432/test) instead of SQLite")
    parser.add_argument("--quick", action="store_true", help="a smoke run: --register 20000 --file-learners 5000 --ws-calls 20")
    parser.add_argument("--seed", type=int, default=1, help="the same seed, the same sample and file (default 1)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the run's copy of the register, its files and logs")
    args = parser.parse_args()
    for name in ("register", "file_learners", "ws_calls"):
        if getattr(args, name) is None:
            setattr(args, name, (QUICK if args.quick else DEFAULTS)[name])
    if not 1 <= args.ws_learners <= 200:
        parser.error("--ws-learners must be 1 to 200 (MIAPLearnerRecordCount)")
    if args.register < 1 or args.file_learners < 20 or args.ws_calls < 0 or args.ws_clients < 1:
        parser.error("sizes must be positive (--file-learners at least 20)")

    backend = "PostgreSQL" if args.postgres else "SQLite"
    register = postgres_register(args.register, args.postgres) if args.postgres else sqlite_register(args.register)
    if register.built_seconds is not None:
        say(f"built the register in {register.built_seconds:.0f} s")

    DATA.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="run-", dir=DATA))
    results: dict = {"_steps": []}
    try:
        with run_copy(register, workdir, args.postgres, args.keep) as (url, copy_seconds):
            learners_on_register = count_learners(url)
            now = datetime.now(UTC)
            say(f"bench_batch  {now:%Y-%m-%d %H:%M:%S} UTC")
            say(f"  machine:   {os.cpu_count()} cores ({cpu_model()}), {memory_total()} RAM, load average "
                + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f"; Python {platform.python_version()}")
            say(f"  code:      {git_state()}")
            say(f"  database:  {database_version(url)}; register {redacted(register.url)}; "
                f"this run on a copy ({redacted(url)}, copied in {copy_seconds:.1f} s, not counted)")
            web = (f"web service {args.ws_calls:,} calls x {args.ws_learners} learners from {args.ws_clients} clients"
                   if args.ws_calls else "no web service run")
            say(f"  sizes:     register {learners_on_register:,} learners (N = {args.register:,} + demo); "
                f"LRB file {args.file_learners:,} learners; {web}")
            startup = fixed_cost(["--version"], workdir)
            idle = fixed_cost(["worker", "--until-idle", "--database-url", url], workdir)
            say(f"  start-up, part of the wall times below: `lrs-ws --version` {startup:.2f} s; "
                f"`lrs-ws worker --until-idle` with no job waiting {idle:.2f} s")
            say("")
            rng = random.Random(args.seed)
            need = existing_needed(FILE_MIX, args.file_learners) + (existing_needed(WS_MIX, args.ws_learners) * args.ws_calls)
            started = time.perf_counter()
            existing = iter(sample_learners(url, need, learners_on_register, rng))
            say(f"sampled {need:,} existing learners in one query ({time.perf_counter() - started:.1f} s, not counted)")
            fresh = FreshLearners(seed=args.seed + 1000)
            results.update(
                date=now.isoformat(), cores=os.cpu_count(), cpu=cpu_model(), code=git_state(), backend=backend,
                database=database_version(url), register=args.register, learners_on_register=learners_on_register,
                file_learners=args.file_learners, version_seconds=startup, idle_worker_seconds=idle, copy_seconds=copy_seconds,
            )
            file_path(args, url, workdir, rng, fresh, existing, results)
            if args.ws_calls:
                say("")
                ws_path(args, url, workdir, rng, fresh, existing, results)
    finally:
        if args.keep:
            say(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    worker: Step = results["_file_worker"]
    say("")
    say(f"summary ({backend}, register {args.register:,}, file {args.file_learners:,}"
        + (f", web service {args.ws_calls} x {args.ws_learners}" if args.ws_calls else "") + ")")
    say(f"  {'step':<34} {'seconds':>8} {'learners/s':>11} {'peak RSS MB':>12} {'CPU s':>8}")
    for step in results["_steps"]:
        say(f"  {step.label:<34} {step.seconds:8.1f} {step.per_second:11,.0f} {step.peak_rss_mb:12.0f} {step.cpu_seconds:8.1f}")
    if "_ws" in results:
        submitted, accepted, outputs, p50, p99, _ = results["_ws"]
        say(f"  {'SubmitBatch calls':<34} {submitted.seconds:8.1f} {len(accepted) * args.ws_learners / submitted.seconds:11,.0f} "
            f"{'':>12} {'':>8}   {len(accepted) / submitted.seconds:.1f} calls/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms")
        say(f"  {'GetSubmitBatchOutput calls':<34} {outputs.seconds:8.1f} {len(accepted) * args.ws_learners / outputs.seconds:11,.0f} "
            f"{'':>12} {'':>8}   {len(accepted) / outputs.seconds:.1f} calls/s")
    rate_ok = worker.per_second >= GOAL_LEARNERS_PER_SECOND
    rss_ok = worker.peak_rss_mb <= GOAL_WORKER_RSS_MB
    say(f"  goal: processing >= {GOAL_LEARNERS_PER_SECOND:,} learners/s (file job, worker wall time)   "
        f"{worker.per_second:9,.0f} learners/s   {'PASS' if rate_ok else 'FAIL'}")
    say(f"  goal: worker peak RSS <= {GOAL_WORKER_RSS_MB} MB (file job)                       "
        f"{worker.peak_rss_mb:9,.0f} MB           {'PASS' if rss_ok else 'FAIL'}")
    results["goals"] = {
        "processing_learners_per_second": {"goal": GOAL_LEARNERS_PER_SECOND, "measured": worker.per_second, "pass": rate_ok},
        "worker_peak_rss_mb": {"goal": GOAL_WORKER_RSS_MB, "measured": worker.peak_rss_mb, "pass": rss_ok},
    }
    if args.json:
        data = {k: v for k, v in results.items() if not k.startswith("_")}
        Path(args.json).write_text(json.dumps(data, indent=2, default=str) + "\n")
        say(f"wrote {args.json}")


if __name__ == "__main__":
    main()
