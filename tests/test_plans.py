"""Yearly plans: contents from a plan file, publication (计划公示) and the coverage report,
through the service and the CLI, on SQLite and PostgreSQL; the pure arithmetic alone.

Built on the draw tests' province (two departments, 80 active enterprises in two
prefectures), with four 个体工商户 added so that a target over enterprises has a denominator
smaller than the directory.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from conftest import CliRun
from factories import make_entity, make_uscc, write_json
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select
from test_tasks_draw import HOHHOT, SEED, _task, province  # noqa: F401  (fixture)

from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.draw.commit import commit_task
from supervision.draw.service import draw_task
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models import DrawPick, Plan, PlanTarget, TrailEvent
from supervision.plans import coverage
from supervision.plans.service import plan_report, publish_plan, set_plan
from supervision.plans.spec import parse_plan, ratio_value
from supervision.results.entry import enter_results
from supervision.results.inputs import ItemInput

pytestmark = pytest.mark.usefixtures("crew")

SH = ZoneInfo("Asia/Shanghai")

PLAN_YAML = """\
items: [SJ-01, SW-01]
targets:
  - id: SJ-公示
    name: 企业公示信息抽查
    department: SJ
    item_kind: 一般
    entity_types: [企业]
    ratio: 3%
  - department: SW
    ratio: 0.5
tasks:
  - code: 蒙市监抽查〔2026〕1号
    name: 企业公示信息抽查
    departments: [SJ]
    items: [SJ-01]
    months: [3, 4]
  - name: 税务联合抽查
    departments: [SW]
    items: [SW-01]
    months: [9]
"""


@pytest.fixture
def individuals(db: Database, province: dict[str, Any], tmp_path: Path) -> list[str]:  # noqa: F811
    """Four 个体工商户 beside the province's 80 enterprises."""
    rows = [
        make_entity(
            300 + n,
            uscc=make_uscc(300 + n, prefix="92"),
            entity_type="个体工商户",
            region_code=HOHHOT,
        )
        for n in range(4)
    ]
    import_file(db, kind="entities", path=write_json(tmp_path / "individuals.json", rows))
    return [r["uscc"] for r in rows]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def _set(db: Database, text: str = PLAN_YAML, **kw: Any) -> None:
    with db.session() as session:
        set_plan(session, code="P2026", spec=parse_plan(text, "plan.yaml"), actor="cli:t", **kw)


def _picks(db: Database, code: str) -> set[str]:
    with db.session() as session:
        return set(session.exec(select(DrawPick.uscc).where(DrawPick.task_code == code)))


# --------------------------------------------------------------------------- the file
def test_a_plan_file_with_problems_names_each_by_line_and_key() -> None:
    text = PLAN_YAML.replace("ratio: 3%", "ratio: 300%").replace("months: [9]", "months: [13]")
    text += "colour: red\n"
    with pytest.raises(ValidationFailed) as caught:
        parse_plan(text, "plan.yaml")
    details = "\n".join(caught.value.details)
    assert "plan.yaml:8: targets[0].ratio" in details
    assert "plan.yaml:20: tasks[1].months" in details
    assert "plan.yaml:21: colour" in details and "unknown key" in details
    assert len(caught.value.details) == 3


@pytest.mark.parametrize(
    ("given", "ratio"), [("3%", "0.03"), (0.05, "0.05"), ("0.030", "0.03"), (1, "1"), ("100%", "1")]
)
def test_ratios_are_exact(given: Any, ratio: str) -> None:
    assert str(ratio_value(given)) == ratio


def test_two_targets_for_one_department_and_kind_need_their_own_ids() -> None:
    text = "targets:\n  - {department: SJ, ratio: 3%}\n  - {department: SJ, ratio: 5%}\n"
    with pytest.raises(ValidationFailed) as caught:
        parse_plan(text, "p.yaml")
    assert "p.yaml:3: targets[1]" in caught.value.details[0]


