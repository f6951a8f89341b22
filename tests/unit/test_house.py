"""The house rules that keep the code findable, checked on the source itself (docs/architecture.md)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "lrs_ws").rglob("*.py"), *(ROOT / "adapters").rglob("*.py")])
# What reads the host's calendar or wall clock; time.monotonic() (timeouts) is not "now".
NOW_READERS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"), ("time", "time")}


def _reads_of_now(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and (node.func.value.id, node.func.attr) in NOW_READERS
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.func.value.id}.{node.func.attr}()")
    return found


def test_only_the_clock_reads_now():
    readers = [read for path in SOURCES if path != ROOT / "lrs_ws" / "clock.py" for read in _reads_of_now(path)]
    assert readers == [], "read the time through lrs_ws.clock (uow.clock, or SYSTEM_CLOCK for the host's own):\n" + "\n".join(readers)
