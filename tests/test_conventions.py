"""Project-wide conventions that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK = ROOT / "supervision" / "clock.py"

#: ``<receiver>.<method>()`` calls that read the wall clock, by the receiver's last name:
#: ``datetime.now()``, ``dt.datetime.utcnow()``, ``date.today()``, ``time.time()``...
CLOCK_READS = {
    "datetime": {"now", "utcnow", "today"},
    "date": {"today"},
    "time": {"time", "time_ns"},
}


def _sources() -> list[Path]:
    files = [*(ROOT / "supervision").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")]
    return sorted(path for path in files if path != CLOCK)


def _receiver(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def clock_reads(source: str) -> list[tuple[int, str]]:
    """(line, call) for every call in ``source`` that reads the wall clock directly."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = _receiver(node.func.value)
            if receiver is not None and node.func.attr in CLOCK_READS.get(receiver, ()):
                found.append((node.lineno, f"{receiver}.{node.func.attr}()"))
    return found


def test_the_detector_finds_each_form() -> None:
    calls = [
        "datetime.now(UTC)",
        "dt.datetime.now()",
        "datetime.datetime.utcnow()",
        "date.today()",
        "dt.date.today()",
        "datetime.today()",
        "time.time()",
    ]
    assert [line for line, _ in clock_reads("\n".join(calls))] == list(range(1, len(calls) + 1))
    allowed = "clock.now()\nclock.today()\ntime.monotonic()\ntime.perf_counter()\nnow.date()"
    assert clock_reads(allowed) == []


def test_only_the_clock_reads_the_clock() -> None:
    """Tests move time with time-machine through supervision.clock; a direct read of the
    wall clock elsewhere would escape it (durations use time.monotonic/perf_counter)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {call}"
        for path in _sources()
        for line, call in clock_reads(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "use supervision.clock.now()/today() instead:\n" + "\n".join(offenders)
