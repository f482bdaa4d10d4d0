"""Benchmark: the console's review queue under concurrent clients, on SQLite and PostgreSQL.

    python benchmarks/bench_console.py [--findings 1000000] [--clients 20]
                                       [--client wrk|python] [--seconds 10] [--requests 50]
                                       [--workers 2] [--threads 2]
                                       [--backend sqlite|postgresql|both] [--json]

1. A fresh database per backend (SQLite file in a temporary folder; PostgreSQL: a new
   database on $SUPERVISION_BENCH_PG, default postgresql+psycopg://postgres@127.0.0.1:5432,
   dropped afterwards), migrated; ``findings`` rows bulk-inserted with SQLAlchemy Core
   (20 rules per entity, so findings/20 entities; 90% open, severities and ages spread),
   one reviewer user and a signed-in session.
2. The real console, ``supervision serve --workers N --threads T`` (its site published
   first), in a subprocess on 127.0.0.1.
3. Four pages, each loaded in turn by ``--clients`` concurrent keep-alive connections
   carrying a session cookie: the queue's first page (``GET /review``) and a deep page
   (``GET /review?after=<cursor>`` of the row at 90% of the queue: keyset, no OFFSET), as
   a province reviewer (no scope limit: "first", "deep") and as a county reviewer whose
   scope is one 旗县, 150203 (a third of the entities: "county-first", "county-deep").
   The load tool is wrk (Debian's ``wrk``; ``--client wrk``, the default when it is
   installed): a C client, so the clients' own CPU time barely competes with the server
   for the two cores; a Lua hook counts responses that are not 200 or hold no finding.
   It runs ``--seconds`` per page after a one-second warm-up. Without wrk,
   ``--client python`` runs ``--clients`` threads of httpx, ``--requests`` each,
   alternating pages; that client's own work (and the GIL) is added to every latency.
   Latency = request sent → response read.
4. Prints p50/p95/max per page and backend, the goal (p95 < 100 ms), and the machine's
   load average before and after (other work on the machine shows up as latency).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from supervision.accounts.sessions import start_session
from supervision.accounts.users import add_user
from supervision.console.queue import Cursor
from supervision.db import Database
from supervision.models import CheckRun, Entity, Finding
from supervision.reference.regions import prefecture_of

GOAL_P95_MS = 100.0
RULES_PER_ENTITY = 20
CHUNK = 50_000
SEVERITIES = ("critical", "high", "medium", "low")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
_E = Entity.__table__  # type: ignore[attr-defined]
_F = Finding.__table__  # type: ignore[attr-defined]
_RUN = CheckRun.__table__  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- data
def fill(db: Database, findings: int) -> float:
    """Bulk-insert `findings` findings (and their entities) with Core; returns seconds."""
    started = time.perf_counter()
    entities = max(1, -(-findings // RULES_PER_ENTITY))
    now = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    with db.engine.begin() as conn:
        run_id = conn.execute(
            _RUN.insert().values(
                started_at=now, as_of=now.date(), pack_digest="0" * 64, mode="full", errors=[]
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        for start in range(0, entities, CHUNK):
            conn.execute(
                _E.insert(),
                [
                    {
                        "uscc": f"9115{n:014d}", "name": f"基准测试商贸有限公司{n}",
                        "entity_type": "企业", "industry_code": "F5211",
                        "region_code": ("150102", "150203", "152201")[n % 3], "address": "",
                        "legal_rep": "", "status": "存续", "risk_class": "ABCD"[n % 4],
                        "abnormal": False, "established_on": dt.date(2020, 1, 1),
                        "updated_at": now,
                    }
                    for n in range(start, min(entities, start + CHUNK))
                ],
            )  # fmt: skip
        for start in range(0, findings, CHUNK):
            rows = []
            for n in range(start, min(findings, start + CHUNK)):
                rank = (n * 7) % 4
                county = ("150102", "150203", "152201")[(n // RULES_PER_ENTITY) % 3]
                rows.append({
                    "uscc": f"9115{n // RULES_PER_ENTITY:014d}",
                    "region_code": county, "prefecture_code": prefecture_of(county),
                    "rule_id": f"bench.rule-{n % RULES_PER_ENTITY:02d}", "rule_version": 1,
                    "department": "市场监督管理部门", "severity": SEVERITIES[rank],
                    "severity_rank": rank, "result_code": "D", "fact_ids": [], "matched": [],
                    "status": "resolved" if n % 10 == 9 else "open", "first_run_id": run_id,
                    "last_run_id": run_id, "opened_as_of": now.date(),
                    "opened_at": now - dt.timedelta(minutes=(n * 37) % 500_000),
                    "effects": [],
                })  # fmt: skip
            conn.execute(_F.insert(), rows)
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


#: The county of the scoped reviewer (one of the three the entities are spread over).
COUNTY = "150203"


def deep_cursor(db: Database, fraction: float = 0.9, region: str = "") -> str:
    """The keyset cursor of the open finding at `fraction` of the queue (one OFFSET, once);
    of the queue of ``region``'s entities when given."""
    opened = _F.join(_E, _E.c.uscc == _F.c.uscc)
    where = [_F.c.status == "open", _E.c.region_code.startswith(region)]
    with db.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(opened).where(*where)).scalar_one()
        row = conn.execute(
            select(_F.c.severity_rank, _F.c.opened_at, _F.c.id)
            .select_from(opened)
            .where(*where)
            .order_by(_F.c.severity_rank, _F.c.opened_at, _F.c.id)
            .offset(max(0, int(count * fraction) - 1))
            .limit(1)
        ).one()
    return Cursor(row.severity_rank, row.opened_at, row.id).encode()


