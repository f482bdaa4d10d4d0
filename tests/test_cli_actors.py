"""Every CLI command that changes data acts as a named, active console user of a suitable
role (--as, its older name --by, or SUPERVISION_USER); reading commands need none; the first
admin of an empty database may be created without one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CREW, CliRun
from factories import make_department, write_csv
from sqlalchemy import func, select
from sqlmodel import SQLModel

from supervision.db import Database

MUST_ACT = ("必须以控制台用户", "must act as a named console user")


def _rows(db: Database) -> dict[str, int]:
    """Row counts of every table: "writes nothing" means none of them moves."""
    with db.engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in SQLModel.metadata.sorted_tables
        }


def _changing_commands(tmp_path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(role it needs, argv) of every command that changes data."""
    departments = write_csv(tmp_path / "d.csv", [make_department(7)])
    task_file = tmp_path / "task.yaml"
    task_file.write_text(
        "code: T1\nplan: P1\nname: 抽查\ndepartments: [D007]\nitems: [X]\n"
        "ratios: {A: '0.1', B: '0.1', C: '0.1', D: '0.1'}\nperiod_start: 2026-03-01\nperiod_end: 2026-06-30\n",
        encoding="utf-8",
    )
    proof = tmp_path / "round.json"
    proof.write_text("{}", encoding="utf-8")
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text("targets: [{department: D001, ratio: 3%}]\n", encoding="utf-8")
    return [
        ("admin", ("import", "departments", str(departments))),
        ("admin", ("user", "add", "newbie", "--role", "planner", "--password-stdin")),
        ("admin", ("user", "disable", CREW["reviewer"])),
        ("admin", ("user", "role", CREW["reviewer"], "--role", "planner")),
        (
            "planner",
            (
                "plan",
                "create",
                "--code",
                "P1",
                "--year",
                "2026",
                "--name",
                "计划",
                "--department",
                "D001",
            ),
        ),
        ("planner", ("plan", "set", "P1", "--from", str(plan_file))),
        ("planner", ("plan", "publish", "P1")),
        ("planner", ("task", "create", "--from", str(task_file))),
        ("planner", ("task", "commit", "T1")),
        ("planner", ("task", "cancel", "T1", "--reason", "重复")),
        ("planner", ("task", "draw", "T1", "--seed", "1")),
        ("planner", ("seed", "enter", "T1", "12345")),
        ("planner", ("seed", "beacon", "T1", "--from", str(proof))),
        ("planner", ("schedule", "set", "T1", "--draw-at", "2026-12-01T09:30")),
        ("reviewer", ("review", "confirm", "1", "--note", "核实")),
        ("reviewer", ("review", "dismiss", "1", "--reason", "已补报")),
        ("reviewer", ("publish", "--out", str(tmp_path / "site"))),
    ]


def _setup(cli: CliRun, tmp_path: Path) -> None:
    """A department and a plan, so that the commands above are plausible."""
    cli("import", "departments", write_csv(tmp_path / "d1.csv", [make_department(1)]),
        "--as", CREW["admin"])  # fmt: skip


