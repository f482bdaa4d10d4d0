"""The credit loop: findings propose listings, reviewers decide them with a decision
number, cures propose removals, and a decided credit class survives the next import."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from factories import make_entity
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from test_check_support import AS_OF, entity_row, filed_report, load, province, record_row

from supervision.checks.review import confirm_finding
from supervision.checks.run import run_check
from supervision.credit.proposals import accept_proposal, open_proposals, reject_proposal
from supervision.credit.registers import Decision, record_listing, record_removal
from supervision.credit.standing import credit_standing
from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.errors import ConflictError, SupervisionError, ValidationFailed
from supervision.models import (
    CreditProposal,
    Entity,
    RegisterEntry,
    RiskClassChange,
    TrailEvent,
)
from supervision.models.findings import Finding
from supervision.reference.workdays import default_calendar

pytestmark = pytest.mark.usefixtures("crew")

_E = Entity.__table__  # type: ignore[attr-defined]
_F = Finding.__table__  # type: ignore[attr-defined]
_P = CreditProposal.__table__  # type: ignore[attr-defined]
_G = RegisterEntry.__table__  # type: ignore[attr-defined]
_C = RiskClassChange.__table__  # type: ignore[attr-defined]
_T = TrailEvent.__table__  # type: ignore[attr-defined]

ORGAN = "呼和浩特市新城区市场监督管理局"
LISTED_ON = dt.date(2025, 8, 5)


@pytest.fixture
def checked(db: Database) -> dict[str, str]:
    usccs, entities, records = province()
    load(db, entities, records)
    run_check(db, as_of=AS_OF)
    return usccs


def _finding(db: Database, uscc: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(_F.c.id).where(_F.c.uscc == uscc)).scalar_one())


def _entity(db: Database, uscc: str) -> Any:
    with db.engine.connect() as conn:
        return conn.execute(select(_E).where(_E.c.uscc == uscc)).one()


def _count(db: Database, table: Any) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _decision(no: str, day: dt.date = LISTED_ON) -> Decision:
    return Decision(ORGAN, no, day)


def test_confirmed_finding_proposes_listing_due_in_ten_working_days(
    db: Database, checked: dict[str, str]
) -> None:
    uscc = checked["no_report"]
    result = confirm_finding(db, finding_id=_finding(db, uscc), note="逾期未报", actor="审核员")
    (effect,) = [e for e in result["effects"] if e["action"] == "add_to_abnormal_list"]
    assert effect["register"] == "abnormal_list" and effect["reason_code"] == "4.1"
    (proposal,) = open_proposals(db)
    assert proposal["id"] == effect["proposal_id"] and proposal["uscc"] == uscc
    today = dt.date.fromisoformat(proposal["proposed_on"])
    assert proposal["due_on"] == default_calendar().add_workdays(today, 10).isoformat()
    # Proposed, not listed: nothing on the register, the entity not abnormal.
    assert _count(db, _G) == 0 and _entity(db, uscc).abnormal is False


def test_accept_lists_with_decision_number_and_trail(db: Database, checked: dict[str, str]) -> None:
    uscc = checked["unreachable"]  # 6: unreachable at the registered address → 4(4)
    confirm_finding(db, finding_id=_finding(db, uscc), note="实地核查无法联系", actor="审核员")
    (proposal,) = open_proposals(db)
    assert proposal["reason_code"] == "4.4"
    done = accept_proposal(db, proposal_id=proposal["id"], decision=_decision("新市监异列〔2025〕1号"),
                           actor="审核员")  # fmt: skip
    entry = done["entry"]
    assert (
        entry["register_code"] == "abnormal_list"
        and entry["decision_no"] == "新市监异列〔2025〕1号"
    )
    assert "第四条第（四）项" in entry["reason"] and entry["organ"] == ORGAN
    assert entry["cause"].startswith("finding:")
    row = _entity(db, uscc)
    assert row.abnormal is True and row.abnormal_since == LISTED_ON
    with db.engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(_T.c.action).order_by(_T.c.seq))]
    assert actions[-2:] == ["register.list", "credit.accept"]
    with pytest.raises(SupervisionError):  # decided once
        accept_proposal(db, proposal_id=proposal["id"], decision=_decision("X2"), actor="审核员")
    # The organ's decision number is used: a second listing with it is refused.
    with pytest.raises(ConflictError):
        record_listing(db, uscc=checked["clean"], register="abnormal_list", reason_code="4.3",
                       decision=_decision("新市监异列〔2025〕1号"), actor="审核员")  # fmt: skip
    # Already listed: refused.
    with pytest.raises(ConflictError):
        record_listing(db, uscc=uscc, register="abnormal_list", reason_code="4.4",
                       decision=_decision("新市监异列〔2025〕2号"), actor="审核员")  # fmt: skip


def test_bad_decisions_write_nothing(db: Database, checked: dict[str, str]) -> None:
    uscc = checked["clean"]
    before = _count(db, _T)
    bad = [
        Decision("", "N1", LISTED_ON),
        Decision(ORGAN, "", LISTED_ON),
        Decision(ORGAN, "N\u200b1", LISTED_ON),
        Decision(ORGAN, "N1", dt.date.today() + dt.timedelta(days=30)),
        Decision(ORGAN + "\u202e", "N1", LISTED_ON),
    ]
    for decision in bad:
        with pytest.raises(ValidationFailed):
            record_listing(db, uscc=uscc, register="abnormal_list", reason_code="4.1",
                           decision=decision, actor="审核员")  # fmt: skip
    with pytest.raises(ValidationFailed):  # a removal reason cannot list
        record_listing(db, uscc=uscc, register="abnormal_list", reason_code="r.report",
                       decision=_decision("N1"), actor="审核员")  # fmt: skip
    with pytest.raises(ValidationFailed):  # other needs the decision's wording
        record_listing(db, uscc=uscc, register="abnormal_list", reason_code="other",
                       decision=_decision("N1"), actor="审核员")  # fmt: skip
    assert _count(db, _T) == before and _count(db, _G) == 0


def test_individual_business_gets_abnormal_status(db: Database) -> None:
    row = entity_row(40, entity_type="个体工商户", uscc=make_entity(40)["uscc"])
    load(db, [row], [])
    entry = record_listing(db, uscc=row["uscc"], register="abnormal_list", reason_code="i.report",
                           decision=_decision("个异1"), actor="审核员")  # fmt: skip
    assert entry["register_code"] == "abnormal_status" and entry["register_zh"] == "经营异常状态"
    with pytest.raises(ValidationFailed):  # 4.1 is the enterprises' reason
        record_removal(db, entry_id=entry["id"], reason_code="r.report",
                       decision=_decision("个异2"), actor="审核员")  # fmt: skip


def test_cure_proposes_removal_and_removal_clears_status(
    db: Database, checked: dict[str, str]
) -> None:
    uscc = checked["no_report"]
    confirm_finding(db, finding_id=_finding(db, uscc), note="逾期未报", actor="审核员")
    (proposal,) = open_proposals(db)
    entry = accept_proposal(db, proposal_id=proposal["id"], decision=_decision("异列1"),
                            actor="审核员")["entry"]  # fmt: skip
    # Not cured yet: the next check proposes nothing.
    assert run_check(db, as_of=dt.date(2025, 8, 20)).cures_proposed == []
    load(db, [], [filed_report(3000, uscc)])  # the entity files its 2024 report
    summary = run_check(db, as_of=dt.date(2025, 9, 1))
    (removal,) = open_proposals(db)
    assert summary.cures_proposed == [removal["id"]]
    assert removal["action"] == "remove" and removal["reason_code"] == "r.report"
    assert removal["entry_id"] == entry["id"]
    # A later check does not propose it twice.
    assert run_check(db, as_of=dt.date(2025, 9, 2), full=True).cures_proposed == []
    done = accept_proposal(db, proposal_id=removal["id"],
                           decision=_decision("异出1", dt.date(2025, 9, 3)), actor="审核员")  # fmt: skip
    assert (
        done["entry"]["removed_on"] == "2025-09-03"
        and "第十一条" in done["entry"]["removal_reason"]
    )
    row = _entity(db, uscc)
    assert row.abnormal is False and row.abnormal_since is None
    standing = credit_standing(db, uscc=uscc)
    (kept,) = standing["entries"]  # never deleted: removed is a state of the entry
    assert kept["current"] is False and kept["decision_no"] == "异列1"
    with pytest.raises(ConflictError):
        record_removal(db, entry_id=entry["id"], reason_code="r.report",
                       decision=_decision("异出2", dt.date(2025, 9, 3)), actor="审核员")  # fmt: skip


def test_reject_needs_a_reason(db: Database, checked: dict[str, str]) -> None:
    confirm_finding(db, finding_id=_finding(db, checked["no_report"]), note="n", actor="审核员")
    (proposal,) = open_proposals(db)
    with pytest.raises(ValidationFailed):
        reject_proposal(db, proposal_id=proposal["id"], reason="  ", actor="审核员")
    reject_proposal(db, proposal_id=proposal["id"], reason="已于检查日前补报", actor="审核员")
    assert open_proposals(db) == []


# ---------------------------------------------------------------- class history and imports
def _write_entities(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_import_keeps_a_newer_decision_and_reports_it(
    db: Database, checked: dict[str, str], tmp_path: Path
) -> None:
    uscc = checked["licence"]  # on_confirm raises the class B → C
    confirm_finding(db, finding_id=_finding(db, uscc), note="无证经营", actor="审核员")
    assert _entity(db, uscc).risk_class == "C"
    decided_on = _entity(db, uscc).risk_classified_on
    row = make_entity(3, established_on="2024-03-01", risk_class="A")
    older = decided_on - dt.timedelta(days=1)
    report = import_file(db, kind="entities", actor="导入员",
                         path=_write_entities(tmp_path / "a.csv",
                                              [row | {"risk_classified_on": older.isoformat()}]))  # fmt: skip
    (kept,) = report.kept
    assert kept["uscc"] == uscc and kept["kept"] == "C" and kept["imported"] == "A"
    assert kept["row"] == 2 and f"a decision of {decided_on.isoformat()} is newer" in kept["en"]
    assert kept["zh"].startswith(f"保留：{decided_on.isoformat()}")
    assert _entity(db, uscc).risk_class == "C"
    # No classification date at all: not newer either.
    report = import_file(db, kind="entities", actor="导入员",
                         path=_write_entities(tmp_path / "b.csv", [row]))  # fmt: skip
    assert len(report.kept) == 1 and _entity(db, uscc).risk_class == "C"
    # A classification newer than the decision applies, and is recorded as an import.
    newer = decided_on + dt.timedelta(days=1)
    report = import_file(db, kind="entities", actor="导入员",
                         path=_write_entities(tmp_path / "c.csv",
                                              [row | {"risk_classified_on": newer.isoformat()}]))  # fmt: skip
    assert report.kept == [] and report.updated == 1
    assert _entity(db, uscc).risk_class == "A" and _entity(db, uscc).risk_classified_on == newer
    history = credit_standing(db, uscc=uscc)["class_history"]
    assert [(h["source"], h["old_class"], h["new_class"]) for h in history] == [
        ("import", "C", "A"),
        ("decision", "B", "C"),
    ]
    assert history[0]["ref"] == "c.csv" and history[0]["effective_on"] == newer.isoformat()


def test_import_without_decisions_changes_classes_as_before(
    db: Database, checked: dict[str, str], tmp_path: Path
) -> None:
    row = make_entity(1, established_on="2024-03-01", risk_class="D")
    report = import_file(db, kind="entities", actor="导入员",
                         path=_write_entities(tmp_path / "d.csv", [row]))  # fmt: skip
    assert report.kept == [] and _entity(db, checked["clean"]).risk_class == "D"
    (change,) = credit_standing(db, uscc=checked["clean"])["class_history"]
    assert change["source"] == "import" and change["old_class"] == "B"


# ---------------------------------------------------------------- kill -9 during a decision
_CHILD = """
import os, signal, sys
from supervision import trail
from supervision.credit.proposals import accept_proposal
from supervision.credit.registers import Decision
from supervision.db import Database
import datetime as dt

