"""The plan page of the console (coverage report and chart) and its JSON API, on SQLite and
PostgreSQL; in Chromium, the page with its chart (a screenshot in test-artifacts/).

Built on the console tests' data (site_support: plan P2026, one drawn task, one committed,
results entered), with the plan given items, a target and planned tasks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_console_support import ConsoleServer, build_console, csrf_of, sign_in, soup, text_of

from supervision.accounts.throttle import LoginThrottle
from supervision.db import Database
from supervision.plans.service import plan_report, publish_plan, set_plan
from supervision.plans.spec import parse_plan

PLAN_YAML = """\
items: [SJ-01]
targets:
  - id: SJ-公示
    name: <script>alert(1)</script>企业公示
    department: SJ
    ratio: 3%
  - id: SJ-全面
    department: SJ
    ratio: 100%
tasks:
  - {name: 企业公示信息抽查, departments: [SJ], items: [SJ-01], months: [3]}
"""


@pytest.fixture
def data(db: Database, tmp_path: Path) -> dict[str, Any]:
    built = build_console(db, tmp_path)
    with db.session() as session:
        set_plan(session, code="P2026", spec=parse_plan(PLAN_YAML, "plan.yaml"), actor="cli:t")
    with db.session() as session:
        publish_plan(session, code="P2026", actor="cli:t")
    return built


@pytest.fixture
def server(db: Database, data: dict[str, Any]) -> Iterator[str]:
    with ConsoleServer(db, throttle=LoginThrottle(limit=3, client_limit=1000)) as url:
        yield url


@contextmanager
def _client(url: str, role: str) -> Iterator[httpx.Client]:
    """A client signed in as ``role`` through the real form, closed afterwards."""
    with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as client:
        assert sign_in(client, role).status_code == 200
        yield client


def test_the_plan_page_shows_the_report_with_its_chart(db: Database, server: str) -> None:
    with _client(server, "planner") as planner:
        listing = soup(planner.get("/plans"))
        assert listing.find("tr", attrs={"data-plan": "P2026"}) is not None
        assert listing.find("nav").find("a", href="/plans") is not None
        page = planner.get("/plan", params={"code": "P2026", "as_of": "2026-12-01"})
    assert page.status_code == 200
    doc = soup(page)
    with db.session() as session:
        report = plan_report(session, code="P2026", as_of=date(2026, 12, 1))
    rows = {tr["data-target"]: tr for tr in doc.select("table.targets tbody tr")}
    assert list(rows) == ["SJ-公示", "SJ-全面"]
    for target in report["targets"]:
        row = rows[target["id"]]
        assert row.find("td", class_="entities").get_text() == str(target["entities"])
        assert row.find("td", class_="drawn").get_text() == str(target["drawn"])
        assert row.find("td", class_="inspected").get_text() == str(target["inspected"])
        assert row["class"] == [f"status-{target['status']}"]
    # every entity was drawn (ratio 1), not every one inspected yet; 3% is inspected already
    assert [t["status"] for t in report["targets"]] == ["met", "on_track"]
    # the target's name is text, never markup
    assert "<script>alert(1)</script>企业公示" in text_of(rows["SJ-公示"])
    assert doc.find("script", string="alert(1)") is None
    chart = doc.find("svg", class_="plan-chart")
    assert chart is not None and chart.find("title").get_text() == "覆盖率 / coverage"
    groups = chart.find_all("g", class_="chart-target")
    assert [(g["data-target"], g["data-status"]) for g in groups] == [
        (t["id"], t["status"]) for t in report["targets"]
    ]
    assert len(chart.find_all("line", class_="chart-goal")) == 2
    assert "<script" not in str(chart)
    assert doc.find("dd", class_="published").get_text(strip=True) != "未公示not published"
    assert doc.select("section.target-detail tr[data-region]")
    assert [tr["data-class"] for tr in doc.select(
        "section.target-detail[data-target='SJ-公示'] tr[data-class]"
    )] == [r["credit_class"] for r in report["targets"][0]["by_credit_class"]]  # fmt: skip
    # the committed task of site_support was committed before the plan was published
    assert doc.select("ul.early li")


def test_the_api_gives_the_same_report_and_roles_hold(db: Database, server: str) -> None:
    with _client(server, "reviewer") as reviewer:
        answer = reviewer.get("/api/plans/report", params={"code": "P2026", "as_of": "2026-12-01"})
        assert answer.status_code == 200
        detail = reviewer.get("/api/plans/plan", params={"code": "P2026"}).json()
        bad = reviewer.get("/api/plans/report", params={"code": "P2026", "as_of": "2026-13-01"})
        missing = reviewer.get("/plan", params={"code": "NOPE"})
    with db.session() as session:
        expected = plan_report(session, code="P2026", as_of=date(2026, 12, 1))
    assert answer.json() == expected
    assert [t["id"] for t in detail["targets"]] == ["SJ-公示", "SJ-全面"]
    assert bad.status_code == 400 and "as_of" in bad.text
    assert missing.status_code == 404 and "没有抽查计划 NOPE" in missing.text
    with _client(server, "inspector") as inspector:
        assert inspector.get("/plan", params={"code": "P2026"}).status_code == 403
        assert inspector.get("/api/plans/report", params={"code": "P2026"}).status_code == 403
        nav = soup(inspector.get("/"))
        assert nav.find("a", href="/plans") is None
    with _client(server, "admin") as admin:
        assert admin.get("/plan", params={"code": "P2026"}).status_code == 200


@pytest.mark.slow
def test_the_plan_page_in_chromium(
    browser: Any, db: Database, data: dict[str, Any], artifacts: Path, tmp_path: Path
) -> None:
    from test_console_support import PASSWORD

    from supervision.site import publish_site

    backend = "pg" if not db.is_sqlite else "sqlite"
    site = tmp_path / "site"
    publish_site(db, out_dir=site, languages="all", workers=1)
    with ConsoleServer(db, site_dir=site) as base:
        # The public plan notice on a phone (390 px): the targets table is there and legible.
        phone = browser.new_context(viewport={"width": 390, "height": 844},
                                    java_script_enabled=False)  # fmt: skip
        public = phone.new_page()
        public.goto(f"{base}/site/plans/index.html")
        targets = public.locator("article#plan-P2026 table.plan-targets")
        assert targets.is_visible()
        assert "3%" in targets.inner_text() and "100%" in targets.inner_text()
        shot = artifacts / f"site-plan-notice-390-{backend}.png"
        public.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5_000
        phone.close()
        context = browser.new_context(viewport={"width": 1200, "height": 900},
                                      java_script_enabled=False)  # fmt: skip
        page = context.new_page()
        page.goto(f"{base}/")
        page.fill("#username", "planner")
        page.fill("#password", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_load_state()
        page.click("nav.site-nav a[href='/plans']")
        page.click("table.plans a")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text().startswith("计划覆盖率")
        chart = page.locator("svg.plan-chart")
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 50
        # the bars are drawn (CSS from the console's own stylesheet, no inline style)
        goal = page.locator("svg.plan-chart line.chart-goal").first
        assert goal.evaluate("e => getComputedStyle(e).stroke") == "rgb(179, 38, 30)"
        path = artifacts / f"console-plan-{backend}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 5_000
        context.close()


def test_a_planner_publishes_a_plan_from_its_page(db: Database, server: str) -> None:
    from sqlmodel import select

    from supervision.draw.plans import create_plan
    from supervision.models import Plan, TrailEvent

    for code in ("P2027", "P2028"):
        with db.session() as session:
            create_plan(session, code=code, year=2027, name=f"{code}计划", departments=["SJ"])
        with db.session() as session:
            set_plan(session, code=code, spec=parse_plan(PLAN_YAML, "plan.yaml"), actor="cli:t")
    with _client(server, "reviewer") as reviewer:
        page = reviewer.get("/plan", params={"code": "P2027"})
        assert soup(page).find("form", class_="publish-plan") is None  # not a reviewer's act
        refused = reviewer.post(
            "/plan/publish", data={"code": "P2027", "csrf_token": csrf_of(page)}
        )
        assert refused.status_code == 403
    with _client(server, "planner") as planner:
        page = planner.get("/plan", params={"code": "P2027"})
        form = soup(page).find("form", class_="publish-plan")
        assert form is not None and form.find("input", attrs={"name": "code"})["value"] == "P2027"
        without = planner.post("/plan/publish", data={"code": "P2027"})
        assert without.status_code == 403  # no CSRF token
        done = planner.post("/plan/publish", data={"code": "P2027", "csrf_token": csrf_of(page)})
        assert done.status_code == 303
        shown = planner.get(done.headers["location"])
        assert "计划已公示" in text_of(soup(shown).find("p", class_="notice"))
        assert soup(shown).find("form", class_="publish-plan") is None
        again = planner.post("/plan/publish", data={"code": "P2027", "csrf_token": csrf_of(page)})
        assert again.status_code == 409
        api = planner.post("/api/plans/publish", json={"code": "P2028"},
                           headers={"X-CSRF-Token": csrf_of(page)})  # fmt: skip
        assert api.status_code == 200 and api.json()["published_at"] is not None
    with db.session() as session:
        assert all(session.get(Plan, c).published_at for c in ("P2027", "P2028"))  # type: ignore[union-attr]
        events = session.exec(select(TrailEvent).where(TrailEvent.action == "plan.publish")).all()
    assert {(e.object, e.actor) for e in events} >= {
        ("plan:P2027", "console:planner"),
        ("plan:P2028", "console:planner"),
    }
