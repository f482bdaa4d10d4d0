"""Benchmark: `supervision import entities` against a bare sqlite3 executemany.

    python benchmarks/bench_import.py --rows 1000000 [--db sqlite] [--keep] [--workers N]

Generates a deterministic, valid entity CSV (UTF-8 with BOM, Chinese headers), then
(a) imports it through the real service (supervision.directories.importing.import_file: full
validation by EntityCreate's rules, duplicate and upsert classification, executemany, one
transaction) into a fresh SQLite file, and (b) inserts the same rows, already validated,
with bare sqlite3 executemany into a fresh SQLite file with the same schema, the same
PRAGMAs and the same bulk strategy (into an empty table the service drops the plain
indexes inside its transaction and builds them again before the commit; so does (b)).
Prints rows/s for both and the ratio. Goals: (a) ≥ 100k rows/s and ≥ 0.3× (b), the first
import issue's; (a) ≥ 0.6× (b), the province issue's (#24).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from stdnum.cn.uscc import calc_check_digit

from supervision import clock
from supervision.db import Database
from supervision.directories.importing import import_file

HEADERS = [
    "统一社会信用代码", "企业名称", "主体类型", "行业代码", "行政区划代码", "住所", "法定代表人",
    "联系电话", "登记状态", "信用风险分类", "企业规模", "是否列入经营异常名录", "列入日期",
    "成立日期",
]  # fmt: skip
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
REGIONS = ["150102", "150103", "150104", "150105", "150202", "150203", "150302", "150402",
           "150502", "150602", "150702", "150802", "150902", "152201", "152501", "152921"]  # fmt: skip
INDUSTRIES = ["F5211", "F5212", "C1311", "I6510", "H6210", "L7212", "E4710", "G5430", "A0111"]
TYPES = ["企业", "企业", "企业", "个体工商户", "个体工商户", "农民专业合作社"]
STATUSES = ["存续"] * 8 + ["注销", "吊销"]
SIZES = ["微型", "小型", "小型", "中型", "大型", ""]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"


def entity_row(i: int, rng: random.Random) -> list[str]:
    region = REGIONS[i % len(REGIONS)]
    org = "".join(ALPHABET[(i // 31**k) % 31] for k in range(9))[::-1]
    base = "91" + region + org
    abnormal = rng.random() < 0.05
    return [
        base + calc_check_digit(base),
        f"测试商贸有限公司{i}",
        rng.choice(TYPES),
        rng.choice(INDUSTRIES),
        region,
        f"测试路{i % 997}号{i}室",
        rng.choice(SURNAMES) + "某某",
        f"0471-{rng.randrange(10**7):07d}",
        rng.choice(STATUSES),
        rng.choice("ABBBCD"),
        rng.choice(SIZES),
        "是" if abnormal else "否",
        f"2024-0{rng.randrange(1, 10)}-1{rng.randrange(10)}" if abnormal else "",
        f"{rng.randrange(1995, 2025)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
    ]


def generate(path: Path, rows: int) -> None:
    """A deterministic valid entity CSV with `rows` data rows."""
    rng = random.Random(20251126)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for i in range(rows):
            writer.writerow(entity_row(i, rng))


def bare_rows(path: Path) -> list[tuple[object, ...]]:
    """The same rows as the service would store them (pre-validated), as sqlite3 parameters."""
    now = clock.now().isoformat(sep=" ")
    out: list[tuple[object, ...]] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for r in reader:
            out.append(
                (*r[:7], r[7] or None, r[8], r[9], r[10] or None, r[11] == "是", r[12] or None,
                 r[13], now)
            )  # fmt: skip
    return out


def _cpu() -> float:
    """CPU seconds used by this process and its (finished) worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run_service(csv_path: Path, db_path: Path, workers: int | None) -> tuple[float, float, int]:
    db = Database(f"sqlite:///{db_path}")  # migrations run here, outside the timing
    try:
        cpu = _cpu()
        start = time.perf_counter()
        report = import_file(db, kind="entities", path=csv_path, workers=workers)
        elapsed = time.perf_counter() - start
        cpu = _cpu() - cpu
    finally:
        db.dispose()
    if report.added != report.rows:
        raise SystemExit(f"service imported {report.added} of {report.rows} rows")
    return elapsed, cpu, report.added