def session_token(db: Database, username: str = "bench-reviewer", region: str = "") -> str:
    with db.session() as session:
        user = add_user(session, username=username, password="benchmark-password",
                        role="reviewer", region=region)  # fmt: skip
    token, _csrf = start_session(db, user=user, client="bench")
    return token


# --------------------------------------------------------------------------- backends
@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def postgres_url(base: str, *, keep: bool = False) -> Iterator[str]:
    import psycopg

    from supervision.db import make_engine

    name = f"sv_bench_{uuid.uuid4().hex[:10]}"
    admin_url = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        make_engine(f"{base}/postgres").dispose()
        if keep:
            print(f"kept database {base}/{name}", file=sys.stderr)
        else:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listeners(port: int) -> list[str]:
    """The listening sockets on `port` (Linux's ss; one per worker process)."""
    if shutil.which("ss") is None:
        time.sleep(3)  # no ss: give the workers time to start
        return ["?"] * 64
    done = subprocess.run(["ss", "-ltnH", f"( sport = :{port} )"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    return done.stdout.splitlines()


@contextmanager
def console_process(
    url: str, workers: int = 2, threads: int = 2, site: Path | None = None
) -> Iterator[str]:
    """The console as a bureau runs it, `supervision serve --workers N --threads T` (after
    publishing the site it serves beside the console, unless ``site`` is one published
    already), in a subprocess on 127.0.0.1; yields its base URL."""
    port = _free_port()
    own_site = site is None
    command = [sys.executable, "-m", "supervision", "--db", url]
    if site is None:
        site = Path(tempfile.mkdtemp(prefix="bench_console_site_"))
        subprocess.run(  # publishing acts as a named console user, like every changing command
            [*command, "publish", "--out", str(site), "--as", "bench-reviewer"],
            check=True,
            capture_output=True,
        )
    process = subprocess.Popen(
        [*command, "serve", "--out", str(site), "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--threads", str(threads)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the console did not start")
            time.sleep(0.1)
        # Every worker listens on its own socket (SO_REUSEPORT): wait for all of them, or
        # the first connections would all go to the first worker up.
        while len(_listeners(port)) < workers:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"not all {workers} console workers started")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if own_site:
            shutil.rmtree(site, ignore_errors=True)


# --------------------------------------------------------------------------- load
def load(base: str, paths: dict[str, tuple[str, str]], clients: int, requests: int) -> Any:
    """`clients` threads, each `requests` requests cycling over `paths` (name → path and
    the session token to send); latencies in ms."""
    latencies: dict[str, list[float]] = {name: [] for name in paths}
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)
    names = list(paths)

    def client(k: int) -> None:
        mine: dict[str, list[float]] = {name: [] for name in paths}
        with httpx.Client(base_url=base, timeout=30) as http:
            for name in names:  # warm-up: connection, templates, caches
                http.get(paths[name][0], headers={"Cookie": f"sv_session={paths[name][1]}"})
            barrier.wait()
            for i in range(requests):
                name = names[(i + k) % len(names)]
                path, token = paths[name]
                started = time.perf_counter()
                response = http.get(path, headers={"Cookie": f"sv_session={token}"})
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200 or "data-finding" not in response.text:
                    errors.append(f"{name}: {response.status_code}")
                mine[name].append(elapsed)
        with lock:
            for name, values in mine.items():
                latencies[name].extend(values)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    return latencies, errors, seconds


WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, "data-finding", 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do bad_total = bad_total + t:get("bad") end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "p50_us": %d, "p95_us": %d, "max_us": %d, "bad": %d, ' ..
    '"socket_errors": %d}\\n',
    summary.requests, latency:percentile(50), latency:percentile(95), latency.max,
    bad_total, e.connect + e.read + e.write + e.timeout))
