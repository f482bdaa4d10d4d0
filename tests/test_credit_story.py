"""Done-when story of the credit loop, through the CLI on the demo data: a confirmed
annual-report finding becomes a proposal, the reviewer lists the entity with a decision
number, the public entity page shows it, the entity files its report, the next check
proposes removal, the reviewer removes it, and a targeted task drawn from the marks picks it
(and consumes the mark)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import site_support as s
from factories import make_record, write_json
from sqlalchemy import select

from supervision.db import Database
from supervision.models import DrawPick, EntityMark
from supervision.site import urls

pytestmark = pytest.mark.usefixtures("crew")

ORGAN = "呼和浩特市市场监督管理局"
REVIEWER = ("--as", "demo-reviewer")


def _json(cli: Any, *args: str) -> Any:
    return json.loads(cli(*args, "--json").stdout)


def _registers_text(site: Path, uscc: str) -> str:
    page = s.soup(site / urls.entity_path(uscc))
    section = page.find("section", class_="registers")
    return s.text_of(section) if section is not None else ""


def test_credit_loop_story_on_the_demo(cli: Any, db_url: str, tmp_path: Path) -> None:
    site = tmp_path / "site"
    cli("demo", "--entities", "300", "--seed", "5", "--as-of", "2026-11-26", "--site", str(site))
    queue = _json(cli, "review", "list", "--rule", "samr.annual-report-not-filed")["items"]
    item = queue[0]
    uscc = item["uscc"]
    shown = _json(cli, "review", "show", uscc)
    (finding,) = [f for f in shown["findings"] if f["id"] == item["finding_id"]]
    years = [m["values"]["year"] for m in finding["matched"] if m["t"] == "annual_report"]
    assert years

    # A confirmed annual-report finding becomes a proposal (nothing listed yet).
    out = cli("review", "confirm", str(item["finding_id"]), "--note", "逾期未报年报", *REVIEWER)
    assert "supervision credit proposals" in out.stdout
    (proposal,) = [p for p in _json(cli, "credit", "proposals") if p["uscc"] == uscc]
    assert proposal["action"] == "list" and proposal["reason_code"] == "4.1"
    assert proposal["due_on"]

    # The reviewer lists it with a decision number; the public entity page shows it.
    cli("credit", "accept", str(proposal["id"]), "--decision-no", "呼市监异列〔2026〕12号",
        "--organ", ORGAN, "--decided-on", "2026-11-27", *REVIEWER)  # fmt: skip
    cli("publish", "--out", str(site), *REVIEWER)
    listed = _registers_text(site, uscc)
    assert "呼市监异列〔2026〕12号" in listed and "列入中" in listed

    # The entity files its reports; the next check proposes removal.
    filed = [
        make_record("annual_report", 900_000 + i, uscc=uscc, record_id=f"AR-LATE-{year}-{uscc}",
                    payload={"year": year, "filed_on": "2026-11-28"})
        for i, year in enumerate(years)
    ]  # fmt: skip
    cli("import", "records", str(write_json(tmp_path / "late.json", filed)), "--as", "demo-admin")
    out = cli("check", "--as-of", "2026-11-30")
    assert "建议移出名录" in out.stdout
    (removal,) = [p for p in _json(cli, "credit", "proposals") if p["uscc"] == uscc]
    assert removal["action"] == "remove" and removal["reason_code"] == "r.report"

    # The reviewer removes it; the page shows the removal; the entry stays.
    cli("credit", "accept", str(removal["id"]), "--decision-no", "呼市监异出〔2026〕3号",
        "--organ", ORGAN, "--decided-on", "2026-12-01", *REVIEWER)  # fmt: skip
    cli("publish", "--out", str(site), *REVIEWER)
    removed = _registers_text(site, uscc)
    assert "已移出" in removed and "呼市监异出〔2026〕3号" in removed
    standing = _json(cli, "credit", "show", uscc)
    assert standing["entity"]["abnormal"] is False
    assert [c["source"] for c in standing["class_history"]] == ["decision"]

    # The next targeted task draws from the marks, and the draw consumes them.
    planner = ("--as", "demo-planner")
    code = "蒙市监定向〔2026〕1号"
    cli("task", "create", "--code", code, "--plan", "蒙市监〔2026〕抽查计划", "--name", "信用监管定向抽查",
        "--department", "NMG-SJ", "--item", "NMG-SJ-01", "--ratio", "1", "--from-credit", "marks",
        "--exclusion-days", "0", "--disclosure", "full", "--start", "2026-12-03",
        "--end", "2027-03-03", *planner)  # fmt: skip
    cli("task", "commit", code, *planner)
    cli("task", "draw", code, "--seed", "20261207", *planner)
    db = Database(db_url)
    try:
        with db.engine.connect() as conn:
            picks = set(
                conn.execute(select(DrawPick.uscc).where(DrawPick.task_code == code)).scalars()
            )  # type: ignore[arg-type]
            marks = (
                conn.execute(
                    select(EntityMark.consumed_by).where(EntityMark.uscc == uscc)  # type: ignore[arg-type]
                )
                .scalars()
                .all()
            )
    finally:
        db.dispose()
    assert uscc in picks
    assert marks and set(marks) == {code}
