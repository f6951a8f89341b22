"""The batch worker alone, at an older revision and at this checkout, run alternately on the same jobs.

    python bench/bench_worker.py OLD_REV [--postgres URL] [--register N] [--file-learners M]
                                 [--ws-jobs J] [--pairs K]

On bench_batch's cached register (built once), two snapshots are made once and cached: one with
an LRB file job of M learners submitted (bench_batch's mix: `batch submit`), one with J jobs of
200 learners as SubmitBatch stores them (bench_batch's web-service mix). Each round copies a
snapshot and times `python -m lrs_ws worker --until-idle` run from the older revision's worktree
(bench/.data/rev-<sha>, as compare_revisions makes it) and from this checkout, in turn (old,
new, old, new...), so that both see the machine in the same mood. Every run's outcomes (return
code of every learner, the ULN found) must be the same as the first run's: a ULN issued (RC003)
is random, so only its code is compared. Prints each run (wall and CPU seconds, learners/s) and
per kind the median rates and the spread.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench import bench_batch as b  # noqa: E402
from bench.compare_revisions import worktree  # noqa: E402
from lrs_ws.adapters.engines import normalise_url  # noqa: E402

DATA = ROOT / "bench" / ".data"


def snapshot_name(args, kind: str) -> str:
    backend = "pg" if args.postgres else "sqlite"
    size = args.file_learners if kind == "file" else args.ws_jobs
    return f"lrs_bench_worker_{backend}_{args.register}_{kind}_{size}"


def prepare(args, register: b.Register, kind: str) -> None:
    """The register with the kind's jobs submitted (cached)."""
    name = snapshot_name(args, kind)
    rng = random.Random(args.seed)
    if args.postgres:
        admin = b._admin(args.postgres)
        with admin.connect() as conn:
            if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                return
            b._drop(conn, f"{name}_building")  # an interrupted one
            conn.execute(text(f'CREATE DATABASE "{name}_building" TEMPLATE "{register.url.rsplit("/", 1)[1]}"'))
        url = b._on_server(args.postgres, f"{name}_building")
    else:
        target = DATA / f"{name}.sqlite3"
        if target.exists():
            return
        building = DATA / f"{name}.building.sqlite3"
        shutil.copyfile(register.url.removeprefix("sqlite:///"), building)
        url = f"sqlite:///{building}"
    b.say(f"preparing {name} ...")
    need = b.existing_needed(b.FILE_MIX, args.file_learners) if kind == "file" else b.existing_needed(b.WS_MIX, 200) * args.ws_jobs
    existing = iter(b.sample_learners(url, need, args.register, rng))
    fresh = b.FreshLearners(seed=args.seed + 1000)
    if kind == "file":
        learners = b.make_learners(b.FILE_MIX, args.file_learners, rng, fresh, existing)
        path = DATA / b.names.file_name_for(b.UKPRN, datetime.now(), "CSV")
        b.writing.write_lrb(path, b.layout.Header("2A", "bench_worker", b.UKPRN, args.file_learners), learners)
        subprocess.run(b.lrs("batch", "submit", str(path), "--user", "batch", "--database-url", url), check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
        path.unlink()
    else:
        submit_web_service_jobs(url, [b.make_learners(b.WS_MIX, 200, rng, fresh, existing) for _ in range(args.ws_jobs)])
    if args.postgres:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}_building" RENAME TO "{name}"'))
        admin.dispose()
    else:
        import contextlib
        import sqlite3

        with contextlib.closing(sqlite3.connect(building)) as conn:  # fold the WAL in: one file to copy
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        os.replace(building, DATA / f"{name}.sqlite3")
        for suffix in ("-wal", "-shm", ".write-turn"):
            Path(f"{building}{suffix}").unlink(missing_ok=True)


