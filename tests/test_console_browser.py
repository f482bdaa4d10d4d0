"""The console in a real browser (Debian's Chromium driven by Playwright), no JavaScript needed.

One day's work end to end: a reviewer signs in and confirms a finding; a planner commits
a task, enters the seed and draws; an inspector enters a result; the reviewer approves
and publishes it; the result appears on the public site served beside the console.
Screenshots go to test-artifacts/. Skips only when /usr/bin/chromium is missing outside
CI; in CI (CI=true) a missing browser is a failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_console_support import DRAFT_TASK, PASSWORD, ConsoleServer, build_console

from supervision import clock
from supervision.db import Database
from supervision.models import Finding, TrailEvent
from supervision.site import publish_site, urls

_F = Finding.__table__  # type: ignore[attr-defined]
_T = TrailEvent.__table__  # type: ignore[attr-defined]

pytestmark = pytest.mark.slow


def _sign_in(browser: Any, base: str, username: str) -> Any:
    """A fresh browser context (its own cookies) signed in through the form."""
    context = browser.new_context(
        viewport={"width": 1200, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{base}/")
    assert "/login" in page.url  # anonymous: sent to the sign-in page
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("工作台")
    return page


def _shot(page: Any, artifacts: Path, name: str) -> None:
    path = artifacts / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000


def test_a_day_in_the_console(browser: Any, db: Database, tmp_path: Path, artifacts: Path) -> None:
    data = build_console(db, tmp_path)
    site = tmp_path / "site"
    publish_site(db, out_dir=site, languages="all", workers=1)
    backend = "pg" if not db.is_sqlite else "sqlite"
    with ConsoleServer(db, site_dir=site) as base:
        # 1. The reviewer confirms a finding.
        reviewer = _sign_in(browser, base, "reviewer")
        reviewer.click("nav.site-nav a[href='/review']")
        reviewer.click(f"tr[data-finding='{data['finding_id']}'] a")
        reviewer.wait_for_load_state()
        finding = reviewer.locator(f"#finding-{data['finding_id']}")
        assert "未按期报送年度报告" in finding.locator("h3").inner_text()
        finding.locator("form.confirm textarea").fill("经核实，2025 年度报告未报送")
        finding.locator("form.confirm button").click()
        reviewer.wait_for_load_state()
        assert "已确认该发现" in reviewer.locator("p.notice").inner_text()
        assert "已确认" in reviewer.locator(f"#finding-{data['finding_id']} dd.status").inner_text()
        _shot(reviewer, artifacts, f"console-review-confirmed-{backend}.png")
        with db.engine.connect() as conn:
            status = conn.execute(select(_F.c.status).where(_F.c.id == data["finding_id"]))
            assert status.scalar_one() == "confirmed"

        # 2. The planner commits a task, enters the seed and draws.
        planner = _sign_in(browser, base, "planner")
        planner.click("nav.site-nav a[href='/tasks']")
        planner.click(f"tr[data-task='{DRAFT_TASK}'] a")
        planner.wait_for_load_state()
        planner.click("form.commit button")
        planner.wait_for_load_state()
        assert "任务已锁定" in planner.locator("p.notice").inner_text()
        planner.fill("#seed", "20260701")
        planner.click("form.draw button")
        planner.wait_for_load_state()
        assert "已完成抽取" in planner.locator("p.notice").inner_text()
        assert planner.locator("dd.status").get_attribute("data-status") == "drawn"
        assert planner.locator("dd.seed code").inner_text() == "20260701"
        _shot(planner, artifacts, f"console-task-drawn-{backend}.png")
        planner.click("a[href^='/task/fairness']")
        planner.wait_for_load_state()
        assert planner.locator("table.strata tbody tr").count() >= 1

        # 3. The inspector enters a result for an assigned entity.
        inspector = _sign_in(browser, base, "inspector")
        inspector.click("nav.site-nav a[href='/inspector']")
        row = inspector.locator(f"tr[data-uscc='{data['inspector_uscc']}']").first
        assert row.get_attribute("data-state") == "not_entered"
        row.locator("a").click()
        inspector.wait_for_load_state()
        inspector.select_option("#code-0", "1")
        inspector.fill("#finding-0", "现场检查未发现问题")
        inspector.fill("#date-0", clock.today().isoformat())
        inspector.click("form.enter-results button[type=submit]")
        inspector.wait_for_load_state()
        assert "检查结果已录入" in inspector.locator("p.notice").inner_text()
        assert inspector.locator("fieldset.item").first.get_attribute("data-state") == "entered"
        _shot(inspector, artifacts, f"console-result-entered-{backend}.png")

        # 4. The reviewer approves and publishes.
        reviewer.click("nav.site-nav a[href='/results']")
        reviewer.locator(f"tr[data-uscc='{data['inspector_uscc']}'] a").click()
        reviewer.wait_for_load_state()
        reviewer.click("form.review button[value=approve]")
        reviewer.wait_for_load_state()
        assert "已审核通过" in reviewer.locator("p.notice").inner_text()
        reviewer.click("form.publish button")
        reviewer.wait_for_load_state()
        assert "已公示" in reviewer.locator("p.notice").inner_text()
        assert reviewer.locator("section.item").first.get_attribute("data-state") == "published"
        _shot(reviewer, artifacts, f"console-result-published-{backend}.png")

        # 5. The result is on the public site, served beside the console.
        public = browser.new_page()
        public.goto(f"{base}/site/{urls.entity_path(data['inspector_uscc'])}")
        main = public.locator("main").inner_text()
        assert "未发现问题" in main and "现场检查未发现问题" in main
        _shot(public, artifacts, f"console-public-site-result-{backend}.png")
        public.close()
    with db.engine.connect() as conn:
        actions = {
            (r.actor, r.action)
            for r in conn.execute(
                select(_T.c.actor, _T.c.action).where(_T.c.actor.like("console:%"))
            )
        }
    for expected in [
        ("console:reviewer", "console.sign_in"),
        ("console:reviewer", "finding.confirm"),
        ("console:planner", "task.commit"),
        ("console:planner", "task.draw"),
        ("console:inspector", "result.enter"),
        ("console:reviewer", "result.approve"),
        ("console:reviewer", "result.publish"),
    ]:
        assert expected in actions, expected


def test_admin_uploads_a_directory_file(
    browser: Any, db: Database, tmp_path: Path, artifacts: Path
) -> None:
    """An admin imports an entity file through the form and sees the counts and the entity."""
    from factories import make_entity, make_uscc, write_csv

    build_console(db, tmp_path)
    backend = "pg" if not db.is_sqlite else "sqlite"
    rows = [make_entity(n, uscc=make_uscc(n), name=f"浏览器上传商行{n}") for n in (501, 502, 503)]
    upload = write_csv(tmp_path / "新增主体.csv", rows)
    with ConsoleServer(db) as base:
        admin = _sign_in(browser, base, "admin")
        admin.click("nav.site-nav a[href='/admin/directories']")
        admin.click("tr[data-kind='entities'] a")
        admin.wait_for_load_state()
        assert admin.locator("h1").inner_text().startswith("检查对象名录库")
        admin.set_input_files("#i-file", str(upload))
        admin.click("form.import button[type=submit]")
        admin.wait_for_load_state()
        assert "导入完成" in admin.locator("p.notice").inner_text()
        report = admin.locator("section.import-report")
        assert report.locator("td[data-count=added]").inner_text() == "3"
        assert "新增主体.csv" in report.locator("h2").inner_text()
        _shot(admin, artifacts, f"console-admin-import-{backend}.png")
        admin.fill("#f-q", "浏览器上传")
        admin.click("form.filters button[type=submit]")
        admin.wait_for_load_state()
        listed = admin.locator("table.directory tbody tr").all()
        assert [r.get_attribute("data-key") for r in listed] == [r["uscc"] for r in rows]