def run_bare(rows: list[tuple[object, ...]], db_path: Path) -> tuple[float, float]:
    """sqlite3 executemany with the service's PRAGMAs and its bulk strategy.

    Like the service on an empty table, it drops the plain (non-unique) indexes inside the
    transaction and builds them again before the commit; the primary key stays.
    """
    Database(f"sqlite:///{db_path}").dispose()  # the same schema, by the same migrations
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    columns = (
        "uscc, name, entity_type, industry_code, region_code, address, legal_rep, contact_phone,"
        " status, risk_class, size, abnormal, abnormal_since, established_on, updated_at"
    )
    sql = f"INSERT INTO entity ({columns}) VALUES ({', '.join('?' * 15)})"
    plain = [row[1] for row in conn.execute("PRAGMA index_list(entity)") if row[2:4] == (0, "c")]
    rebuild = [
        conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
        for name in plain
    ]
    cpu = _cpu()
    start = time.perf_counter()
    conn.execute("BEGIN")
    for name in plain:
        conn.execute(f'DROP INDEX "{name}"')
    conn.executemany(sql, rows)
    for statement in rebuild:
        conn.execute(statement)
    conn.commit()
    elapsed = time.perf_counter() - start
    cpu = _cpu() - cpu
    conn.close()
    return elapsed, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite"], default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the CSV and database files")
    parser.add_argument("--workers", type=int, default=None, help="validation processes")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the files")
    args = parser.parse_args(argv)

    workdir = args.dir or Path(tempfile.mkdtemp(prefix="bench_import_"))
    workdir.mkdir(parents=True, exist_ok=True)
    csv_path = workdir / f"entities_{args.rows}.csv"
    try:
        start = time.perf_counter()
        generate(csv_path, args.rows)
        print(f"generated {args.rows} rows in {time.perf_counter() - start:.1f} s: {csv_path}")

        service_s, service_cpu, added = run_service(csv_path, workdir / "service.db", args.workers)
        service_rate = added / service_s
        print(
            f"service import : {added} rows in {service_s:.2f} s = {service_rate:,.0f} rows/s"
            f" (CPU {service_cpu:.1f} s in all processes)"
        )

        rows = bare_rows(csv_path)
        bare_s, bare_cpu = run_bare(rows, workdir / "bare.db")
        bare_rate = len(rows) / bare_s
        print(
            f"bare executemany: {len(rows)} rows in {bare_s:.2f} s = {bare_rate:,.0f} rows/s"
            f" (CPU {bare_cpu:.1f} s)"
        )
        print(
            "  (both: WAL, synchronous=NORMAL, one transaction; plain indexes dropped before"
            " the inserts and built again before the commit, as the service does on an empty"
            " table)"
        )
        load = os.getloadavg()[0]
        print(f"cores: {os.cpu_count()}, load average now: {load:.1f}")
        ratio = service_rate / bare_rate
        print(f"ratio service/bare: {ratio:.2f}")
        goal = service_rate >= 100_000 and ratio >= 0.3
        print(f"goal (>=100k rows/s and >=0.3x bare): {'met' if goal else 'NOT met'}")
        print(f"goal (>=0.6x bare, issue #24): {'met' if ratio >= 0.6 else 'NOT met'}")
    finally:
        if args.keep:
            print(f"kept files in {workdir}")
        elif args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            for name in (csv_path.name, "service.db", "bare.db"):
                for suffix in ("", "-wal", "-shm"):
                    (workdir / f"{name}{suffix}").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
