"""Benchmark: `supervision publish` against a bare render-and-write loop, then a republish.

    python benchmarks/bench_publish.py --results 100000 [--tasks 10] [--lang zh|en|all]
                                       [--dir DIR] [--keep]

Builds a fresh SQLite database with `--results` drawn entities spread over `--tasks`
committed tasks (real commitment; picks with the real tickets of the published sampler;
two inspectors each) and one published inspection result per drawn entity (the
``inspection_result`` table). Then, in the same run:

(a) our full publish into an empty folder: reading the database, building every page's
    context, rendering, hashing against the manifest, writing pages, open data, the search
    index, the feed and the draw exports;
(b) a bare loop rendering the same templates with the same, precomputed contexts (the
    same Environment, templates compiled beforehand) and writing each page to a file.

Prints pages/s for both and the ratio (goal ≥ 0.7), then republishes (a) with nothing
changed and prints the files written (goal 0).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from stdnum.cn.uscc import calc_check_digit

from supervision.db import Database
from supervision.draw.commit import commit_task
from supervision.draw.plans import create_plan
from supervision.draw.sampling import draw_entities
from supervision.draw.tasks import create_task, parse_task_input
from supervision.models import (
    Assignment,
    Department,
    DrawPick,
    Entity,
    InspectionItem,
    Inspector,
    Task,
)
from supervision.models.tasks import TaskStatus
from supervision.site import data as site_data
from supervision.site.environment import environment
from supervision.site.publish import languages_for, publish_site
from supervision.site.render import render_language

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
REGIONS = ["150102", "150103", "150202", "150203", "150402", "150502", "150602", "150702",
           "150802", "150902", "152201", "152501"]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"
INSPECTORS_PER_REGION = 20


def uscc(n: int, region: str) -> str:
    body = ""
    value = n
    for _ in range(9):
        value, digit = divmod(value, len(ALPHABET))
        body = ALPHABET[digit] + body
    base = "91" + region + body
    return base + calc_check_digit(base)


def build(db: Database, results: int, tasks: int) -> dict[str, Any]:
    """A database with `results` published results over `tasks` drawn tasks."""
    started = time.perf_counter()
    now = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    per_task = -(-results // tasks)
    industries = [f"F52{10 + t:02d}" for t in range(tasks)]
    with db.engine.begin() as conn:
        conn.execute(insert(Department), [{"code": "SJ", "name": "市场监督管理局",
                                           "region_code": "150000"}])  # fmt: skip
        conn.execute(insert(InspectionItem), [{
            "code": "SJ-01", "version": 1, "name": "企业公示信息抽查", "department_code": "SJ",
            "legal_basis": "《企业信息公示暂行条例》第十四条", "object_type": "企业",
            "methods": ["书面检查"], "kind": "一般", "effective_from": date(2025, 1, 1),
        }])  # fmt: skip
        inspectors = [
            {"cert_no": f"SJ{r:02d}{i:03d}", "name": SURNAMES[i % 20] + GIVEN[(i * 7) % len(GIVEN)] + "检",
             "department_code": "SJ", "region_code": region, "qualifications": ["SJ-01"],
             "status": "在岗", "updated_at": now}
            for r, region in enumerate(REGIONS) for i in range(INSPECTORS_PER_REGION)
        ]  # fmt: skip
        conn.execute(insert(Inspector), inspectors)
        rows = []
        for n in range(results):
            region = REGIONS[n % len(REGIONS)]
            rows.append({
                "uscc": uscc(n + 1, region), "name": f"内蒙古测试{n + 1}号商贸有限公司",
                "entity_type": "企业", "industry_code": industries[n // per_task],
                "region_code": region, "address": f"测试路{n % 300 + 1}号",
                "legal_rep": SURNAMES[n % 20] + GIVEN[n % len(GIVEN)] + GIVEN[(n // len(GIVEN)) % len(GIVEN)],
                "contact_phone": None, "status": "存续", "risk_class": "ABCD"[n % 4],
                "size": "小型", "abnormal": False, "abnormal_since": None,
                "established_on": date(2015, 1 + n % 12, 1 + n % 28), "updated_at": now,
            })  # fmt: skip
        for start in range(0, len(rows), 20_000):
            conn.execute(insert(Entity), rows[start : start + 20_000])
    with db.session() as session:
        create_plan(session, code="P2026", year=2026, name="2026年度抽查计划", departments=["SJ"])
        for t in range(tasks):
            create_task(session, spec=parse_task_input({
                "code": f"蒙市监抽查〔2026〕{t + 1}号", "plan": "P2026",
                "name": f"企业公示信息抽查第{t + 1}批", "departments": ["SJ"], "items": ["SJ-01"],
                "target": {"industries": [industries[t]]}, "ratios": "1",
                "period_start": "2026-03-01", "period_end": "2026-06-30",
            }))  # fmt: skip
    codes = [f"蒙市监抽查〔2026〕{t + 1}号" for t in range(tasks)]
    for code in codes:
        with db.session() as session:
            # full disclosure: the picks below are written with the population's ids as USCCs
            commit_task(session, code=code, as_of=date(2026, 2, 20), disclosure="full")
    region_of = {r["uscc"]: r["region_code"] for r in rows}
    for t, code in enumerate(codes):
        seed = f"{31415926535 + t:020d}"
        with db.session() as session:
            from supervision.draw.population import committed_population

            population = committed_population(session, code=code)
            from decimal import Decimal

            picks = draw_entities(seed, population, dict.fromkeys(population, Decimal(1)))
            conn = session.connection()
            conn.execute(insert(DrawPick), [
                {"task_code": code, "uscc": p.id, "stratum": p.stratum, "ticket": p.ticket,
                 "rank": p.rank} for p in picks
            ])  # fmt: skip
            team_rows = []
            for i, p in enumerate(picks):
                r = REGIONS.index(region_of[p.id])
                for k in (0, 1):
                    cert = f"SJ{r:02d}{(i + k) % INSPECTORS_PER_REGION:03d}"
                    team_rows.append({"task_code": code, "uscc": p.id, "department_code": "SJ",
                                      "cert_no": cert, "cost": i})  # fmt: skip
            conn.execute(insert(Assignment), team_rows)
            conn.execute(insert(_results_table()), [
                {"task_code": code, "uscc": p.id, "item_code": "SJ-01", "version": 1,
                 "state": "published", "result_code": "1" if i % 5 else "E", "sub_code": None,
                 "finding": "" if i % 5 else "已责令改正", "inspected_on": date(2026, 5, 1),
                 "inspectors": [team_rows[2 * i]["cert_no"], team_rows[2 * i + 1]["cert_no"]],
                 "team_change_reason": None, "evidence": [], "follow_up": "none",
                 "follow_up_due": None, "follow_up_note": "", "follow_up_status": "not_needed",
                 "follow_up_done_on": None, "change_reason": None, "corrects_version": None,
                 "entered_by": "录入员", "entered_at": now, "reviewed_by": "审核员",
                 "reviewed_at": now, "review_reason": None, "published_by": "审核员",
                 "published_at": datetime(2026, 7, 1 + t % 20, 2, 0, tzinfo=UTC)}
                for i, p in enumerate(picks)
            ])  # fmt: skip
            conn.execute(
                update(Task).where(Task.code == code).values(  # type: ignore[arg-type]
                    seed=seed, seed_entered_at=now, drawn_at=now, status=TaskStatus.DRAWN,
                    algorithm="consistent-sampler-1.0.10-first-ticket/sha256",
                )
            )  # fmt: skip
    return {"seconds": time.perf_counter() - started, "tasks": tasks, "results": results}


def _results_table() -> Any:
    from supervision.models.results import InspectionResult

    return InspectionResult


def bare_loop(db: Database, out: Path, langs: list[str]) -> tuple[int, float]:
    """Render and write the same pages from precomputed contexts; returns (pages, seconds)."""
    with db.session() as session:
        data = site_data.load(session)
    work = [
        (path, name, context)
        for lang in langs
        for path, name, context in _language_contexts(data, lang, langs)
    ]
    env = environment()
    templates = {name: env.get_template(name) for _, name, _ in work}
    from supervision.site.environment import language

    started = time.perf_counter()
    made: set[str] = set()
    for path, name, context in work:
        lang = "en" if path.startswith("en/") else "zh"
        target = out / path
        parent = os.path.dirname(target)
        if parent not in made:
            os.makedirs(parent, exist_ok=True)
            made.add(parent)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(templates[name].render(context, **language(lang)))
    seconds = time.perf_counter() - started
    return len(work), seconds


def _language_contexts(data: site_data.SiteData, lang: str, langs: list[str]) -> list[Any]:
    return list(render_language(data, lang, langs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--lang", choices=["zh", "en", "all"], default="zh")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: temp)")
    parser.add_argument("--keep", action="store_true", help="keep the database and sites")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-publish-", dir=args.dir))
    db = Database(f"sqlite:///{work / 'bench.db'}")
    try:
        built = build(db, args.results, max(1, min(args.tasks, args.results)))
        print(f"database: {args.results} published results over {built['tasks']} drawn tasks, "
              f"built in {built['seconds']:.1f} s")  # fmt: skip
        langs = languages_for(args.lang)
        report = publish_site(db, out_dir=work / "ours", languages=args.lang)
        ours_rate = report.pages / report.seconds
        print(f"our publish    : {report.pages} pages ({report.files} files) in "
              f"{report.seconds:.2f} s = {ours_rate:,.0f} pages/s")  # fmt: skip
        print("  phases (s)   : " + ", ".join(f"{k} {v:.2f}" for k, v in report.phases.items()))
        count, seconds = bare_loop(db, work / "bare", langs)
        bare_rate = count / seconds
        print(f"bare loop      : {count} pages in {seconds:.2f} s = {bare_rate:,.0f} pages/s")
        print(f"ratio ours/bare: {ours_rate / bare_rate:.2f} (goal >= 0.7)")
        again = publish_site(db, out_dir=work / "ours", languages=args.lang)
        print(f"republish      : {again.written} files written, {again.unchanged} unchanged "
              f"in {again.seconds:.2f} s (goal 0 written)")  # fmt: skip
    finally:
        db.dispose()
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