# --------------------------------------------------------------------------- the service
def test_set_checks_the_directories_and_writes_nothing_on_a_problem(
    db: Database,
    province: dict[str, Any],  # noqa: F811
) -> None:
    bad = PLAN_YAML.replace("items: [SJ-01, SW-01]", "items: [SJ-01, SW-01, XX-99]").replace(
        "department: SW", "department: QQ"
    )
    with pytest.raises(ValidationFailed) as caught:
        _set(db, bad)
    details = "\n".join(caught.value.details)
    assert "plan.yaml:1: items[2]" in details and "XX-99" in details
    assert "targets[1].department" in details and "QQ" in details
    with db.session() as session:
        assert session.exec(select(PlanTarget)).all() == []
        assert session.get(Plan, "P2026").items == []  # type: ignore[union-attr]


def test_report_counts_drawn_inspected_and_projected_against_the_targets(
    db: Database, individuals: list[str]
) -> None:
    with time_machine.travel(at("2026-02-20T09:00"), tick=False) as traveller:
        _set(db)
        first = _task(db, disclosure="full")
        with db.session() as session:
            commit_task(session, code=first)  # before the plan is published: flagged
        traveller.move_to(at("2026-02-25T09:00"))
        with db.session() as session:
            publish_plan(session, code="P2026", actor="cli:t")
        traveller.move_to(at("2026-03-02T09:00"))
        with db.session() as session:
            draw_task(session, code=first, seed=SEED, workers=1)
        second = _task(db, code="T2", ratios="0.5", disclosure="full")
        with db.session() as session:
            commit_task(session, code=second)
        picks = sorted(_picks(db, first))
        item = ItemInput.model_validate(
            {
                "item": "SJ-01",
                "code": "1",
                "finding": "未发现问题",
                "inspected_on": date(2026, 3, 9),
            }
        )
        traveller.move_to(at("2026-03-10T09:00"))
        with db.session() as session:
            enter_results(session, task_code=first, uscc=picks[0], items=[item], actor="cli:t")
        with db.session() as session:
            report = plan_report(session, code="P2026")
    assert report["as_of"] == "2026-03-10"

    sj, sw = report["targets"]
    assert sj["id"] == "SJ-公示" and sj["ratio"] == "0.03"
    assert sj["entities"] == 80  # enterprises only: the 个体工商户 are not in the denominator
    assert sj["needed"] == math.ceil(Decimal("0.03") * 80)
    assert sj["drawn"] == len(picks) and sj["inspected"] == 1
    assert sj["tasks"] == sorted([first, second])
    # T2 (ratio 0.5 over the 84 it committed) adds about half of the 80 - drawn
    undrawn = 80 - len(picks)
    assert sj["projected"] == pytest.approx(len(picks) + undrawn * 0.5, abs=1.0)
    assert sj["status"] == "on_track"  # 1 inspected < 3 needed, projection far above
    assert sum(r["entities"] for r in sj["by_region"]) == 80
    assert {r["region"] for r in sj["by_region"]} == {"150100", "152200"}
    assert sum(r["drawn"] for r in sj["by_credit_class"]) == len(picks)
    assert [r["credit_class"] for r in sj["by_credit_class"]] == ["A", "B", "C", "D"]

    assert sw["id"] == "SW/全部" and sw["entities"] == 84 and sw["drawn"] == 0
    assert sw["status"] == "short" and sw["tasks"] == []

    assert [r["task"] for r in report["committed_before_publication"]] == [first]
    assert report["items_outside_plan"] == []  # SJ-01 is a plan item
    assert report["repeated"] == []
    planned = {p["name"]: p for p in report["planned_tasks"]}
    assert planned["企业公示信息抽查"]["status"] == "in_progress"
    assert planned["税务联合抽查"]["status"] is None and not planned["税务联合抽查"]["late"]
    by_dept = {d["department"]: d for d in report["departments"]}
    assert by_dept["SJ"] == {"department": "SJ", "tasks": 2, "drawn": len(picks), "inspected": 1}


