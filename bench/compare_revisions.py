"""In-process cost of each operation at an older revision and at this checkout, run alternately.

    python bench/compare_revisions.py OLD_REV [--rounds 3] [--requests 1000]
                                      [--learners 100000 1000000] [--postgres URL]

The older revision is checked out once as a git worktree under bench/.data/rev-<sha>, with its
`adapters/` reachable as `lrs_ws.adapters` and this checkout's cached SQLite registers linked in,
and `bench/profile_request.py` runs there and here in turn (old, new, old, new...) on the same
registers, so that both see the machine in the same mood. It prints each run's mean per
operation and then, per operation, the old and the new means side by side. An older revision must
still read the current schema (columns added since are ignored).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
LINE = re.compile(r"^(?P<op>.+?)\s{2,}\s*(?P<n>[\d,]+) learners\s+mean\s+(?P<mean>[\d.]+) ms")


def worktree(rev: str) -> Path:
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    path = DATA / f"rev-{sha}"
    if not path.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha], cwd=ROOT, check=True, capture_output=True)
        (path / "lrs_ws" / "adapters").symlink_to(Path("..") / "adapters")  # setup.cfg maps it so when installed
    data = path / "bench" / ".data"
    data.mkdir(parents=True, exist_ok=True)
    for register in DATA.glob("lrs-*.sqlite3"):
        link = data / register.name
        if not link.exists():
            link.symlink_to(register)
    return path


def profile(directory: Path, learners: int, args) -> dict[str, float]:
    command = [sys.executable, "bench/profile_request.py", "--learners", str(learners), "--requests", str(args.requests)]
    if args.postgres:
        command += ["--postgres", args.postgres]
    out = subprocess.run(command, cwd=directory, check=True, capture_output=True, text=True).stdout
    return {m["op"].strip(): float(m["mean"]) for m in map(LINE.match, out.splitlines()) if m}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", help="the older revision (a commit, tag or branch)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--learners", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--postgres", metavar="URL", help="the registers on this PostgreSQL server instead of SQLite")
    args = parser.parse_args()
    old = worktree(args.old)
    for learners in args.learners:
        means: dict[tuple[str, str], list[float]] = defaultdict(list)
        for round_ in range(1, args.rounds + 1):
            for label, directory in (("old", old), ("new", ROOT)):
                for op, mean in profile(directory, learners, args).items():
                    means[op, label].append(mean)
                    print(f"{learners:>9,} round {round_} {label}  {op:<27} mean {mean:.2f} ms", flush=True)
        print(f"\n{learners:,} learners, mean ms per request, old -> new ({args.old} -> this checkout):")
        for op in dict.fromkeys(op for op, _ in means):
            old_means, new_means = means[op, "old"], means[op, "new"]
            print(f"  {op:<27} {min(old_means):.2f}-{max(old_means):.2f} -> {min(new_means):.2f}-{max(new_means):.2f}")
        print()


if __name__ == "__main__":
    main()
