"""Benchmark: a whole province on PostgreSQL, phase by phase, with the memory of each phase.

    python benchmarks/bench_province.py [--entities 2600000] [--workers 2] [--clients 20]
                                        [--seconds 10] [--compare 1000000|FILE.json]
                                        [--pg URL] [--keep] [--json]

1. A fresh PostgreSQL database on ``--pg`` ($SUPERVISION_BENCH_PG, default
   postgresql+psycopg://postgres@127.0.0.1:5432), dropped afterwards unless ``--keep``.
2. Phases, each in its own child process (the real code paths; most are the real
   ``supervision`` command) while a thread of this process samples, every 50 ms, the summed
   RSS of every process below it (the phase's process and its worker children):
   - *load*: the demo generator's bulk path (``DemoProvince`` + ``load_demo``, one
     transaction), about 8 records per entity;
   - *draw*: the demo's plan, its two tasks committed (a single-department task with 4
     strata, A–D risk classes, and a joint task stratified by risk class and region), and
     both drawn;
   - *check-first*: ``supervision check --full --workers N`` deriving every entity;
   - *check-steady*: the same again (stored fact templates reused);
   - *check-incremental*: ``supervision check --workers N`` after one new record for every
     100th entity (1%);
   - *publish-first* and *publish-incremental*: ``supervision publish`` into a new folder,
     then again into the same folder;
   - *console*: the console's review queue (first page and a deep keyset page) under
     ``--clients`` connections, with bench_console.py's machinery (``supervision serve``,
     wrk); its figure is the p95 latency, and its RSS counts the server's processes.
   After each phase, untimed, what it left dirty is written out (``CHECKPOINT``, ``sync``:
   ``settle``) so that no phase pays for its predecessor's writes; the seconds that took
   are printed as the phase's "settle s".
3. Prints one table: wall time, throughput, peak RSS of the phase's processes together, and
   the database size after the phase (pg_database_size); the goals (peak RSS ≤ 2 GB in
   every phase, console p95 < 100 ms); above it, the server's settings that bear on a large
   database (``shared_buffers``, ``work_mem``, …): the figures depend on them.
   ``--compare M`` first runs the same at M entities (or reads a JSON printed by an
   earlier ``--json`` run: ``--compare FILE.json``) and prints each phase's cost per
   entity at N against M (goal ≤ 1.15: cost grows linearly); for the console the ratio of
   the p95 latencies.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_console import (
    console_process,
    deep_cursor,
    postgres_url,
    session_token,
    wrk_load,
)
from tree_memory import TreeRss

from supervision.db import Database

AS_OF = dt.date(2026, 11, 20)
SEED = 2026
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
GOAL_RSS_MB = 2048.0
GOAL_P95_MS = 100.0
GOAL_RATIO = 1.15
REVIEWER = "bench-reviewer"
PHASES = (
    "load",
    "draw",
    "check-first",
    "check-steady",
    "check-incremental",
    "publish-first",
    "publish-incremental",
    "console",
)
HERE = Path(__file__).resolve()


# --------------------------------------------------------------------------- memory
# --------------------------------------------------------------------------- phases
def database_size_mb(url: str) -> float:
    database = Database(url, migrate=False)
    try:
        with database.engine.connect() as conn:
            size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one()
        return round(int(size) / 2**20, 1)
    finally:
        database.dispose()


#: The server settings that decide how much of a large province's working set PostgreSQL
#: itself caches and sorts in memory: printed beside the figures, which depend on them.
SERVER_SETTINGS = ("server_version", "shared_buffers", "work_mem", "effective_cache_size",
                   "max_wal_size")  # fmt: skip


def server_settings(url: str) -> dict[str, str]:
    database = Database(url, migrate=False)
    try:
        with database.engine.connect() as conn:
            return {name: str(conn.exec_driver_sql(f"SHOW {name}").scalar_one())
                    for name in SERVER_SETTINGS}  # fmt: skip
    finally:
        database.dispose()


def run_child(command: list[str]) -> tuple[float, tuple[float, float], str]:
    """Run ``command`` while sampling its process tree: (seconds, peak RSS and PSS MB,
    stdout)."""
    with TreeRss() as rss:
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"phase failed: {' '.join(command)}\n{done.stdout}\n{done.stderr}")
    return seconds, (rss.peak_mb, rss.peak_pss_mb), done.stdout


def cli(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "supervision", "--db", url, *args]


def internal(url: str, step: str, entities: int = 0) -> list[str]:
    return [sys.executable, str(HERE), "--step", step, "--db", url, "--entities", str(entities)]


def step_load(url: str, entities: int) -> dict[str, Any]:
    from supervision.demo.load import load_demo
    from supervision.demo.province import DemoProvince

    database = Database(url)
    try:
        result = load_demo(database, DemoProvince(entities=entities, seed=SEED, as_of=AS_OF))
        return {"rows": sum(result.rows.values())}
    finally:
        database.dispose()


def step_draw(url: str) -> dict[str, Any]:
    from supervision.demo.draws import demo_draw_step, demo_seed
    from supervision.draw.service import draw_task

    database = Database(url, migrate=False)
    try:
        made = demo_draw_step(database, as_of=AS_OF, seed=SEED)
        with database.session() as session:
            joint = draw_task(session, code=made["committed_only"], seed=demo_seed(SEED + 1))
        return {"picked": made["picked"] + joint["picked"]}
    finally:
        database.dispose()


def step_change(url: str) -> dict[str, Any]:
    """One new complaint record for every 100th entity (in one INSERT … SELECT)."""
    database = Database(url, migrate=False)
    day = AS_OF - dt.timedelta(days=3)
    try:
        with database.engine.begin() as conn:
            changed = conn.exec_driver_sql(
                "INSERT INTO compliance_record "
                "(record_id, uscc, kind, event_date, payload, source, received_at, stored_at) "
                "SELECT 'BENCH-' || lpad(n::text, 8, '0'), uscc, 'complaint', %(day)s, "
                "CAST(%(payload)s AS json), 'bench', now(), now() FROM "
                "(SELECT uscc, row_number() OVER (ORDER BY uscc) - 1 AS n FROM entity) e "
                "WHERE n %% 100 = 0",
                {"day": day, "payload": json.dumps({"received_on": day.isoformat(),
                                                    "summary": "bench"})},
            ).rowcount  # fmt: skip
        return {"changed": changed}
    finally:
        database.dispose()


def step_reviewer(url: str) -> dict[str, Any]:
    database = Database(url, migrate=False)
    try:
        return {"token": session_token(database, REVIEWER), "deep": deep_cursor(database)}
    finally:
        database.dispose()


def run_step(step: str, url: str, entities: int) -> None:
    """The child side of an internal phase: do it and print its JSON."""
    result = {
        "load": lambda: step_load(url, entities),
        "draw": lambda: step_draw(url),
        "change": lambda: step_change(url),
        "reviewer": lambda: step_reviewer(url),
    }[step]()
    print(json.dumps(result))


def settle(url: str) -> float:
    """Write out what a phase left dirty before the next one starts: PostgreSQL's dirty
    buffers (``CHECKPOINT``), then the kernel's dirty pages (``sync``). Returns the seconds
    it took (printed beside the phase, not hidden).

    Without it a phase paid for its predecessor's writes: at 2.6M entities the first
    checks leave gigabytes to write back, and the incremental check that followed took
    64 s against 16–21 s on the same database once settled, which read as cost growing
    faster than the province. A role that may not ``CHECKPOINT`` (neither superuser nor
    ``pg_checkpoint``) settles the kernel's pages only, and is told so."""
    from sqlalchemy.exc import DBAPIError

    started = time.perf_counter()
    database = Database(url, migrate=False)
    try:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("CHECKPOINT")
    except DBAPIError as error:
        print(f"note: no CHECKPOINT between phases ({str(error.orig).strip()})", file=sys.stderr)
    finally:
        database.dispose()
    os.sync()
    return time.perf_counter() - started