def test_an_entity_drawn_twice_in_the_year_is_reported(
    db: Database,
    province: dict[str, Any],  # noqa: F811
) -> None:
    _set(db)
    # exclusion_days=0: the second task does not leave out what the first drew
    codes = [
        _task(db, code=c, ratios="0.25", disclosure="full", exclusion_days=0, region_rule="any",
              exclude_previous_inspector=False)
        for c in ("T1", "T2")
    ]  # fmt: skip
    for code in codes:
        with db.session() as session:
            commit_task(session, code=code)
        with db.session() as session:
            draw_task(session, code=code, seed=SEED + code[-1], workers=1)
    both = _picks(db, "T1") & _picks(db, "T2")
    assert both  # half and half of 80: these seeds overlap
    with db.session() as session:
        report = plan_report(session, code="P2026", as_of=date(2026, 5, 1))
    assert {r["uscc"] for r in report["repeated"]} == both
    assert all(r["tasks"] == ["T1", "T2"] for r in report["repeated"])


def test_a_published_plan_changes_only_with_a_reason(
    db: Database,
    province: dict[str, Any],  # noqa: F811
) -> None:
    _set(db)
    with db.session() as session:
        publish_plan(session, code="P2026", actor="cli:t")
    with pytest.raises(SupervisionError) as caught:
        _set(db, PLAN_YAML.replace("3%", "5%"))
    assert "须说明理由" in caught.value.zh
    _set(db, PLAN_YAML.replace("3%", "5%"), reason="自治区要求提高到 5%")
    with db.session() as session:
        plan = session.get(Plan, "P2026")
        assert plan is not None and plan.amendment_reason == "自治区要求提高到 5%"
        target = session.get(PlanTarget, ("P2026", "SJ-公示"))
        assert target is not None and target.ratio == "0.05"
        actions = [e.action for e in session.exec(select(TrailEvent).order_by(TrailEvent.seq))]
    assert actions[-3:] == ["plan.set", "plan.publish", "plan.amend"]
    with db.session() as session, pytest.raises(SupervisionError):
        publish_plan(session, code="P2026", actor="cli:t")  # once


def test_a_plan_without_targets_is_not_published(
    db: Database,
    province: dict[str, Any],  # noqa: F811
) -> None:
    with db.session() as session, pytest.raises(SupervisionError) as caught:
        publish_plan(session, code="P2026", actor="cli:t")
    assert "不能公示" in caught.value.zh


