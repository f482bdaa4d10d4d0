"""Every recorded inspection is lawful: the draw's team rules are checked again at result
entry, correction and approval, on the inspection day, through the service, the CLI and
the console's JSON API; code, sub-code, follow-up and finding agree with the one table;
who entered a result cannot approve it. SQLite and PostgreSQL, fresh database per test.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import test_results
import test_tasks_draw
import time_machine
from factories import make_conflict, make_inspector, write_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select
from test_results import DRAW_DAY, INSPECTED, ITEM, REVIEWER, TABLES, _dump
from test_tasks_draw import HOHHOT, SEED, XINGAN, _task

from supervision.accounts.users import add_user
from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.draw.commit import commit_task
from supervision.draw.service import draw_task
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models import Assignment, DrawPick, Entity, Inspector
from supervision.models.results import InspectionResult
from supervision.models.users import Role
from supervision.results.entry import correct_results, enter_results
from supervision.results.inputs import ItemInput
from supervision.results.service import publish_results, review_results

#: The drawn task and the province it was drawn from (fixtures of the results tests).
drawn = test_results.drawn
province = test_tasks_draw.province

ENTERER = "cli:tester"
PASSWORD = "correct horse battery"

assert TABLES and REVIEWER  # the fixtures' constants, shared


@pytest.fixture(autouse=True)
def _later() -> Any:
    with time_machine.travel("2025-10-09 10:00 +0800", tick=False) as traveller:
        yield traveller


def _load(db: Database, tmp_path: Path, kind: str, rows: list[dict[str, Any]]) -> None:
    import_file(db, kind=kind, path=write_json(tmp_path / f"{kind}-extra.json", rows))


def _team(db: Database, task: str, uscc: str) -> list[str]:
    with db.session() as session:
        return sorted(
            session.exec(
                select(Assignment.cert_no).where(
                    Assignment.task_code == task, Assignment.uscc == uscc
                )
            )
        )


def _region(db: Database, uscc: str) -> str:
    with db.session() as session:
        entity = session.get(Entity, uscc)
        assert entity is not None
        return entity.region_code


def _item(**kw: Any) -> ItemInput:
    data = {"item": ITEM, "code": "1", "finding": "未发现问题", "inspected_on": INSPECTED} | kw
    return ItemInput.model_validate(data)


def _enter(db: Database, task: str, uscc: str, *, actor: str = ENTERER, **kw: Any) -> None:
    with db.session() as session:
        enter_results(session, task_code=task, uscc=uscc, items=[_item(**kw)], actor=actor)


def _refused(db: Database, task: str, uscc: str, **kw: Any) -> list[str]:
    """Entry refused with ValidationFailed, nothing written; the detail lines."""
    before = _dump(db)
    with pytest.raises(ValidationFailed) as caught:
        _enter(db, task, uscc, **kw)
    assert _dump(db) == before
    assert "检查人员不符合规定" in caught.value.zh or "不能录入" in caught.value.zh
    return caught.value.details


def _same_region(db: Database, uscc: str) -> str:
    return HOHHOT if _region(db, uscc) == HOHHOT else XINGAN


def _other_region(db: Database, uscc: str) -> str:
    return XINGAN if _region(db, uscc) == HOHHOT else HOHHOT


# --------------------------------------------------------------------------- team rules
def test_a_single_inspector_is_refused(db: Database, drawn: dict[str, Any]) -> None:
    task, uscc = drawn["task"], drawn["entities"][0]
    team = _team(db, task, uscc)
    details = _refused(db, task, uscc, inspectors=[team[0]], team_change_reason="另一人请假")
    text = " ".join(details)
    assert "至少需要 2" in text and "at least 2" in text


def test_every_unlawful_officer_and_rule_is_named(
    db: Database, drawn: dict[str, Any], tmp_path: Path
) -> None:
    """A 调离 officer from another 盟市 with a tax officer on a market-supervision item:
    each officer and each broken rule is named, in Chinese and English."""
    task, uscc = drawn["task"], drawn["entities"][2]
    _load(db, tmp_path, "inspectors", [
        make_inspector(301, cert_no="SJ7777", department_code="SJ", qualifications="SJ-01",
                       region_code=_other_region(db, uscc), status="调离"),
        make_inspector(302, cert_no="SW7777", department_code="SW", qualifications="SW-01",
                       region_code=_same_region(db, uscc)),
    ])  # fmt: skip
    details = _refused(
        db, task, uscc, inspectors=["SJ7777", "SW7777"], team_change_reason="临时抽调"
    )
    transferred = [d for d in details if "SJ7777" in d]
    tax = [d for d in details if "SW7777" in d]
    assert any("不在岗（调离）" in d and "not on duty" in d for d in transferred)
    assert any("允许范围" in d and "outside the allowed area" in d for d in transferred)
    assert any("不是事项所属部门 SJ" in d and "not the item's SJ" in d for d in tax)
    assert any("不具备事项 SJ-01" in d and "not qualified" in d for d in tax)
    assert not any("SJ7777" in d and "部门" in d for d in transferred)  # right department


def test_certificate_must_be_valid_on_the_inspection_day(
    db: Database, drawn: dict[str, Any], tmp_path: Path
) -> None:
    task, uscc = drawn["task"], drawn["entities"][3]
    team = _team(db, task, uscc)
    region = _same_region(db, uscc)
    _load(db, tmp_path, "inspectors", [
        make_inspector(311, cert_no="SJ6601", department_code="SJ", qualifications="SJ-01",
                       region_code=region, cert_issued_on="2019-01-01",
                       cert_expires_on="2025-09-01", cert_authority="内蒙古自治区人民政府"),
        make_inspector(312, cert_no="SJ6602", department_code="SJ", qualifications="SJ-01",
                       region_code=region, cert_issued_on="2025-10-01",
                       cert_expires_on="2030-09-30", cert_authority="内蒙古自治区人民政府"),
        make_inspector(313, cert_no="SJ6603", department_code="SJ", qualifications="SJ-01",
                       region_code=region, cert_issued_on="2020-01-01",
                       cert_expires_on="2025-09-26", cert_authority="内蒙古自治区人民政府"),
    ])  # fmt: skip
    expired = _refused(db, task, uscc, inspectors=[team[0], "SJ6601"], team_change_reason="换人")
    assert any("SJ6601" in d and "过期" in d and "expired" in d for d in expired)
    early = _refused(db, task, uscc, inspectors=[team[0], "SJ6602"], team_change_reason="换人")
    assert any("SJ6602" in d and "尚未持证" in d for d in early)
    # Valid through the inspection day itself: accepted.
    _enter(db, task, uscc, inspectors=[team[0], "SJ6603"], team_change_reason="换人")
    with db.session() as session:
        inspector = session.get(Inspector, "SJ6603")
        assert inspector is not None and inspector.cert_authority == "内蒙古自治区人民政府"


def test_conflicts_have_periods_and_entities_may_request_them(
    db: Database, drawn: dict[str, Any], tmp_path: Path
) -> None:
    task, a, b = drawn["task"], drawn["entities"][4], drawn["entities"][5]
    team_a, team_b = _team(db, task, a), _team(db, task, b)
    _load(db, tmp_path, "conflicts", [
        make_conflict(team_a[1], a, reason="曾为该企业提供咨询", source="entity",
                      starts_on="2025-09-01"),
        make_conflict(team_b[0], b, reason="近亲属曾任职", starts_on="2024-01-01",
                      ends_on="2025-06-30"),
    ])  # fmt: skip
    details = _refused(db, task, a)
    assert any(team_a[1] in d and "主体申请回避" in d and "entity" in d for d in details)
    _enter(db, task, b)  # the conflict ended before the inspection


def test_approval_checks_the_team_again(
    db: Database, drawn: dict[str, Any], tmp_path: Path
) -> None:
    task, uscc = drawn["task"], drawn["entities"][6]
    _enter(db, task, uscc)
    team = _team(db, task, uscc)
    _load(db, tmp_path, "conflicts", [make_conflict(team[0], uscc, source="entity")])
    before = _dump(db)
    with pytest.raises(ValidationFailed) as caught, db.session() as session:
        review_results(
            session, task_code=task, uscc=uscc, approve=True, reason=None, actor=REVIEWER
        )
    assert "不能审核通过" in caught.value.zh
    assert any(team[0] in d for d in caught.value.details)
    assert _dump(db) == before


def test_a_correction_keeps_the_team_lawful(db: Database, drawn: dict[str, Any]) -> None:
    task, uscc = drawn["task"], drawn["entities"][7]
    _enter(db, task, uscc)
    with db.session() as session:
        review_results(
            session, task_code=task, uscc=uscc, approve=True, reason=None, actor=REVIEWER
        )
        publish_results(session, task_code=task, uscc=uscc, actor=REVIEWER)
    team = _team(db, task, uscc)
    before = _dump(db)
    with pytest.raises(ValidationFailed) as caught, db.session() as session:
        correct_results(
            session,
            task_code=task,
            uscc=uscc,
            items=[ItemInput.model_validate({"item": ITEM, "inspectors": [team[1]],
                                             "team_change_reason": "记错了人"})],
            reason="更正检查人员",
            actor=ENTERER,
        )  # fmt: skip
    assert "不能更正" in caught.value.zh
    assert _dump(db) == before


def test_who_entered_cannot_approve(db: Database, drawn: dict[str, Any]) -> None:
    task, uscc = drawn["task"], drawn["entities"][8]
    _enter(db, task, uscc)
    before = _dump(db)
    with pytest.raises(SupervisionError) as caught, db.session() as session:
        review_results(session, task_code=task, uscc=uscc, approve=True, reason=None, actor=ENTERER)
    assert "录入人不能审核" in caught.value.zh and "cannot review" in caught.value.en
    assert _dump(db) == before


# --------------------------------------------------------------------------- codes
@pytest.mark.parametrize(
    ("fields", "zh", "en"),
    [
        ({"code": "1", "follow_up": "case_transfer", "follow_up_ref": "公安局"},
         "不能配后续处置 case_transfer", "cannot take follow-up case_transfer"),
        ({"code": "A", "finding": "未按规定公示年度报告", "follow_up": "routine"},
         "必须带子代码", "needs a sub-code"),
        ({"code": "A", "sub_code": "B", "finding": "x", "follow_up": "none"},
         "至少 5 个字", "at least 5 characters"),
        ({"code": "A", "sub_code": "B", "finding": "x", "follow_up": "none"},
         "不能配后续处置 none", "cannot take follow-up none"),
        ({"code": "A", "sub_code": "D", "finding": "无照经营且拒不改正", "follow_up": "penalty"},
         "行政处罚决定书文号", "penalty decision number"),
        ({"code": "E", "finding": "经营场所未亮照经营", "follow_up": "routine"},
         "只能是 rectification", "allowed: rectification"),
    ],
)  # fmt: skip
def test_code_table_refuses_inconsistent_results(
    db: Database, drawn: dict[str, Any], fields: dict[str, Any], zh: str, en: str
) -> None:
    task, uscc = drawn["task"], drawn["entities"][0]
    before = _dump(db)
    with pytest.raises(ValidationFailed) as caught:
        _enter(db, task, uscc, **fields)
    assert any(zh in d and en in d for d in caught.value.details), caught.value.details
    assert _dump(db) == before


def test_follow_ups_carry_their_reference(db: Database, drawn: dict[str, Any]) -> None:
    task, uscc = drawn["task"], drawn["entities"][1]
    _enter(db, task, uscc, code="A", sub_code="D", finding="超范围经营，已立案调查",
           follow_up="case_filed", follow_up_ref="蒙市监立〔2025〕12号")  # fmt: skip
    with db.session() as session:
        row = session.exec(select(InspectionResult).where(InspectionResult.uscc == uscc)).one()
        assert (row.follow_up, row.follow_up_ref) == ("case_filed", "蒙市监立〔2025〕12号")


# --------------------------------------------------------------------------- joint tasks
@pytest.fixture
def joint(db: Database, province: dict[str, Any]) -> dict[str, Any]:
    """A joint task (SJ and SW, one officer each) drawn on 2025-09-22, and console users:
    the tax officer of the first drawn entity and a reviewer of SW."""
    with time_machine.travel(DRAW_DAY, tick=False):
        code = _task(db, code="蒙联合抽查〔2025〕1号", departments=["SJ", "SW"],
                     items=["SJ-01", "SW-01"])  # fmt: skip
        with db.session() as session:
            commit_task(session, code=code)
        with db.session() as session:
            draw_task(session, code=code, seed=SEED, workers=1)
        with db.session() as session:
            uscc = sorted(session.exec(select(DrawPick.uscc).where(DrawPick.task_code == code)))[0]
            tax = session.exec(
                select(Assignment.cert_no).where(
                    Assignment.task_code == code,
                    Assignment.uscc == uscc,
                    Assignment.department_code == "SW",
                )
            ).one()
            add_user(session, username="tax", password=PASSWORD, role=Role.INSPECTOR,
                     display_name="税务检查员", cert_no=tax)  # fmt: skip
            # a joint task's part is reviewed by a reviewer of its department (一表通查)
            add_user(session, username="rev", password=PASSWORD, role=Role.REVIEWER,
                     display_name="审核人", department_code="SW")  # fmt: skip
    return {"task": code, "uscc": uscc, "tax": tax}


def test_a_tax_officer_cannot_enter_a_market_supervision_item(
    db: Database, joint: dict[str, Any]
) -> None:
    task, uscc = joint["task"], joint["uscc"]
    before = _dump(db)
    with pytest.raises(ValidationFailed) as caught:
        _enter(db, task, uscc, item="SJ-01", actor="console:tax")
    assert any("不在该事项的检查人员中" in d and "SJ-01" in d for d in caught.value.details)
    assert _dump(db) == before
    # Nor by naming themselves on the market-supervision item's team.
    with pytest.raises(ValidationFailed) as caught:
        _enter(db, task, uscc, item="SJ-01", actor="console:tax",
               inspectors=[joint["tax"]], team_change_reason="一起去的")  # fmt: skip
    assert any(joint["tax"] in d and "不是事项所属部门 SJ" in d for d in caught.value.details)
    assert _dump(db) == before
    _enter(db, task, uscc, item="SW-01", actor="console:tax")  # their own item: accepted


def test_every_door_refuses_it(
    cli: Any, db: Database, joint: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CLI (--as) and the console's JSON API refuse the tax officer's entry on the
    market-supervision item, and a bare OS user changes nothing."""
    import httpx
    from test_console_support import ConsoleServer, csrf_of, sign_in, soup

    task, uscc = joint["task"], joint["uscc"]
    before = _dump(db)
    bare = cli("result", "enter", task, uscc, "--item", "SJ-01", "--code", "1",
               "--inspected-on", "2025-09-26", expect=1)  # fmt: skip
    assert "--as" in bare.stderr and "SUPERVISION_USER" in bare.stderr
    refused = cli("result", "enter", task, uscc, "--item", "SJ-01", "--code", "1",
                  "--inspected-on", "2025-09-26", "--as", "tax", expect=1)  # fmt: skip
    assert "不在该事项的检查人员中" in refused.stderr and "Traceback" not in refused.stderr
    wrong_role = cli("result", "review", task, uscc, "--approve", "--as", "tax", expect=1)
    assert "审核人" in wrong_role.stderr
    assert _dump(db) == before
    with ConsoleServer(db) as url, httpx.Client(base_url=url, timeout=30) as client:
        token = client.post("/api/session", json={"username": "tax", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        body = {
            "task": task,
            "uscc": uscc,
            "items": [{"item": "SJ-01", "code": "1", "inspected_on": "2025-09-26"}],
        }
        answer = client.post("/api/inspector/results", json=body, headers=headers)
        assert answer.status_code == 400, answer.text
        assert any("不在该事项的检查人员中" in d for d in answer.json()["error"]["details"])
        inconsistent = {
            "task": task,
            "uscc": uscc,
            "items": [
                {
                    "item": "SW-01",
                    "code": "1",
                    "inspected_on": "2025-09-26",
                    "follow_up": "case_transfer",
                    "follow_up_ref": "公安局",
                }
            ],
        }
        answer = client.post("/api/inspector/results", json=inconsistent, headers=headers)
        assert answer.status_code == 400, answer.text
        assert any("case_transfer" in d for d in answer.json()["error"]["details"])
    with ConsoleServer(db) as url, httpx.Client(base_url=url, timeout=30) as browser:
        # The console's own form (HTML, CSRF token): the same refusal, as a page.
        landing = sign_in(browser, "tax")
        form = {"task": task, "uscc": uscc, "csrf_token": csrf_of(landing), "item_0": "SJ-01",
                "code_0": "1", "inspected_on_0": "2025-09-26"}  # fmt: skip
        page = browser.post("/inspector/result", data=form)
        assert page.status_code == 400
        details = [li.get_text(" ", strip=True) for li in soup(page).select("ul.details li")]
        assert any("不在该事项的检查人员中" in d for d in details), details
    after = _dump(db)  # signing in is a trail event; nothing else changed
    assert {k: v for k, v in after.items() if k != "trail_event"} == {
        k: v for k, v in before.items() if k != "trail_event"
    }
    assert not [e for e in after["trail_event"] if e[3].startswith("result.")]
    done = cli("result", "enter", task, uscc, "--item", "SW-01", "--code", "1",
               "--inspected-on", "2025-09-26", "--as", "tax")  # fmt: skip
    assert "待审核" in done.stdout
    own = cli("result", "review", task, uscc, "--approve", "--as", "rev")
    assert "通过" in own.stdout


# --------------------------------------------------------------------------- property
def test_nothing_unlawful_is_ever_stored(
    db: Database, drawn: dict[str, Any], tmp_path: Path
) -> None:
    """Random teams from a directory with every kind of defect: whatever entry accepts
    satisfies the team rules, computed here independently; whatever it refuses breaks one."""
    task, uscc = drawn["task"], drawn["entities"][0]
    region = _region(db, uscc)
    other = XINGAN if region == HOHHOT else HOHHOT
    pool = {
        "P-OK1": {}, "P-OK2": {}, "P-OK3": {},
        "P-RET": {"status": "退休"},
        "P-FAR": {"region_code": other},
        "P-TAX": {"department_code": "SW", "qualifications": "SW-01"},
        "P-UNQ": {"qualifications": "其他"},
        "P-EXP": {"cert_issued_on": "2015-01-01", "cert_expires_on": "2025-01-01"},
        "P-CON": {},
    }  # fmt: skip
    _load(db, tmp_path, "inspectors", [
        make_inspector(400 + n, cert_no=cert, **({"department_code": "SJ", "region_code": region,
                                                   "qualifications": "SJ-01"} | extra))
        for n, (cert, extra) in enumerate(pool.items())
    ])  # fmt: skip
    _load(db, tmp_path, "conflicts", [make_conflict("P-CON", uscc, source="entity")])
    lawful = {"P-OK1", "P-OK2", "P-OK3"}

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sets(st.sampled_from(sorted(pool)), min_size=1, max_size=4))
    def attempt(members: set[str]) -> None:
        with Session(db.engine) as session:
            try:
                enter_results(session, task_code=task, uscc=uscc, actor=ENTERER, items=[
                    _item(inspectors=sorted(members), team_change_reason="随机组队")
                ])  # fmt: skip
                accepted = True
            except SupervisionError:
                accepted = False
            stored = [list(r.inspectors) for r in session.exec(select(InspectionResult))]
            session.rollback()
        ok = len(members) >= 2 and members <= lawful
        assert accepted == ok, members
        assert all(set(team) <= lawful and len(team) >= 2 for team in stored)

    attempt()


def test_import_validates_certificates_and_conflicts(
    db: Database, drawn: dict[str, Any], tmp_path: Path
) -> None:
    uscc = drawn["entities"][0]
    with pytest.raises(ValidationFailed) as caught:
        _load(db, tmp_path, "inspectors", [
            make_inspector(501, cert_no="SJ5001", department_code="SJ", qualifications="SJ-01",
                           cert_issued_on="2025-01-01", cert_expires_on="2024-01-01")
        ])  # fmt: skip
    text = " ".join(caught.value.details)
    assert "早于发证日期" in text and "before its issue date" in text
    with pytest.raises(ValidationFailed) as caught:
        _load(db, tmp_path, "conflicts", [make_conflict("SJ0002", uscc, source="邻居")])
    assert "回避来源" in " ".join(caught.value.details)
    with db.session() as session:
        assert session.get(Inspector, "SJ5001") is None
    assert date(2025, 9, 26) == INSPECTED


def test_approval_applies_the_code_table(db: Database, drawn: dict[str, Any]) -> None:
    """A result stored inconsistent (before the table, or by any other way in) is not
    approved."""
    task, uscc = drawn["task"], drawn["entities"][2]
    _enter(db, task, uscc)
    with db.engine.begin() as conn:
        conn.execute(
            InspectionResult.__table__.update()  # type: ignore[attr-defined]
            .where(InspectionResult.__table__.c.uscc == uscc)  # type: ignore[attr-defined]
            .values(follow_up="case_transfer", follow_up_ref="公安局")
        )
    before = _dump(db)
    with pytest.raises(ValidationFailed) as caught, db.session() as session:
        review_results(
            session, task_code=task, uscc=uscc, approve=True, reason=None, actor=REVIEWER
        )
    assert "结果代码表" in caught.value.zh
    assert any("case_transfer" in d for d in caught.value.details)
    assert _dump(db) == before


def test_the_draw_honours_conflict_periods(
    db: Database, province: dict[str, Any], tmp_path: Path
) -> None:
    """A conflict that ended before the task's period does not stop the draw from
    assigning the officer; one in force during the period does."""
    with db.session() as session:
        entities = sorted(session.exec(select(Entity.uscc).where(Entity.region_code == HOHHOT)))
    ended, current = entities[0], entities[1]
    hohhot_sj = [f"SJ{n:04d}" for n in range(1, 6)]
    rows = [make_conflict(c, ended, ends_on="2025-12-31", reason="已离职的亲属") for c in hohhot_sj]
    rows += [
        make_conflict(c, current, starts_on="2026-01-01", reason="亲属任职") for c in hohhot_sj
    ]
    _load(db, tmp_path, "conflicts", rows)
    code = _task(db, code="回避期限抽查", ratios="1", exclusion_days=0,
                 target={"regions": [HOHHOT]})  # fmt: skip
    with db.session() as session:
        commit_task(session, code=code)
    with pytest.raises(SupervisionError) as caught, db.session() as session:
        draw_task(session, code=code, seed=SEED, workers=1)
    assert current in " ".join([caught.value.zh, *caught.value.details])
    assert ended not in " ".join([caught.value.zh, *caught.value.details])
