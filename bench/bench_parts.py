"""One LRB file run by one batch worker and by two, alternately: what running a big job in parts
(lrs_ws.services.job_runner: parts of about 5,000 learners that any worker claims) buys.

Each round works on a fresh copy of the cached register (bench_batch's, built once), submits the
same file (bench_batch's realistic mix), starts K `lrs-ws worker` processes at once, and times
from their start until the job is completed. Rounds alternate 1, 2, 1, 2, ... so both see the
same machine; the ratio of each pair (two workers' time over one's) is printed with its range:

    python bench/bench_parts.py --postgres postgresql://postgres@127.0.0.1:5432/test [--register 100000] [--file-learners 20000] [--pairs 2]
"""
from __future__ import annotations

import argparse
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.bench_batch import (  # noqa: E402
    DATA,
    FILE_MIX,
    UKPRN,
    FreshLearners,
    count_learners,
    existing_needed,
    lrs,
    make_learners,
    postgres_register,
    run_copy,
    sample_learners,
    sqlite_register,
)
from lrs_ws.adapters.lrb import layout, names, writing  # noqa: E402


def one_round(register, workdir: Path, server_url: str | None, path: Path, workers: int) -> float:
    """Seconds from starting `workers` workers until the submitted file's job is completed."""
    with run_copy(register, workdir, server_url, False) as (url, _):
        submitted = subprocess.run(lrs("batch", "submit", str(path), "--user", "batch", "--database-url", url),
                                   capture_output=True, text=True, cwd=workdir, check=True)
        job_id = int(submitted.stdout.split("Queued job ")[1].split()[0].rstrip(":,."))
        engine = create_engine(url)
        logs = [open(workdir / f"worker-{workers}-{n}.log", "w") for n in range(workers)]  # noqa: SIM115 - closed below
        started = time.perf_counter()
        processes = [subprocess.Popen(lrs("worker", "--database-url", url), stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
                     for log in logs]
        try:
            while True:
                with engine.connect() as connection:
                    status = connection.execute(text("SELECT status FROM batch_jobs WHERE id = :id"), {"id": job_id}).scalar()
                if status in ("Completed", "Failed"):  # lrs_ws.domain.batch.JobStatus
                    break
                if any(process.poll() is not None for process in processes):
                    raise SystemExit(f"a worker ended early; see {workdir}")
                time.sleep(0.1)
            seconds = time.perf_counter() - started
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=60)
            for log in logs:
                log.close()
            engine.dispose()
        if status != "Completed":
            raise SystemExit(f"the job {status}; see {workdir}")
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL", help="run on this PostgreSQL server instead of SQLite")
    parser.add_argument("--register", type=int, default=100_000, metavar="N")
    parser.add_argument("--file-learners", type=int, default=20_000, metavar="M")
    parser.add_argument("--pairs", type=int, default=2, help="rounds of one worker and of two, alternately")
    args = parser.parse_args()
    register = postgres_register(args.register, args.postgres) if args.postgres else sqlite_register(args.register)
    DATA.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="parts-", dir=DATA))
    try:
        rng = random.Random(1)
        with run_copy(register, workdir, args.postgres, False) as (url, _):
            existing = iter(sample_learners(url, existing_needed(FILE_MIX, args.file_learners), count_learners(url), rng))
            learners = make_learners(FILE_MIX, args.file_learners, rng, FreshLearners(seed=1001), existing)
        path = workdir / names.file_name_for(UKPRN, datetime.now(), "CSV")
        writing.write_lrb(path, layout.Header("2A", "bench_parts", UKPRN, len(learners)), learners)
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(f"{backend}, register {args.register:,}, LRB file {args.file_learners:,} learners; rounds alternate 1 and 2 workers")
        ratios, rates = [], {1: [], 2: []}
        for pair in range(args.pairs):
            timed = {}
            for workers in (1, 2) if pair % 2 == 0 else (2, 1):
                timed[workers] = one_round(register, workdir, args.postgres, path, workers)
                rates[workers].append(args.file_learners / timed[workers])
                print(f"  {workers} worker{'s' if workers > 1 else ''}: {timed[workers]:6.1f} s  {rates[workers][-1]:7,.0f} learners/s")
            ratios.append(timed[2] / timed[1])
        print(f"two workers' time / one's: median {statistics.median(ratios):.2f} (pairs {min(ratios):.2f}-{max(ratios):.2f}); "
              f"learners/s one {statistics.median(rates[1]):,.0f}, two {statistics.median(rates[2]):,.0f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