# --------------------------------------------------------------------------- the CLI
def test_cli_create_from_a_file_publish_and_report(
    cli: CliRun,
    crew: dict[str, str],
    db: Database,
    province: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    planner = ("--as", crew["planner"])
    path = tmp_path / "plan.yaml"
    path.write_text("code: P2027\nyear: 2027\nname: 2027年度计划\ndepartments: [SJ, SW]\n"
                    + PLAN_YAML, encoding="utf-8")  # fmt: skip
    cli("plan", "create", "--from", path, *planner)
    shown = json.loads(cli("plan", "show", "P2027", "--json").stdout)
    assert shown["items"] == ["SJ-01", "SW-01"] and len(shown["targets"]) == 2
    assert shown["planned_tasks"][0]["months"] == [3, 4] and shown["published_at"] is None
    text = cli("plan", "show", "P2027").stdout
    assert "覆盖率目标 / coverage targets" in text and "3%" in text and "未公示 not yet" in text
    cli("plan", "publish", "P2027", *planner)
    report = json.loads(
        cli("plan", "report", "P２０２７ ", "--json", "--as-of", "2027-11-01").stdout
    )
    assert report["plan"] == "P2027" and report["published_at"] is not None
    assert [t["status"] for t in report["targets"]] == ["short", "short"]
    table = cli("plan", "report", "P2027", "--as-of", "2027-11-01").stdout
    assert "目标 target SJ-公示：企业公示信息抽查" in table and "预计不足 short" in table
    assert "by region and credit class" in table
    with db.session() as session:
        events = session.exec(select(TrailEvent).where(TrailEvent.object == "plan:P2027")).all()
    assert [(e.action, e.actor) for e in events] == [
        ("plan.create", f"console:{crew['planner']}"),
        ("plan.set", f"console:{crew['planner']}"),
        ("plan.publish", f"console:{crew['planner']}"),
    ]
    # the options alone still create a plan, as before
    cli("plan", "create", "--code", "P2028", "--year", "2028", "--name", "计划",
        "--department", "SJ", *planner)  # fmt: skip
    listed = json.loads(cli("plan", "list", "--json").stdout)
    assert {p["code"] for p in listed} == {"P2026", "P2027", "P2028"}


def test_cli_refuses_a_bad_file_without_a_traceback_and_writes_nothing(
    cli: CliRun,
    crew: dict[str, str],
    db: Database,
    province: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN_YAML.replace("departments: [SJ]", "departments: [QQ]"), "utf-8")
    refused = cli("plan", "set", "P2026", "--from", path, "--as", crew["planner"], expect=1)
    assert f"{path}:14: tasks[0].departments[0]" in refused.stderr and "QQ" in refused.stderr
    assert "Traceback" not in refused.output
    refused = cli("plan", "set", "P2026", "--from", path, "--as", crew["reviewer"], expect=1)
    with db.session() as session:
        assert session.exec(select(PlanTarget)).all() == []


def test_cli_report_of_an_unknown_plan_is_a_clear_error(cli: CliRun) -> None:
    refused = cli("plan", "report", "NOPE", expect=1)
    assert "没有抽查计划 NOPE" in refused.stderr and "Traceback" not in refused.output


# --------------------------------------------------------------------------- pure arithmetic
def _entity(
    n: int, kind: str = "企业", region: str = "150102", cls: str = "B"
) -> coverage.EntityRow:
    return coverage.EntityRow(f"U{n:03d}", kind, "F5211", region, cls)


ITEM = coverage.ItemRow("I1", "SJ", "一般")


def test_a_committed_task_at_ratio_one_projects_full_coverage() -> None:
    entities = [_entity(n) for n in range(10)]
    task = coverage.TaskRow(
        code="T", status="committed", items=("I1",), departments=("SJ",),
        strata=(coverage.StratumRow("1", frozenset(e.uscc for e in entities)),),
    )  # fmt: skip
    report = coverage.coverage_report(
        plan={"code": "P", "name": "p", "year": 2026, "items": ["I1"], "departments": ["SJ"]},
        targets=[coverage.Target("t", Decimal("0.5"))],
        items={"I1": ITEM}, entities=entities, tasks=[task], year_picks={},
        as_of=date(2026, 10, 1),
    )  # fmt: skip
    (t,) = report["targets"]
    assert (t["entities"], t["drawn"], t["projected"], t["needed"]) == (10, 0, 10.0, 5)
    assert t["status"] == "on_track"
    assert coverage.shortfalls(report, as_of=date(2026, 10, 1), from_month=10) == []


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 40),
    drawn=st.integers(0, 40),
    inspected=st.integers(0, 40),
    ratio=st.sampled_from(["0.01", "0.03", "0.05", "0.2", "1"]),
    target=st.sampled_from(["0.03", "0.05", "0.5"]),
)
def test_counts_are_nested_and_projection_is_bounded(
    size: int, drawn: int, inspected: int, ratio: str, target: str
) -> None:
    """inspected ≤ drawn ≤ projected ≤ entities, whatever the tasks."""
    entities = [_entity(n, cls="ABCD"[n % 4]) for n in range(size)]
    ids = [e.uscc for e in entities]
    picks = frozenset(ids[: min(drawn, size)])
    done = frozenset(sorted(picks)[:inspected])
    tasks = [
        coverage.TaskRow("T1", "drawn", ("I1",), ("SJ",), picks=picks, results={"I1": done}),
        coverage.TaskRow(
            "T2",
            "committed",
            ("I1",),
            ("SJ",),
            strata=(coverage.StratumRow(ratio, frozenset(ids)),),
        ),
        coverage.TaskRow("T3", "draft", ("I1",), ("SJ",), picks=frozenset(ids)),
    ]
    report = coverage.coverage_report(
        plan={"code": "P", "name": "p", "year": 2026, "items": ["I1"], "departments": ["SJ"]},
        targets=[coverage.Target("t", Decimal(target))],
        items={"I1": ITEM}, entities=entities, tasks=tasks, year_picks={"T1": picks},
        as_of=date(2026, 12, 1),
    )  # fmt: skip
    (t,) = report["targets"]
    assert t["inspected"] <= t["drawn"] <= t["projected"] + 1e-6 <= t["entities"] + 1e-6
    assert t["drawn"] == len(picks) and t["inspected"] == len(done)
    for key in ("by_region", "by_credit_class"):
        assert sum(r["entities"] for r in t[key]) == size
        assert sum(r["drawn"] for r in t[key]) == len(picks)
    short = coverage.shortfalls(report, as_of=date(2026, 12, 1), from_month=10)
    assert (t["status"] == "short") == bool(short)
    assert coverage.shortfalls(report, as_of=date(2026, 9, 30), from_month=10) == []


