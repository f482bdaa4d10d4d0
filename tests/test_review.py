"""The review queue: list filters and order, show, confirm (risk class, marks), dismiss."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import event, func, select
from test_check_support import AS_OF, dump, load, province

from supervision.accounts.users import add_user
from supervision.checks.review import (
    confirm_finding,
    dismiss_finding,
    entity_review,
    flagged_count,
    review_queue,
)
from supervision.checks.run import run_check
from supervision.db import Database
from supervision.errors import NotFoundError, SupervisionError
from supervision.models import Entity
from supervision.models.findings import EntityMark, Finding

pytestmark = pytest.mark.usefixtures("crew")

_E = Entity.__table__  # type: ignore[attr-defined]
_F = Finding.__table__  # type: ignore[attr-defined]
_M = EntityMark.__table__  # type: ignore[attr-defined]


@pytest.fixture
def checked(db: Database) -> dict[str, str]:
    usccs, entities, records = province()
    # One entity in another prefecture (包头 150200) for the region filter.
    for row in entities:
        if row["uscc"] == usccs["licence"]:
            row["region_code"] = "150203"
    load(db, entities, records)
    run_check(db, as_of=AS_OF)
    return usccs


def _finding_id(db: Database, uscc: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(_F.c.id).where(_F.c.uscc == uscc)).scalar_one())


def test_list_sorts_by_severity_then_age_and_filters(db: Database, checked: dict[str, str]) -> None:
    items = review_queue(db)
    assert len(items) == 6 and flagged_count(db) == 6
    ranks = ["critical", "high", "medium", "low"]
    assert [ranks.index(i.severity) for i in items] == sorted(
        ranks.index(i.severity) for i in items
    )
    assert items[0].uscc == checked["serious"]
    assert {i.uscc for i in review_queue(db, severity="high")} == {
        checked["licence"],
        checked["rectification"],
        checked["unreachable"],
    }
    assert [i.uscc for i in review_queue(db, rule="samr.frequent-complaints")] == [
        checked["complaints"]
    ]
    assert [i.uscc for i in review_queue(db, region="150200")] == [checked["licence"]]
    assert [i.uscc for i in review_queue(db, region="150203")] == [checked["licence"]]
    assert len(review_queue(db, region="150000")) == 6
    assert len(review_queue(db, department="市场监督管理部门")) == 6
    assert review_queue(db, department="税务") == []
    assert len(review_queue(db, limit=2)) == 2
    with pytest.raises(SupervisionError):
        review_queue(db, severity="urgent")


def test_show_explains(db: Database, checked: dict[str, str]) -> None:
    page = entity_review(db, uscc=checked["no_report"])
    assert page["flagged"] is True
    (finding,) = page["findings"]
    assert finding["rule"]["title_zh"] == "未按期报送年度报告"
    assert finding["rule"]["title_en"].startswith("Annual report")
    assert {"law": "企业信息公示暂行条例", "article": "第八条"} in finding["rule"]["legal_basis"]
    assert finding["rule_version"] == 1
    assert {m["t"] for m in finding["matched"]} == {"entity", "annual_report"}
    assert entity_review(db, uscc=checked["clean"])["flagged"] is False
    with pytest.raises(NotFoundError):
        entity_review(db, uscc="911501020000000000")


def test_confirm_raises_risk_class_and_marks(db: Database, checked: dict[str, str]) -> None:
    uscc = checked["licence"]  # on_confirm: raise_risk_class, mark_for_targeted_draw
    fid = _finding_id(db, uscc)
    with db.engine.connect() as conn:
        before = conn.execute(
            select(_E.c.risk_class, _E.c.updated_at).where(_E.c.uscc == uscc)
        ).one()
    result = confirm_finding(db, finding_id=fid, note="现场核实无证经营", actor="王五")
    actions = {e["action"]: e for e in result["effects"]}
    assert actions["raise_risk_class"] == {"action": "raise_risk_class", "from": "B", "to": "C"}
    assert "mark_for_targeted_draw" in actions
    assert actions["transfer_to_case_handling"]["status"] == "pending"
    with db.engine.connect() as conn:
        after = conn.execute(
            select(_E.c.risk_class, _E.c.updated_at).where(_E.c.uscc == uscc)
        ).one()
        row = conn.execute(select(_F).where(_F.c.id == fid)).one()
        mark = conn.execute(select(_M).where(_M.c.uscc == uscc)).one()
    assert before.risk_class == "B" and after.risk_class == "C"
    assert after.updated_at > before.updated_at
    assert row.status == "confirmed" and row.decided_by == "王五" and row.decided_at is not None
    assert row.note == "现场核实无证经营"
    assert mark.finding_id == fid and mark.created_by == "王五"
    # The entity changed, so the next incremental run checks it; the decision stands.
    later = run_check(db, as_of=AS_OF)
    assert later.entities_checked == 1 and later.new == 0
    assert entity_review(db, uscc=uscc)["flagged"] is False
    # A decided finding cannot be decided again.
    with pytest.raises(SupervisionError):
        dismiss_finding(db, finding_id=fid, reason="再议", actor="王五")


def test_risk_class_stops_at_d(db: Database, checked: dict[str, str]) -> None:
    uscc = checked["serious"]
    with db.engine.begin() as conn:
        conn.execute(_E.update().where(_E.c.uscc == uscc).values(risk_class="D"))
    result = confirm_finding(db, finding_id=_finding_id(db, uscc), note="届满三年", actor="王五")
    raised = next(e for e in result["effects"] if e["action"] == "raise_risk_class")
    assert raised == {"action": "raise_risk_class", "from": "D", "to": "D"}


def test_dismiss_requires_a_reason_and_changes_nothing(
    db: Database, checked: dict[str, str]
) -> None:
    fid = _finding_id(db, checked["complaints"])
    before = dump(db)
    for reason in (None, "", "   "):
        with pytest.raises(SupervisionError) as info:
            dismiss_finding(db, finding_id=fid, reason=reason, actor="李四")
        assert "理由" in info.value.zh and "reason" in info.value.en
    assert dump(db) == before
    dismiss_finding(db, finding_id=fid, reason="投诉人撤回", actor="李四")
    with db.engine.connect() as conn:
        row = conn.execute(select(_F).where(_F.c.id == fid)).one()
        marks = conn.execute(select(func.count()).select_from(_M)).scalar_one()
    assert row.status == "dismissed" and row.note == "投诉人撤回" and row.decided_by == "李四"
    assert marks == 0


# ---------------------------------------------------------------- CLI
def test_review_cli(cli: Any, db_url: str) -> None:
    database = Database(db_url)
    try:
        usccs, entities, records = province()
        load(database, entities, records)
        with database.session() as session:  # --by names a console user (the older --as)
            for name in ("李四", "王五"):
                add_user(session, username=name, password="a reviewer's password", role="reviewer")
    finally:
        database.dispose()
    cli("check", "--as-of", AS_OF.isoformat())
    whole = json.loads(cli("review", "list", "--json").stdout)
    listed = whole["items"]
    assert whole["total"] == 6 and whole["pages"] == 1
    assert len(listed) == 6 and listed[0]["severity"] == "critical"
    assert listed[0]["title"]["zh"] == "列入经营异常名录届满 3 年，列入严重违法失信名单"
    assert "列入经营异常名录，已满 3 年" in listed[0]["explain"]["zh"]
    assert listed[0]["opened_at"].endswith("+00:00")  # JSON keeps ISO with its offset
    high = json.loads(cli("review", "list", "--severity", "high", "--json").stdout)["items"]
    assert {i["severity"] for i in high} == {"high"}
    text = cli("review", "list").stdout
    # People read the explanation, the USCC whole, and Beijing time in one format.
    assert "列入经营异常名录，已满 3 年" in text
    assert all(i["uscc"] in text for i in listed)
    assert "open findings: 6 of 6, page 1/1" in text
    # Pages: the total, where this page is, and how to get the next one.
    first = cli("review", "list", "--limit", "4").stdout
    assert "open findings: 4 of 6, page 1/2" in first and "--page 2" in first
    second = json.loads(cli("review", "list", "--limit", "4", "--page", "2", "--json").stdout)
    assert [i["finding_id"] for i in second["items"]] == [i["finding_id"] for i in listed[4:]]
    by_offset = json.loads(cli("review", "list", "--offset", "5", "--json").stdout)
    assert [i["finding_id"] for i in by_offset["items"]] == [listed[5]["finding_id"]]
    cli("review", "list", "--page", "1", "--offset", "1", expect=1)
    shown = json.loads(cli("review", "show", usccs["no_report"], "--json").stdout)
    fid = shown["findings"][0]["id"]
    assert shown["findings"][0]["explain"]["zh"]
    show = cli("review", "show", usccs["no_report"]).stdout
    assert "依据" in show and "年度 / Year: " in show and "{'" not in show
    refused = cli("review", "dismiss", str(fid), "--by", "李四", expect=1)
    assert "理由" in refused.stderr and "reason" in refused.stderr
    assert json.loads(cli("review", "list", "--json").stdout)["items"] == listed
    done = json.loads(
        cli(
            "review",
            "dismiss",
            str(fid),
            "--reason",
            "已补报",
            "--by",
            "李四",
            "--json",
        ).stdout
    )
    assert done["status"] == "dismissed"
    lic = json.loads(
        cli("review", "list", "--rule", "samr.licence-expired-still-operating", "--json").stdout
    )["items"]
    confirmed = cli(
        "review",
        "confirm",
        str(lic[0]["finding_id"]),
        "--note",
        "核实",
        "--by",
        "王五",
    )
    assert "提高信用风险分类" in confirmed.stdout and "{'" not in confirmed.stdout
    missing = cli("review", "confirm", "--as", "cli-reviewer", "99999", "--note", "x", expect=1)
    assert "99999" in missing.stderr
    assert json.loads(cli("review", "list", "--json").stdout)["total"] == 4


def test_a_busy_database_is_a_clear_error(tmp_path: Any) -> None:
    import sqlite3

    database = Database(f"sqlite:///{tmp_path / 'busy.db'}")
    try:
        usccs, entities, records = province()
        load(database, entities, records)
        run_check(database, as_of=AS_OF)
        fid = _finding_id(database, usccs["complaints"])
        holder = sqlite3.connect(tmp_path / "busy.db")
        holder.execute("BEGIN IMMEDIATE")  # as a check run in progress holds the write lock
        try:
            # Fresh connections that give up after 100 ms instead of 30 s.
            database.engine.dispose()
            event.listen(
                database.engine,
                "connect",
                lambda dbapi, _rec: dbapi.execute("PRAGMA busy_timeout=100"),
            )
            with pytest.raises(SupervisionError) as info:
                dismiss_finding(database, finding_id=fid, reason="x", actor="李四")
            assert "正忙" in info.value.zh and "busy" in info.value.en
        finally:
            holder.rollback()
            holder.close()
    finally:
        database.dispose()