def submit_web_service_jobs(url: str, jobs: list[list[dict[str, str]]]) -> None:
    """Jobs stored as submitBatchRegistration stores them (the service, without the HTTP)."""
    from lrs_ws.bootstrap import unit_of_work_factory
    from lrs_ws.cli.app import open_engine
    from lrs_ws.domain.batch import JobLearner, JobSource, JobType
    from lrs_ws.services import batch as batches

    engine = open_engine(url)
    try:
        for learners in jobs:
            with unit_of_work_factory(engine)() as uow:
                caller = batches.file_submitter(uow, b.UKPRN, "batch")
                job = [JobLearner(position, dict(fields)) for position, fields in enumerate(learners, 1)]
                batches.submit(uow, caller, JobType.FULL, job, len(job), now=uow.clock.now(), source=JobSource.WEB_SERVICE)
    finally:
        engine.dispose()


def fresh_copy(args, kind: str) -> str:
    name = snapshot_name(args, kind)
    if args.postgres:
        admin = b._admin(args.postgres)
        with admin.connect() as conn:
            b._drop(conn, f"{name}_run")
            conn.execute(text(f'CREATE DATABASE "{name}_run" TEMPLATE "{name}"'))
        admin.dispose()
        return b._on_server(args.postgres, f"{name}_run")
    target = DATA / f"{name}_run.sqlite3"
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(DATA / f"{name}.sqlite3", target)
    return f"sqlite:///{target}"


def outcomes(url: str) -> list[tuple]:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT job_id, position, return_code, uln FROM batch_job_learners ORDER BY job_id, position"))
            return [(job, position, code, None if code == "RC003" else uln) for job, position, code, uln in rows]
    finally:
        engine.dispose()


def run_worker(directory: Path, url: str) -> tuple[float, float]:
    """Wall and CPU seconds of `lrs-ws worker --until-idle` run from `directory`'s code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lrs_ws", "worker", "--until-idle", "--database-url", url], cwd=directory,
                   env=dict(os.environ, PYTHONPATH=str(directory)), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", help="the older revision (a commit, tag or branch)")
    parser.add_argument("--postgres", metavar="URL", help="on this PostgreSQL server instead of SQLite")
    parser.add_argument("--register", type=int, default=1_000_000, metavar="N")
    parser.add_argument("--file-learners", type=int, default=100_000, metavar="M", help="0: no file job")
    parser.add_argument("--ws-jobs", type=int, default=50, metavar="J", help="jobs of 200 learners (0: none)")
    parser.add_argument("--pairs", type=int, default=2, metavar="K")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    register = b.postgres_register(args.register, args.postgres) if args.postgres else b.sqlite_register(args.register)
    kinds = [kind for kind, n in (("file", args.file_learners), ("ws", args.ws_jobs)) if n]
    for kind in kinds:
        prepare(args, register, kind)
    old = worktree(args.old)
    b.say(f"bench_worker {datetime.now():%Y-%m-%d %H:%M} {'PostgreSQL' if args.postgres else 'SQLite'}, register {args.register:,}; "
          f"old {args.old} ({old}), new {b.git_state()}")
    rates: dict[tuple[str, str], list[float]] = {}
    for kind in kinds:
        expected = None
        for pair in range(args.pairs):
            for label, directory in (("old", old), ("new", ROOT)):
                url = fresh_copy(args, kind)
                wall, cpu = run_worker(directory, url)
                found = outcomes(url)
                if expected is None:
                    expected = found
                same = "same outcomes" if found == expected else "OUTCOMES DIFFER"
                rate = len(found) / wall
                rates.setdefault((kind, label), []).append(rate)
                b.say(f"  {kind:<4} pair {pair + 1} {label}: {len(found):,} learners {wall:6.1f} s (CPU {cpu:5.1f} s) "
                      f"{rate:7,.0f} learners/s, load {os.getloadavg()[0]:.1f}; {same}")
    for kind in kinds:
        old_rates, new_rates = rates[kind, "old"], rates[kind, "new"]
        b.say(f"{kind}: old {statistics.median(old_rates):,.0f} learners/s ({min(old_rates):,.0f}-{max(old_rates):,.0f}), "
              f"new {statistics.median(new_rates):,.0f} ({min(new_rates):,.0f}-{max(new_rates):,.0f}), "
              f"x{statistics.median(new_rates) / statistics.median(old_rates):.2f}")


if __name__ == "__main__":
    main()