def test_tasks_committed_before_publication_are_flagged() -> None:
    published = datetime(2026, 2, 1, 8)
    tasks = [
        coverage.TaskRow("early", "committed", ("I1",), ("SJ",), committed_at=datetime(2026, 1, 5)),
        coverage.TaskRow("late", "committed", ("I1",), ("SJ",), committed_at=datetime(2026, 3, 5)),
        coverage.TaskRow("draft", "draft", ("I1",), ("SJ",)),
    ]
    report = coverage.coverage_report(
        plan={"code": "P", "name": "p", "year": 2026, "published_at": published},
        targets=[], items={}, entities=[], tasks=tasks, year_picks={}, as_of=date(2026, 3, 6),
    )  # fmt: skip
    assert [r["task"] for r in report["committed_before_publication"]] == ["early"]


def test_tasks_inspecting_items_outside_the_plan_are_flagged() -> None:
    tasks = [
        coverage.TaskRow("in", "committed", ("I1",), ("SJ",)),
        coverage.TaskRow("out", "drawn", ("I1", "I9"), ("SJ",)),
        coverage.TaskRow("gone", "cancelled", ("I9",), ("SJ",)),
    ]
    report = coverage.coverage_report(
        plan={"code": "P", "name": "p", "year": 2026, "items": ["I1"]},
        targets=[], items={}, entities=[], tasks=tasks, year_picks={}, as_of=date(2026, 3, 6),
    )  # fmt: skip
    assert report["items_outside_plan"] == [{"task": "out", "items": ["I9"]}]