real = trail.record
def record(*args, **kwargs):
    event = real(*args, **kwargs)
    if kwargs.get("action") == "credit.accept":
        os.kill(os.getpid(), signal.SIGKILL)  # after every write, before the commit
    return event
trail.record = record
import supervision.credit.proposals as p
p.trail.record = record
db = Database(sys.argv[1])
accept_proposal(db, proposal_id=int(sys.argv[2]),
                decision=Decision("机关", "K1", dt.date(2025, 8, 5)), actor="审核员")
"""


def test_kill_during_a_decision_leaves_nothing(
    db: Database, db_url: str, checked: dict[str, str]
) -> None:
    confirm_finding(db, finding_id=_finding(db, checked["no_report"]), note="n", actor="审核员")
    (proposal,) = open_proposals(db)
    events = _count(db, _T)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.run([sys.executable, "-c", _CHILD, db_url, str(proposal["id"])],
                           env=env, capture_output=True, timeout=120)  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    assert _count(db, _G) == 0 and _count(db, _T) == events
    assert open_proposals(db)[0]["status"] == "open"
    assert _entity(db, checked["no_report"]).abnormal is False
    # The same decision then goes through.
    accept_proposal(db, proposal_id=proposal["id"], decision=_decision("K1"), actor="审核员")
    assert _count(db, _G) == 1


# ---------------------------------------------------------------- the CLI door
def test_cli_story(cli: Any, crew: dict[str, str], db_url: str) -> None:
    db = Database(db_url)
    try:
        usccs, entities, records = province()
        load(db, entities, records)
        uscc = usccs["no_report"]
        cli("check", "--as-of", AS_OF.isoformat())
        fid = _finding(db, uscc)
    finally:
        db.dispose()
    out = cli("review", "confirm", str(fid), "--note", "逾期未报", "--as", crew["reviewer"])
    assert "supervision credit proposals" in out.stdout
    listed = json.loads(cli("credit", "proposals", "--json").stdout)
    (proposal,) = listed
    assert proposal["uscc"] == uscc and proposal["reason_code"] == "4.1"
    refused = cli("credit", "accept", str(proposal["id"]), "--decision-no", "异列1",
                  "--organ", ORGAN, "--decided-on", "2025-08-05", expect=None)  # fmt: skip
    assert refused.exit_code != 0  # no --as: nobody to act as
    out = cli("credit", "accept", str(proposal["id"]), "--decision-no", "异列1", "--organ", ORGAN,
              "--decided-on", "2025-08-05", "--as", crew["reviewer"])  # fmt: skip
    assert "已列入 / listed" in out.stdout and "异列1" in out.stdout
    db = Database(db_url)
    try:
        load(db, [], [filed_report(3000, uscc)])
    finally:
        db.dispose()
    out = cli("check", "--as-of", "2025-09-01")
    assert "建议移出名录 1 条" in out.stdout
    (removal,) = json.loads(cli("credit", "proposals", "--json").stdout)
    assert removal["action"] == "remove"
    out = cli("credit", "accept", str(removal["id"]), "--decision-no", "异出1", "--organ", ORGAN,
              "--decided-on", "2025-09-03", "--as", crew["reviewer"])  # fmt: skip
    assert "已移出 / removed" in out.stdout
    shown = json.loads(cli("credit", "show", uscc, "--json").stdout)
    (entry,) = shown["entries"]
    assert entry["removed_on"] == "2025-09-03" and entry["removal_decision_no"] == "异出1"
    assert shown["entity"]["abnormal"] is False
    assert "4.1" in cli("credit", "reasons").stdout


def test_listing_deadline_is_watched(db: Database, checked: dict[str, str]) -> None:
    from supervision.results.deadlines import list_deadlines
    from supervision.scheduling.alerts import AlertKind, deadline_alerts

    confirm_finding(db, finding_id=_finding(db, checked["no_report"]), note="n", actor="审核员")
    (proposal,) = open_proposals(db)
    due = dt.date.fromisoformat(proposal["due_on"])
    with db.session() as session:
        now = list_deadlines(session, as_of=due - dt.timedelta(days=1))
        late = list_deadlines(session, as_of=due + dt.timedelta(days=3))
    (soon,) = now["listing"]
    assert soon["proposal_id"] == proposal["id"] and not soon["overdue"]
    assert [a.kind for a in deadline_alerts(now, 3)] == [AlertKind.LISTING_DUE]
    (over,) = late["listing"]
    assert over["overdue"] and over["workdays_over"] >= 1
    (alert,) = deadline_alerts(late, 3)
    assert (
        alert.kind == AlertKind.LISTING_OVERDUE
        and alert.object == f"credit_proposal:{proposal['id']}"
    )
    accept_proposal(db, proposal_id=proposal["id"], decision=_decision("D1"), actor="审核员")
    with db.session() as session:
        assert list_deadlines(session, as_of=due)["listing"] == []


# ---------------------------------------------------------------- results feed the rules
def _result(n: int, uscc: str, code: str, sub: str | None, day: str) -> dict[str, Any]:
    return record_row("inspection_result", n, uscc, {
        "task_code": "T1", "item_code": "SJ-01", "result_code": sub or code, "main_code": code,
        "sub_code": sub, "follow_up": "routine" if sub else "none", "inspected_on": day,
        "inspectors": ["SJ0001", "SJ0002"],
    })  # fmt: skip


@pytest.mark.parametrize(("sub", "rule", "reason"), [
    ("6", "samr.result-unreachable-abnormal-list", "4.4"),
    ("C", "samr.result-false-information-abnormal-list", "4.3"),
])  # fmt: skip
def test_inspection_results_feed_the_rules(db: Database, sub: str, rule: str, reason: str) -> None:
    row = entity_row(50)
    load(db, [row], [filed_report(5000, row["uscc"]), _result(5001, row["uscc"], "A", sub,
                                                               "2025-07-20")])  # fmt: skip
    run_check(db, as_of=AS_OF)
    with db.engine.connect() as conn:
        (finding,) = conn.execute(select(_F).where(_F.c.uscc == row["uscc"])).all()
    assert finding.rule_id == rule and finding.result_code == sub
    values = {m["t"]: m["values"] for m in finding.matched}
    assert values["inspection_result"]["sub_code"] == sub
    assert values["inspection_result"]["follow_up"] == "routine"
    confirm_finding(db, finding_id=finding.id, note="核实", actor="审核员")
    (proposal,) = open_proposals(db)
    assert proposal["reason_code"] == reason
    accept_proposal(db, proposal_id=proposal["id"], decision=_decision(f"R-{sub}"), actor="审核员")
    if sub == "6":  # a later inspection reaches the entity: the check proposes removal
        load(db, [], [_result(5002, row["uscc"], "1", None, "2025-08-20")])
        assert run_check(db, as_of=dt.date(2025, 9, 1)).cures_proposed
        (removal,) = open_proposals(db)
        assert removal["reason_code"] == "r.address"


def test_migration_0023_downgrades_and_upgrades(db: Database, db_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from supervision.db import alembic_config, make_engine

    row = entity_row(60)
    load(db, [row], [])
    db.dispose()
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0019")
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            assert not {"register_entry", "credit_proposal", "risk_class_change"} & tables
            assert "risk_classified_on" not in {
                c["name"] for c in inspect(conn).get_columns("entity")
            }
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
    finally:
        engine.dispose()
    again = Database(db_url)
    try:
        assert _entity(again, row["uscc"]).risk_classified_on is None
    finally:
        again.dispose()


def test_removal_may_lower_the_class_and_records_it(db: Database, checked: dict[str, str]) -> None:
    uscc = checked["unreachable"]  # on_confirm raises B → C
    confirm_finding(db, finding_id=_finding(db, uscc), note="无法联系", actor="审核员")
    (proposal,) = open_proposals(db)
    with pytest.raises(ValidationFailed):  # only a removal sets a class
        accept_proposal(db, proposal_id=proposal["id"], decision=_decision("L1"), actor="审核员",
                        new_class="A")  # fmt: skip
    entry = accept_proposal(db, proposal_id=proposal["id"], decision=_decision("L1"),
                            actor="审核员")["entry"]  # fmt: skip
    record_removal(db, entry_id=entry["id"], reason_code="r.address", actor="审核员",
                   decision=_decision("L2", dt.date(2025, 9, 3)), new_class="B")  # fmt: skip
    history = credit_standing(db, uscc=uscc)["class_history"]
    assert [(h["source"], h["old_class"], h["new_class"]) for h in history] == [
        ("removal", "C", "B"),
        ("decision", "B", "C"),
    ]
    assert history[0]["effective_on"] == "2025-09-03" and _entity(db, uscc).risk_class == "B"


# ---------------------------------------------------------------- invariants
_OPS = st.lists(
    st.tuples(st.sampled_from(["list", "remove"]), st.integers(0, 2), st.sampled_from(
        ["abnormal_list", "serious_violation"])),
    min_size=1, max_size=8,
)  # fmt: skip


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(ops=_OPS)
def test_registers_keep_their_invariants(db: Database, ops: list[tuple[str, int, str]]) -> None:
    """Whatever decisions are taken: entries are never deleted, an entity is on a register at
    most once at a time, and its abnormal flag says whether an abnormal entry is current."""
    usccs = [make_entity(70 + i)["uscc"] for i in range(3)]
    with db.engine.connect() as conn:
        present = set(conn.execute(select(_E.c.uscc).where(_E.c.uscc.in_(usccs))).scalars())
    load(db, [entity_row(70 + i) for i in range(3) if usccs[i] not in present], [])
    for op, who, register in ops:
        before = _count(db, _G)
        number = f"INV-{_count(db, _T)}"
        reason = "4.1" if register == "abnormal_list" else "s.13"
        try:
            if op == "list":
                record_listing(db, uscc=usccs[who], register=register, reason_code=reason,
                               decision=_decision(number), actor="审核员")  # fmt: skip
            else:
                with db.engine.connect() as conn:
                    entry = conn.execute(select(_G.c.id).where(
                        _G.c.uscc == usccs[who], _G.c.register_code == register,
                        _G.c.removed_on.is_(None))).scalar()  # fmt: skip
                if entry is None:
                    continue
                record_removal(db, entry_id=int(entry), decision=_decision(number),
                               reason_code="r.report" if reason == "4.1" else "s.r.repair",
                               actor="审核员")  # fmt: skip
        except ConflictError:
            pass
        assert _count(db, _G) >= before  # never deleted
        with db.engine.connect() as conn:
            for uscc in usccs:
                current = conn.execute(select(_G.c.register_code).where(
                    _G.c.uscc == uscc, _G.c.removed_on.is_(None))).scalars().all()  # fmt: skip
                assert len(current) == len(set(current))
                assert _entity(db, uscc).abnormal == ("abnormal_list" in current)


def test_reasons_file_replaces_and_adds_by_code(
    db: Database, checked: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Any
) -> None:
    path = tmp_path / "reasons.yaml"
    path.write_text(
        "reasons:\n"
        "  - {code: '4.1', register: abnormal_list, action: list, law: 企业信息公示暂行条例,\n"
        "     article: 第十七条（现行）, zh: 未按照规定的期限公示年度报告, en: report not published}\n"
        "  - {code: '4.9', register: abnormal_list, action: list, law: 地方规定, article: 第一条,\n"
        "     zh: 地方增加的情形, en: a local case}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SUPERVISION_CREDIT_REASONS_FILE", str(path))
    entry = record_listing(db, uscc=checked["clean"], register="abnormal_list", reason_code="4.1",
                           decision=_decision("F1"), actor="审核员")  # fmt: skip
    assert entry["reason"].startswith("《企业信息公示暂行条例》第十七条（现行）")
    local = record_listing(db, uscc=checked["licence"], register="abnormal_list",
                           reason_code="4.9", decision=_decision("F2"), actor="审核员")  # fmt: skip
    assert "地方增加的情形" in local["reason"]
    assert "4.9" in cli("credit", "reasons").stdout
    path.write_text("reasons:\n  - {code: '4.1', action: sometimes, zh: x, en: y}\n", "utf-8")
    with pytest.raises(ValidationFailed) as bad:
        record_listing(db, uscc=checked["complaints"], register="abnormal_list",
                       reason_code="4.1", decision=_decision("F3"), actor="审核员")  # fmt: skip
    assert "entry 1" in bad.value.en and str(path) in bad.value.en


def test_import_does_not_clear_a_listed_entity(
    db: Database, checked: dict[str, str], tmp_path: Path
) -> None:
    uscc = checked["clean"]
    record_listing(db, uscc=uscc, register="abnormal_list", reason_code="4.4",
                   decision=_decision("K-ab"), actor="审核员")  # fmt: skip
    row = make_entity(1, established_on="2024-03-01", risk_class="B", abnormal="否",
                      abnormal_since="")  # fmt: skip
    report = import_file(db, kind="entities", actor="导入员",
                         path=_write_entities(tmp_path / "ab.csv", [row]))  # fmt: skip
    (kept,) = report.kept
    assert kept["kept"] == "abnormal" and "is not removed" in kept["en"]
    after = _entity(db, uscc)
    assert after.abnormal is True and after.abnormal_since == LISTED_ON
