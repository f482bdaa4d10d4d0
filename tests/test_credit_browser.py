"""The credit loop in a real browser (Chromium via Playwright, no JavaScript): the reviewer
confirms an annual-report finding, decides the listing proposal with a decision number, the
public entity page shows it; the entity files its reports, the check proposes removal, the
reviewer removes it; the planner commits and draws a targeted task built from the marks."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_check_support import load, record_row
from test_console_browser import _shot, _sign_in
from test_console_support import ConsoleServer, build_console

from supervision.checks.run import run_check
from supervision.db import Database
from supervision.draw.tasks import create_task, parse_task_input
from supervision.models import DrawPick, EntityMark
from supervision.site import publish_site, urls

pytestmark = pytest.mark.slow

ORGAN = "呼和浩特市新城区市场监督管理局"
TARGETED = "蒙市监定向〔2026〕9号"


def _filed_reports(uscc: str, established: str) -> list[dict[str, Any]]:
    """Every annual report since establishment, filed (late) on 2026-07-05."""
    return [
        record_row("annual_report", 700_000 + year, uscc, {"year": year, "filed_on": "2026-07-05"})
        for year in range(max(2013, int(established[:4])), 2026)
    ]


def test_credit_loop_in_the_console(
    browser: Any, db: Database, tmp_path: Path, artifacts: Path
) -> None:
    data = build_console(db, tmp_path)
    uscc = data["flagged_uscc"]
    entity = next(e for e in data["entities"] if e["uscc"] == uscc)
    site = tmp_path / "site"
    publish_site(db, out_dir=site, languages="zh", workers=1)
    backend = "pg" if not db.is_sqlite else "sqlite"
    with ConsoleServer(db, site_dir=site) as base:
        reviewer = _sign_in(browser, base, "reviewer")
        reviewer.goto(f"{base}/review/entity/{uscc}")
        finding = reviewer.locator(f"#finding-{data['finding_id']}")
        finding.locator("form.confirm textarea").fill("经核实，2025 年度报告未报送")
        finding.locator("form.confirm button").click()
        reviewer.wait_for_load_state()
        # The proposal waits in the queue beside the findings.
        reviewer.click("nav.site-nav a[href='/credit']")
        row = reviewer.locator("table.credit-queue tr[data-action='list']")
        assert uscc in row.inner_text()
        row.locator("a").click()
        reviewer.wait_for_load_state()
        form = reviewer.locator("article.proposal[data-status='open'] form.accept")
        form.locator("input[name=organ]").fill(ORGAN)
        form.locator("input[name=decision_no]").fill("新市监异列〔2026〕21号")
        form.locator("input[name=decision_date]").fill("2026-07-03")
        form.locator("button").click()
        reviewer.wait_for_load_state()
        assert "已作出决定" in reviewer.locator("p.notice").inner_text()
        listed = reviewer.locator("table.registers tr[data-current='true']")
        assert "新市监异列〔2026〕21号" in listed.inner_text()
        _shot(reviewer, artifacts, f"console-credit-listed-{backend}.png")

        # The public entity page shows the listing.
        publish_site(db, out_dir=site, languages="zh", workers=1)
        reviewer.goto(f"{base}/site/{urls.entity_path(uscc)}")
        assert "新市监异列〔2026〕21号" in reviewer.locator("section.registers").inner_text()
        _shot(reviewer, artifacts, f"site-entity-listed-{backend}.png")

        # The entity files its reports; the next check proposes removal; the reviewer decides.
        load(db, [], _filed_reports(uscc, str(entity["established_on"])))
        summary = run_check(db, as_of=date(2026, 7, 10), full=True)
        assert summary.cures_proposed
        reviewer.goto(f"{base}/credit")
        reviewer.locator("table.credit-queue tr[data-action='remove'] a").click()
        reviewer.wait_for_load_state()
        form = reviewer.locator("article.proposal[data-status='open'] form.accept")
        assert form.locator("input[name=reason_code]").input_value() == "r.report"
        form.locator("input[name=organ]").fill(ORGAN)
        form.locator("input[name=decision_no]").fill("新市监异出〔2026〕4号")
        form.locator("input[name=decision_date]").fill("2026-07-11")
        form.locator("button").click()
        reviewer.wait_for_load_state()
        removed = reviewer.locator("table.registers tr[data-current='false']")
        assert "新市监异出〔2026〕4号" in removed.inner_text()
        history = reviewer.locator("table.class-history").inner_text()
        assert "审核决定" in history
        _shot(reviewer, artifacts, f"console-credit-removed-{backend}.png")

        # The planner draws a targeted task built from the marks.
        with db.session() as session:
            create_task(session, spec=parse_task_input({
                "code": TARGETED, "plan": "P2026", "name": "信用监管定向抽查",
                "departments": ["SJ"], "items": ["SJ-01"], "ratios": "1", "exclusion_days": 0,
                "disclosure": "full", "target": {"credit": ["marks"]},
                "period_start": "2026-08-01", "period_end": "2026-12-31",
            }))  # fmt: skip
        planner = _sign_in(browser, base, "planner")
        planner.click("nav.site-nav a[href='/tasks']")
        planner.click(f"tr[data-task='{TARGETED}'] a")
        planner.wait_for_load_state()
        planner.click("form.commit button")
        planner.wait_for_load_state()
        assert "任务已锁定" in planner.locator("p.notice").inner_text()
        planner.fill("#seed", "20260801")
        planner.click("form.draw button")
        planner.wait_for_load_state()
        assert "已完成抽取" in planner.locator("p.notice").inner_text()
        _shot(planner, artifacts, f"console-credit-targeted-{backend}.png")
    with db.engine.connect() as conn:
        picks = set(
            conn.execute(select(DrawPick.uscc).where(DrawPick.task_code == TARGETED)).scalars()
        )  # type: ignore[arg-type]
        consumed = set(
            conn.execute(select(EntityMark.consumed_by).where(EntityMark.uscc == uscc)).scalars()
        )  # type: ignore[arg-type]
    assert picks == {uscc} and consumed == {TARGETED}