# --------------------------------------------------------------------------- 计划公示
def test_the_site_shows_a_published_plan_notice_in_both_languages(
    db: Database,
    province: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    from bs4 import BeautifulSoup

    from supervision.draw.plans import create_plan
    from supervision.site import publish_site

    with db.session() as session:  # a second plan, never published: no contents shown
        create_plan(session, code="P-draft", year=2026, name="草稿计划", departments=["SJ"])
    _set(
        db,
        PLAN_YAML.replace(
            "name: 企业公示信息抽查\n    department", "name: <b>公示</b>\n    department"
        ),
    )
    with time_machine.travel(at("2026-02-25T09:00"), tick=False), db.session() as session:
        publish_plan(session, code="P2026", actor="cli:t")
    out = tmp_path / "site"
    publish_site(db, out_dir=out, languages="all", strict=True)

    def plan(lang: str, anchor: str) -> Any:
        page = out / lang / "plans" / "index.html"
        doc = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        return doc.find("article", id=anchor)

    zh = plan("", "plan-P2026")
    assert zh.find("dd", class_="plan-published").get_text(strip=True) == "2026-02-25 09:00:00"
    targets = [[td.get_text(strip=True) for td in tr.find_all("td")]
               for tr in zh.find("table", class_="plan-targets").find("tbody").find_all("tr")]  # fmt: skip
    assert targets == [
        ["<b>公示</b>", "市场监督管理局", "一般", "企业", "3%"],  # escaped, shown as text
        ["SW/全部", "税务局", "全部", "全部", "50%"],
    ]
    schedule = zh.find("table", class_="plan-schedule").get_text(" ", strip=True)
    assert "3月、4月" in schedule and "9月" in schedule
    assert [td.get_text(strip=True) for td in zh.select("table.plan-items td.code")] == [
        "SJ-01",
        "SW-01",
    ]
    draft = plan("", "plan-P-draft")
    assert draft.find("dd", class_="plan-published").get_text(strip=True) == "本计划尚未公示"
    assert draft.find("table") is None
    en = plan("en", "plan-P2026")
    assert "Coverage targets" in en.get_text() and "month 3" in en.get_text()
    assert "Share inspected in the year, at least" in en.get_text()
    # the published plan is a notice on the home page and in the feed; the draft is not
    home = BeautifulSoup((out / "index.html").read_text(encoding="utf-8"), "html.parser")
    latest = [li.get_text(" ", strip=True) for li in home.select("ul.notices li")]
    assert any("抽查计划公告" in t and "P2026" in t for t in latest)
    assert not any("P-draft" in t for t in latest)
    feed = (out / "feed.atom").read_text(encoding="utf-8")
    assert "抽查计划公告 / plan notice" in feed and "tag:supervision,2024:plan:P2026" in feed


# --------------------------------------------------------------------------- the demo
def test_the_demo_plan_has_targets_and_is_published_before_its_tasks(cli: CliRun) -> None:
    data = json.loads(cli("demo", "--entities", "800", "--as-of", "2026-03-02", "--json").stdout)
    plan = data["plan"]
    assert [t["id"] for t in plan["targets"]] == ["企业公示信息", "市场监管一般事项", "税务"]
    assert all(t["entities"] > 0 and t["needed"] > 0 for t in plan["targets"])
    assert plan["targets"][0]["drawn"] == data["draw"]["picked"]  # the drawn task: 企业 only
    assert any(f"plan report '{plan['plan']}'" in s["command"] for s in data["next_steps"])
    report = json.loads(
        cli("plan", "report", plan["plan"], "--json", "--as-of", "2026-03-02").stdout
    )
    assert report["published_at"] is not None
    assert report["committed_before_publication"] == []
    planned = {p["name"]: p for p in report["planned_tasks"]}
    assert planned["企业公示信息情况抽查"]["months"] == [3, 4, 5, 6]
    assert planned["企业公示信息情况抽查"]["status"] == "in_progress"  # results entered
    assert planned["食品经营许可情况抽查"]["status"] is None


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("targets: [{id: \"A\\u200bB\", ratio: 3%}]\n", "p.yaml:1: targets[0].id"),
        ("targets: [{name: \"x\\u202ey\", ratio: 3%}]\n", "p.yaml:1: targets[0].name"),
        ("tasks: [{name: \"a\\u0007\", departments: [SJ], items: [SJ-01], months: [1]}]\n",
         "p.yaml:1: tasks[0].name"),
        ("items: &a [SJ-01]\ntasks: *a\n", "第 2 行"),
        ("items: [SJ-01\n", "YAML"),
        ("- a list\n", "p.yaml:1: (file)"),
    ],
)  # fmt: skip
def test_hostile_plan_files_are_refused_with_the_place(text: str, where: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_plan(text, "p.yaml")
    assert where in str(caught.value) + "\n".join(caught.value.details)


def test_cli_create_without_a_file_needs_the_shell_options(
    cli: CliRun, crew: dict[str, str]
) -> None:
    refused = cli("plan", "create", "--code", "P1", "--as", crew["planner"], expect=1)
    assert "创建计划需要 year、name、departments" in refused.stderr
    assert "Traceback" not in refused.output