def test_each_changing_command_without_a_named_user_is_refused_and_writes_nothing(
    cli: CliRun, db: Database, crew: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPERVISION_USER", raising=False)
    _setup(cli, tmp_path)
    before = _rows(db)
    for _, argv in _changing_commands(tmp_path):
        refused = cli(*argv, input="a long enough password\n", expect=1)
        assert all(m in refused.stderr for m in MUST_ACT), (argv, refused.stderr)
        assert "Traceback" not in refused.stderr
        assert _rows(db) == before, argv
    assert not (tmp_path / "site").exists()


def test_a_user_of_the_wrong_role_or_a_disabled_one_is_refused(
    cli: CliRun, db: Database, crew: dict[str, str], tmp_path: Path
) -> None:
    _setup(cli, tmp_path)
    cli("user", "add", "gone", "--role", "planner", "--password-stdin", "--as", crew["admin"],
        input="a long enough password\n")  # fmt: skip
    cli("user", "disable", "gone", "--as", crew["admin"])
    before = _rows(db)
    wrong = {"admin": crew["planner"], "planner": crew["reviewer"], "reviewer": crew["planner"]}
    for role, argv in _changing_commands(tmp_path):
        refused = cli(*argv, "--as", wrong[role], input="a long enough password\n", expect=1)
        assert (
            "这个命令需要" in refused.stderr
            and "this command needs a" in refused.stderr.replace("needs an", "needs a")
        ), argv
        assert _rows(db) == before, argv
        # --by is the same option as --as: the same refusal
        by = cli(*argv, "--by", wrong[role], input="a long enough password\n", expect=1)
        assert by.stderr == refused.stderr
    for _, argv in _changing_commands(tmp_path)[:3]:
        refused = cli(*argv, "--as", "gone", input="a long enough password\n", expect=1)
        assert "不存在或已停用" in refused.stderr and "is disabled" in refused.stderr
    assert _rows(db) == before
    assert not (tmp_path / "site").exists()


def test_the_named_user_is_recorded_and_supervision_user_names_one(
    cli: CliRun, db: Database, crew: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPERVISION_USER", crew["admin"])
    cli("import", "departments", write_csv(tmp_path / "d1.csv", [make_department(1)]))
    monkeypatch.setenv("SUPERVISION_USER", crew["planner"])
    refused = cli("import", "departments", write_csv(tmp_path / "d2.csv", [make_department(2)]),
                  expect=1)  # fmt: skip
    assert "需要管理员" in refused.stderr and "needs an admin" in refused.stderr
    cli("plan", "create", "--code", "P1", "--year", "2026", "--name", "计划", "--department",
        "D001")  # fmt: skip
    # --as wins over SUPERVISION_USER
    cli("user", "add", "wang", "--role", "reviewer", "--password-stdin", "--as", crew["admin"],
        input="a long enough password\n")  # fmt: skip
    events = json.loads(cli("trail", "show", "--json").stdout)
    actors = {(e["action"], e["object"]): e["actor"] for e in events}
    assert actors[("user.add", "user:wang")] == f"console:{crew['admin']}"
    imports = [e["actor"] for e in events if e["action"].startswith("import")]
    assert imports and set(imports) == {f"console:{crew['admin']}"}
    assert json.loads(cli("plan", "list", "--json").stdout)[0]["code"] == "P1"


def test_reading_commands_need_no_user(
    cli: CliRun, crew: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPERVISION_USER", raising=False)
    _setup(cli, tmp_path)
    for argv in (
        ("user", "list", "--json"),
        ("plan", "list", "--json"),
        ("task", "list", "--json"),
        ("schedule", "list", "--json"),
        ("review", "list", "--json"),
        ("trail", "show", "--json"),
        ("trail", "verify"),
        ("list", "departments", "--json"),
        ("export", "departments", "-o", str(tmp_path / "out.csv")),
        ("db", "status"),
    ):
        cli(*argv)


def test_the_first_admin_needs_no_user_but_only_while_there_is_no_admin(
    cli: CliRun, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUPERVISION_USER", raising=False)
    password = "a long enough password\n"
    refused = cli("user", "add", "p", "--role", "planner", "--password-stdin", input=password,
                  expect=1)  # fmt: skip
    assert all(m in refused.stderr for m in MUST_ACT)
    assert _rows(db)["console_user"] == 0
    done = cli("user", "add", "root", "--role", "admin", "--password-stdin", input=password)
    assert "added user root" in done.stdout
    again = cli("user", "add", "root2", "--role", "admin", "--password-stdin", input=password,
                expect=1)  # fmt: skip
    assert all(m in again.stderr for m in MUST_ACT)
    assert [u["username"] for u in json.loads(cli("user", "list", "--json").stdout)] == ["root"]
    cli("user", "add", "root2", "--role", "admin", "--password-stdin", "--as", "root",
        input=password)  # fmt: skip
    events = json.loads(cli("trail", "show", "--json").stdout)
    assert [e["actor"] for e in events][1:] == ["console:root"]
    assert events[0]["actor"].startswith("cli:")