def _phase(
    name: str, seconds: float, memory: tuple[float, float], url: str, count: int, unit: str
) -> dict[str, Any]:
    """A phase's figures (also told on stderr as soon as measured: a long run that is
    stopped half-way still shows what it measured), once what it wrote is settled."""
    settled = settle(url)
    phase = {
        "phase": name,
        "seconds": round(seconds, 2),
        "count": count,
        "unit": unit,
        "throughput": round(count / seconds, 1) if seconds > 0 else 0.0,
        "peak_rss_mb": round(memory[0], 1),
        "peak_pss_mb": round(memory[1], 1),
        "db_mb": database_size_mb(url),
        "settle_seconds": round(settled, 2),
    }
    print(f"measured {json.dumps(phase)}", file=sys.stderr, flush=True)
    return phase


def run_province(
    base: str, entities: int, *, workers: int, clients: int, seconds: float, keep: bool
) -> dict[str, Any]:
    phases: list[dict[str, Any]] = []
    with postgres_url(base, keep=keep) as url, tempfile.TemporaryDirectory(
        prefix="bench_province_"
    ) as tmp:  # fmt: skip
        # migrate before timing anything (Database() migrates a new database)
        Database(url).dispose()
        settings = server_settings(url)
        s, rss, out = run_child(internal(url, "load", entities))
        loaded = json.loads(out)
        phases.append({**_phase("load", s, rss, url, entities, "entities/s"), **loaded})
        s, rss, out = run_child(internal(url, "draw"))
        phases.append({**_phase("draw", s, rss, url, entities, "entities/s"), **json.loads(out)})
        check = ["check", "--as-of", AS_OF.isoformat(), "--workers", str(workers), "--json"]
        for name in ("check-first", "check-steady"):
            s, rss, out = run_child(cli(url, *check, "--full"))
            summary = json.loads(out)
            phases.append({**_phase(name, s, rss, url, entities, "entities/s"),
                           "checked": summary.get("entities_checked")})  # fmt: skip
        changed = json.loads(run_child(internal(url, "change"))[2])["changed"]
        settle(url)
        s, rss, out = run_child(cli(url, *check))
        summary = json.loads(out)
        phases.append({**_phase("check-incremental", s, rss, url, changed, "entities/s"),
                       "checked": summary.get("entities_checked")})  # fmt: skip
        reviewer = json.loads(run_child(internal(url, "reviewer"))[2])
        site = Path(tmp) / "site"
        publish = ["publish", "--out", str(site), "--as", REVIEWER, "--json"]
        for name in ("publish-first", "publish-incremental"):
            s, rss, out = run_child(cli(url, *publish))
            report = json.loads(out)
            phases.append({**_phase(name, s, rss, url, entities, "entities/s"),
                           "written": report.get("written")})  # fmt: skip
        findings = count_findings(url)
        paths = {"first": ("/review", reviewer["token"]),
                 "deep": (f"/review?after={reviewer['deep']}", reviewer["token"])}  # fmt: skip
        analyze(url)  # fresh planner statistics over the findings, as bench_console does
        with TreeRss() as rss_console, console_process(url, site=site) as server:
            measured = wrk_load(server, paths, clients, seconds, Path(tmp))
        p95 = max(m["p95_us"] for m in measured.values()) / 1000
        bad = sum(m["bad"] + m["socket_errors"] for m in measured.values())
        requests = sum(m["requests"] for m in measured.values())
        console = _phase("console", seconds * len(paths),
                         (rss_console.peak_mb, rss_console.peak_pss_mb), url,
                         requests, "requests/s")  # fmt: skip
        console.update({"p95_ms": round(p95, 1), "findings": findings, "bad": bad,
                        "pages": {k: round(m["p95_us"] / 1000, 1) for k, m in measured.items()}})  # fmt: skip
        phases.append(console)
    return {"entities": entities, "workers": workers, "clients": clients, "phases": phases,
            "server": settings, "cpus": os.cpu_count(),
            "load_average": round(os.getloadavg()[0], 2)}  # fmt: skip