end
"""


def wrk_load(
    base: str, paths: dict[str, tuple[str, str]], clients: int, seconds: float, workdir: Path
) -> dict[str, dict[str, Any]]:
    """Each page in turn under `clients` wrk connections for `seconds`; figures per page."""
    script = workdir / "queue.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    threads = str(max(1, min(2, clients)))
    pages: dict[str, dict[str, Any]] = {}
    for name, (path, token) in paths.items():
        for duration, keep in ((1.0, False), (seconds, True)):  # warm-up, then measured
            command = ["wrk", "-t", threads, "-c", str(clients), "-d", f"{duration:g}s",
                       "--timeout", "30s", "-s", str(script),
                       "-H", f"Cookie: sv_session={token}", base + path]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            line = next((x for x in done.stdout.splitlines() if x.startswith("WRK ")), None)
            if done.returncode != 0 or line is None:
                raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
            if keep:
                pages[name] = json.loads(line[4:])
    return pages


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def run_backend(
    url: str,
    *,
    findings: int,
    clients: int,
    requests: int,
    seconds: float = 10.0,
    client: str = "wrk",
    workers: int = 2,
    threads: int = 4,
) -> dict[str, Any]:
    db = Database(url)
    try:
        fill_seconds = fill(db, findings)
        token = session_token(db)
        county = session_token(db, "bench-county-reviewer", COUNTY)
        paths = {
            "first": ("/review", token),
            "deep": (f"/review?after={deep_cursor(db)}", token),
            "county-first": ("/review", county),
            "county-deep": (f"/review?after={deep_cursor(db, region=COUNTY)}", county),
        }
    finally:
        db.dispose()
    load_before = os.getloadavg()[0]
    errors: list[str] = []
    with console_process(url, workers, threads) as base:
        if client == "wrk":
            with tempfile.TemporaryDirectory(prefix="bench_console_") as workdir:
                measured = wrk_load(base, paths, clients, seconds, Path(workdir))
            pages = {
                name: {
                    "requests": m["requests"],
                    "p50_ms": round(m["p50_us"] / 1000, 1),
                    "p95_ms": round(m["p95_us"] / 1000, 1),
                    "max_ms": round(m["max_us"] / 1000, 1),
                }
                for name, m in measured.items()
            }
            for name, m in measured.items():
                if m["bad"] or m["socket_errors"]:
                    errors.append(f"{name}: {m['bad']} bad responses, "
                                  f"{m['socket_errors']} socket errors")  # fmt: skip
            total_seconds = seconds * len(paths)
        else:
            latencies, errors, total_seconds = load(base, paths, clients, requests)
            pages = {
                name: {
                    "requests": len(values),
                    "p50_ms": round(statistics.median(values), 1),
                    "p95_ms": round(_pct(values, 0.95), 1),
                    "max_ms": round(max(values), 1),
                }
                for name, values in latencies.items()
            }
    load_after = os.getloadavg()[0]
    total = sum(p["requests"] for p in pages.values())
    return {
        "backend": "sqlite" if url.startswith("sqlite") else "postgresql",
        "findings": findings,
        "clients": clients,
        "client": client,
        "workers": workers,
        "threads": threads,
        # Other processes on the machine skew latencies: the 1-minute load average
        # before and after the run says how busy it was (cores: os.cpu_count()).
        "load_average": [round(load_before, 2), round(load_after, 2)],
        "cpus": os.cpu_count(),
        "insert_seconds": round(fill_seconds, 1),
        "requests_per_second": round(total / total_seconds, 1),
        "pages": pages,
        "errors": errors[:5],
        "error_count": len(errors),
        "goal_met": all(p["p95_ms"] < GOAL_P95_MS for p in pages.values()) and not errors,
    }


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument(
        "--client", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python",
        help="load tool (default wrk when installed)",
    )  # fmt: skip
    parser.add_argument("--seconds", type=float, default=10.0, help="per page (wrk)")
    parser.add_argument("--requests", type=int, default=50, help="per client (python)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="worker threads per process")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg", default=os.environ.get("SUPERVISION_BENCH_PG", DEFAULT_PG))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = []
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        manager = sqlite_url() if backend == "sqlite" else postgres_url(args.pg)
        with manager as url:
            result = run_backend(
                url, findings=args.findings, clients=args.clients, requests=args.requests,
                seconds=args.seconds, client=args.client, workers=args.workers,
                threads=args.threads,
            )  # fmt: skip
        results.append(result)
        if not args.json:
            print(
                f"{backend}: {args.findings:,} findings (inserted in {result['insert_seconds']} s), "
                f"{args.clients} clients ({args.client}), {args.workers} worker(s) × "
                f"{args.threads} threads, "
                f"{result['requests_per_second']} req/s; load average {result['load_average']} "
                f"on {result['cpus']} CPUs"
            )
            for name, page in result["pages"].items():
                flag = "OK" if page["p95_ms"] < GOAL_P95_MS else "over the goal"
                print(
                    f"  {name:5} page: p50 {page['p50_ms']} ms, p95 {page['p95_ms']} ms, "
                    f"max {page['max_ms']} ms ({page['requests']} requests) "
                    f"[goal p95 < {GOAL_P95_MS:.0f} ms: {flag}]"
                )
            if result["error_count"]:
                print(f"  errors: {result['error_count']} e.g. {result['errors']}")
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
    return results


if __name__ == "__main__":
    main()
