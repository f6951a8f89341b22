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


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (function-level imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _breaches(folder: str, allowed: tuple[str, ...], forbidden: tuple[str, ...] = ()) -> list[str]:
    """Imports by modules below ``folder`` of lrs_ws modules outside ``allowed``, or of ``forbidden`` ones."""
    breaches = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for module in sorted(_imports(path)):
            ours = module == "lrs_ws" or module.startswith("lrs_ws.")
            if (ours and not module.startswith(allowed)) or module.startswith(forbidden):
                breaches.append(f"{path.relative_to(ROOT)} imports {module}")
    return breaches


def test_imports_go_one_way():
    """domain <- services; the contract is a leaf (it may read domain constants, never spyne);
    soap and adapters may import the contract; adapters, services, domain and the contract never
    import lrs_ws.soap; the domain needs no lxml."""
    assert _breaches("lrs_ws/domain", ("lrs_ws.domain",), forbidden=("lxml",)) == []
    assert _breaches("lrs_ws/services", ("lrs_ws.domain", "lrs_ws.services", "lrs_ws.clock")) == []
    assert _breaches("lrs_ws/contract", ("lrs_ws.contract", "lrs_ws.domain"), forbidden=("spyne",)) == []
    assert _breaches("adapters", ("lrs_ws",), forbidden=("lrs_ws.soap",)) == []


def test_the_console_is_an_entry_point_only():
    """The console's pages call use cases and ports; they reach no SOAP, no SQL, no table."""
    allowed = ("lrs_ws.console", "lrs_ws.services", "lrs_ws.domain", "lrs_ws.contract", "lrs_ws.web", "lrs_ws.clock",
               "lrs_ws.runtime", "lrs_ws.worker", "lrs_ws.adapters.engines", "lrs_ws.adapters.lrb")
    found = _breaches("lrs_ws/console", allowed, forbidden=("sqlalchemy", "spyne", "lrs_ws.soap"))
    breaches = [b for b in found if not b.endswith(" imports lrs_ws")]
    assert breaches == []  # `from lrs_ws import __version__` aside


def test_no_module_is_longer_than_700_lines():
    long = {str(path.relative_to(ROOT)): lines for path in SOURCES if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 700}
    assert long == {}, "split these by concern: " + ", ".join(f"{path} ({lines} lines)" for path, lines in long.items())


def test_soap_is_imported_only_by_the_front_and_the_composition():
    importers = {
        str(path.relative_to(ROOT))
        for path in SOURCES
        if not str(path.relative_to(ROOT)).startswith(("lrs_ws/soap/", "lrs_ws/web/"))
        and any(module == "lrs_ws.soap" or module.startswith("lrs_ws.soap.") for module in _imports(path))
    }
    assert importers <= {"lrs_ws/bootstrap.py"}, importers