def analyze(url: str) -> None:
    database = Database(url, migrate=False)
    try:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    finally:
        database.dispose()


def count_findings(url: str) -> int:
    database = Database(url, migrate=False)
    try:
        with database.engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM finding").scalar_one())
    finally:
        database.dispose()


# --------------------------------------------------------------------------- report
def per_entity(phase: dict[str, Any], entities: int) -> float:
    """Seconds per entity of the province (the console: its p95 latency)."""
    if phase["phase"] == "console":
        return float(phase["p95_ms"])
    return float(phase["seconds"]) / entities


def compare(result: dict[str, Any], anchor: dict[str, Any]) -> dict[str, float | None]:
    theirs = {p["phase"]: p for p in anchor["phases"]}
    ratios: dict[str, float | None] = {}
    for phase in result["phases"]:
        other = theirs.get(phase["phase"])
        if other is None:
            ratios[phase["phase"]] = None
            continue
        a = per_entity(other, anchor["entities"])
        ratios[phase["phase"]] = round(per_entity(phase, result["entities"]) / a, 2) if a else None
    return ratios


def load_anchor(path: str, workers: int) -> dict[str, Any]:
    """The run to compare with, from the JSON an earlier ``--json`` run printed."""
    try:
        anchor = json.loads(Path(path).read_text(encoding="utf-8"))
        phases = {p["phase"] for p in anchor["phases"]}
        entities = int(anchor["entities"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SystemExit(f"--compare {path}: not the JSON of a bench_province --json run "
                         f"({error})") from None  # fmt: skip
    if not phases <= set(PHASES) or entities <= 0:
        raise SystemExit(f"--compare {path}: not the JSON of a bench_province --json run")
    if anchor.get("workers") != workers:
        print(f"note: {path} was measured with --workers {anchor.get('workers')}", file=sys.stderr)
    return dict(anchor)


def table(result: dict[str, Any]) -> str:
    n = result["entities"]
    ratios = result.get("ratios") or {}
    anchor = result.get("compare_entities")
    lines = [
        f"province of {n:,} entities on PostgreSQL, --workers {result['workers']}, "
        f"{result['cpus']} CPUs, load average {result['load_average']}",
        "server: " + ", ".join(f"{k} {v}" for k, v in (result.get("server") or {}).items()),
        f"{'phase':<20}{'seconds':>9}{'throughput':>22}{'peak RSS MB':>13}{'(PSS)':>8}{'db MB':>9}"
        f"{'settle s':>10}" + (f"{'per entity vs ' + format(anchor, ','):>24}" if anchor else ""),
    ]
    for p in result["phases"]:
        rate = f"{p['throughput']:,.0f} {p['unit']}"
        line = (f"{p['phase']:<20}{p['seconds']:>9.2f}{rate:>22}{p['peak_rss_mb']:>13.0f}"
                f"{p['peak_pss_mb']:>8.0f}{p['db_mb']:>9.0f}{p.get('settle_seconds', 0):>10.1f}")  # fmt: skip
        if anchor:
            r = ratios.get(p["phase"])
            line += f"{'n/a' if r is None else format(r, '.2f') + '×':>24}"
        if p["phase"] == "console":
            line += f"   p95 {p['p95_ms']:.1f} ms over {p['findings']:,} findings"
        lines.append(line)
    peak = max(p["peak_rss_mb"] for p in result["phases"])
    console = next(p for p in result["phases"] if p["phase"] == "console")
    lines.append(f"goals: peak RSS ≤ {GOAL_RSS_MB:.0f} MB in every phase: "
                 f"{'met' if peak <= GOAL_RSS_MB else 'NOT met'} (peak {peak:.0f} MB); "
                 f"console p95 < {GOAL_P95_MS:.0f} ms: "
                 f"{'met' if console['p95_ms'] < GOAL_P95_MS else 'NOT met'}")  # fmt: skip
    if anchor:
        worst = max((r for r in ratios.values() if r is not None), default=0.0)
        lines.append(f"per-entity cost at {n:,} vs {anchor:,} ≤ {GOAL_RATIO}× in every phase: "
                     f"{'met' if worst <= GOAL_RATIO else 'NOT met'} (worst {worst:.2f}×)")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=2_600_000)
    parser.add_argument("--workers", type=int, default=2, help="check worker processes")
    parser.add_argument("--clients", type=int, default=20, help="console connections (wrk)")
    parser.add_argument("--seconds", type=float, default=10.0, help="console load per page")
    parser.add_argument("--compare", help="a size to run first, or a JSON of an earlier --json run")
    parser.add_argument("--pg", default=os.environ.get("SUPERVISION_BENCH_PG", DEFAULT_PG))
    parser.add_argument("--keep", action="store_true", help="keep the database(s)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--step", help=argparse.SUPPRESS)  # a phase's child process
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step:
        run_step(args.step, args.db, args.entities)
        return None
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    options = {"workers": args.workers, "clients": args.clients, "seconds": args.seconds,
               "keep": args.keep}  # fmt: skip
    anchor: dict[str, Any] | None = None
    if args.compare:
        if args.compare.isdigit():
            anchor = run_province(args.pg, int(args.compare), **options)
        else:
            anchor = load_anchor(args.compare, args.workers)
    result = run_province(args.pg, args.entities, **options)
    if anchor is not None:
        result["compare_entities"] = anchor["entities"]
        result["ratios"] = compare(result, anchor)
        result["anchor"] = {k: v for k, v in anchor.items() if k != "anchor"}
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        if anchor is not None and args.compare and args.compare.isdigit():
            print(table(anchor))
            print()
        print(table(result))
    return result


if __name__ == "__main__":
    main()
