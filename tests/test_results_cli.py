"""The result, deadlines and trail commands through the real `supervision` command group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select
from test_results import ITEM, drawn  # noqa: F401  (fixtures)
from test_tasks_draw import province  # noqa: F401  (fixture)

from supervision.accounts.users import add_user
from supervision.db import Database
from supervision.models import Assignment
from supervision.models.users import Role


@pytest.fixture(autouse=True)
def _later(time_machine: Any) -> None:
    time_machine.move_to("2025-10-09 10:00 +0800", tick=False)


@pytest.fixture
def users(db: Database, drawn: dict[str, Any]) -> dict[str, str]:  # noqa: F811
    """Named console users: an inspector on the teams of the first two drawn entities'
    (or of the first), a reviewer and a publisher; the CLI acts as them with --as."""
    task, a, b = drawn["task"], drawn["entities"][0], drawn["entities"][1]
    with db.session() as session:

        def first_cert(uscc: str) -> str:
            cert = session.exec(
                select(Assignment.cert_no)
                .where(Assignment.task_code == task, Assignment.uscc == uscc)
                .order_by(Assignment.cert_no)
            ).first()
            assert cert is not None
            return cert

        cert = first_cert(a)
        for name, role, cert_no in (
            ("wang", Role.INSPECTOR, cert),
            ("zhang", Role.INSPECTOR, first_cert(b)),
            ("li", Role.REVIEWER, None),
            ("zhao", Role.REVIEWER, None),
        ):
            add_user(session, username=name, password="correct horse battery", role=role,
                     display_name=name, cert_no=cert_no)  # fmt: skip
    return {"cert": cert}


def test_result_commands_end_to_end(
    cli: Any,
    db: Database,
    drawn: dict[str, Any],  # noqa: F811
    users: dict[str, str],
    tmp_path: Path,
) -> None:
    task, a, b = drawn["task"], drawn["entities"][0], drawn["entities"][1]
    photo = tmp_path / "照片.jpg"
    photo.write_bytes(b"evidence")
    out = cli(
        "result", "enter", task, a, "--item", ITEM, "--code", "A", "--sub-code", "B",
        "--finding", "未按规定公示年报", "--inspected-on", "2025-09-26",
        "--evidence", photo, "--follow-up", "rectification", "--due", "2025-10-20",
        "--as", "wang",
    )  # fmt: skip
    assert "待审核" in out.stdout
    listed = json.loads(cli("result", "list", task, "--state", "entered", "--json").stdout)
    assert [(r["uscc"], r["item"], r["result_code"], r["sub_code"]) for r in listed] == [
        (a, ITEM, "A", "B")
    ]
    refused = cli("result", "review", task, a, "--return", "--as", "li", expect=1)
    assert "退回必须说明理由" in refused.stderr and "reason" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.stdout
    cli("result", "review", task, a, "--return", "--reason", "证据不足", "--as", "li")
    file = tmp_path / "results.yaml"
    file.write_text(
        f"inspected_on: 2025-09-26\nitems:\n  - item: {ITEM}\n    code: A\n    sub_code: B\n"
        "    finding: 未按规定公示2024年度年报\n    follow_up: rectification\n"
        "    due: 2025-10-20\n    evidence: [照片.jpg]\n",
        encoding="utf-8",
    )
    assert "第 2 版" in cli("result", "enter", task, a, "--from", file, "--as", "wang").stdout
    cli("result", "review", task, a, "--approve", "--as", "li")
    published = json.loads(cli("result", "publish", task, a, "--json", "--as", "zhao").stdout)
    assert published["published"] == [{"uscc": a, "item": ITEM, "version": 2}]
    cli("result", "correct", task, a, "--item", ITEM, "--finding", "已于10月补报年报",
        "--reason", "更正笔误", "--as", "wang")  # fmt: skip
    cli("result", "review", task, a, "--approve", "--as", "li")
    cli("result", "publish", task, "--as", "zhao")
    cli("result", "reply", task, a, "--text", "我公司已于10月补报", "--received-on", "2025-10-08",
        "--as", "li")  # fmt: skip
    cli("result", "reply-review", task, a, "--approve", "--as", "zhao")
    shown = json.loads(cli("result", "show", task, a, "--json").stdout)
    versions = shown["items"][0]["versions"]
    assert [v["state"] for v in versions] == ["returned", "published", "published"]
    assert versions[0]["entered_by"] == "console:wang"
    assert versions[0]["reviewed_by"] == "console:li"
    assert versions[1]["published_by"] == "console:zhao"
    assert (
        versions[2]["finding"] == "已于10月补报年报"
        and versions[1]["finding"] == "未按规定公示2024年度年报"
    )
    assert versions[1]["evidence"][0]["size"] == len(b"evidence")
    assert shown["replies"][0]["state"] == "published"
    table = cli("result", "show", task, a).stdout
    assert "主体自述" in table and "已公示" in table

    # Another entity: entered and not published → listed under publication deadlines.
    cli("result", "enter", task, b, "--item", ITEM, "--code", "1", "--inspected-on", "2025-09-26",
        "--as", "zhang")  # fmt: skip
    due = json.loads(cli("deadlines", "--as-of", "2025-10-22", "--json").stdout)
    assert [(d["uscc"], d["due"], d["workdays_left"]) for d in due["publication"]] == [
        (b, "2025-10-30", 6)
    ]
    rect = due["rectification"]
    assert {(d["uscc"], d["version"], d["recheck"]) for d in rect} == {(a, 3, True)}
    cli("result", "follow-up", task, a, "--item", ITEM, "--not-rectified", "--as", "wang")
    due = json.loads(cli("deadlines", "--as-of", "2025-10-22", "--json").stdout)
    assert due["rectification"][0]["case_transfer"] is True
    assert "逾期" in cli("deadlines", "--as-of", "2025-11-05").stdout

    verify = cli("trail", "verify")
    assert "留痕链完整" in verify.stdout
    events = json.loads(cli("trail", "show", "--object", f"result:{task}/{a}", "--json").stdout)
    actions = [e["action"] for e in events]
    assert actions[:2] == ["result.enter", "result.return"]
    assert {"reply.enter", "reply.publish", "result.follow_up", "result.correct"} <= set(actions)
    task_events = json.loads(cli("trail", "show", "--object", f"task:{task}", "--json").stdout)
    assert [e["action"] for e in task_events] == [
        "task.create", "task.commit", "task.seed", "task.draw", "task.in_progress",
    ]  # fmt: skip
    assert events[0]["actor"] == "console:wang"
    assert "task.draw" in cli("trail", "show").stdout

    with db.engine.begin() as conn:
        conn.execute(text("UPDATE trail_event SET actor = 'cli:x' WHERE seq = 3"))
    broken = cli("trail", "verify", expect=2)
    assert "事件 3" in broken.stderr and "event 3" in broken.stderr


def test_errors_are_bilingual_without_traceback(
    cli: Any,
    drawn: dict[str, Any],  # noqa: F811
    users: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    task, a = drawn["task"], drawn["entities"][0]
    monkeypatch.setenv("SUPERVISION_USER", "wang")
    bad = cli("result", "enter", task, a, "--item", ITEM, "--code", "Z",
              "--inspected-on", "2025-09-26", expect=1)  # fmt: skip
    assert "错误" in bad.stderr and "Error" in bad.stderr and "code" in bad.stderr
    missing = cli("result", "enter", task, a, "--item", ITEM, expect=1)
    assert "--code" in missing.stderr and "--inspected-on" in missing.stderr
    nothing = cli("result", "publish", task, "--as", "li", expect=1)
    assert "没有可公示" in nothing.stderr
    unknown = cli("deadlines", "--as-of", "2031-06-01", expect=0)  # nothing listed yet
    assert "公示期限" in unknown.stdout
    cli("result", "enter", task, a, "--item", ITEM, "--code", "1", "--inspected-on", "2025-09-26")
    # Years after the package's last are provisional: the due date (2025) is official, the
    # count of days over runs through unannounced years.
    year = json.loads(cli("deadlines", "--as-of", "2031-06-01", "--json").stdout)
    (late,) = year["publication"]
    assert late["overdue"] and not late["provisional"] and late["count_provisional"]
    unknown_year = cli("deadlines", "--as-of", "2003-06-01", expect=1)  # before the package
    assert "pip install -U chinesecalendar" in unknown_year.stderr
    assert "--calendar" in unknown_year.stderr
    extra = tmp_path / "extra.yaml"
    extra.write_text("years: [2027, 2028, 2029, 2030, 2031]\n", encoding="utf-8")
    ok = json.loads(cli("deadlines", "--as-of", "2031-06-01", "--calendar", extra, "--json").stdout)
    assert ok["publication"][0]["overdue"] is True
    assert cli("trail", "verify", "--expect-head", "0" * 64, expect=2).stderr


def test_the_installed_console_script(tmp_path: Path) -> None:
    """One backend is enough here: the point is the installed entry point."""
    db_url = f"sqlite:///{tmp_path / 'script.db'}"
    Database(db_url).dispose()
    exe = Path(sys.executable).with_name("supervision")
    env = {**os.environ, "SUPERVISION_DATABASE_URL": db_url}
    done = subprocess.run(
        [str(exe), "trail", "verify", "--json"], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(done.stdout)["ok"] is True
