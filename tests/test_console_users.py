"""Console users on the command line (`supervision user add|list|disable`) and the demo users."""

from __future__ import annotations

import json

from conftest import CliRun
from sqlalchemy import select

from supervision.accounts.users import authenticate, verify_password
from supervision.db import Database
from supervision.demo.users import demo_users_step, describe
from supervision.models import ConsoleUser, TrailEvent

_T = TrailEvent.__table__  # type: ignore[attr-defined]


def test_user_add_list_disable(cli: CliRun, db: Database) -> None:
    # The first admin needs no --as (nobody to act as yet); then users are added by an admin,
    # --by being the older name of --as.
    cli("user", "add", "root", "--role", "admin", "--password-stdin",
        input="the first admin's password\n")  # fmt: skip
    cli("user", "add", "li.si", "--role", "reviewer", "--name", "李四", "--password-stdin",
        "--by", "root", input="a long enough password\n")  # fmt: skip
    prompted = cli("user", "add", "wang", "--role", "planner", "--as", "root",
                   input="another password\n" * 2)  # fmt: skip
    assert "added user wang" in prompted.stdout
    with db.session() as session:
        stored = session.exec(select(ConsoleUser).where(ConsoleUser.username == "li.si")).one()
    assert stored[0].password_hash.startswith("$argon2id$")
    assert "a long enough password" not in stored[0].password_hash
    assert verify_password(stored[0].password_hash, "a long enough password")
    rows = json.loads(cli("user", "list", "--json").stdout)
    assert [(r["username"], r["role"], r["active"]) for r in rows] == [
        ("li.si", "reviewer", True), ("root", "admin", True), ("wang", "planner", True)
    ]  # fmt: skip
    cli("user", "disable", "li.si", "--as", "root")
    assert authenticate(db, username="li.si", password="a long enough password") is None
    with db.engine.connect() as conn:
        events = [(r.action, r.actor) for r in conn.execute(select(_T.c.action, _T.c.actor))]
    actions = [action for action, _ in events]
    assert actions.count("user.add") == 3 and actions.count("user.disable") == 1
    assert events[0][1].startswith("cli:")  # the first admin: the OS user
    assert [actor for _, actor in events[1:]] == ["console:root"] * 3


def test_user_add_refuses_bad_input(cli: CliRun, db: Database) -> None:
    short = cli("user", "add", "x", "--role", "admin", "--password-stdin", input="short\n",
                expect=1)  # fmt: skip
    assert "密码至少" in short.stderr and "at least" in short.stderr
    cli("user", "add", "dup", "--role", "admin", "--password-stdin", input="long enough pw\n")
    no_cert = cli("user", "add", "insp", "--role", "inspector", "--password-stdin", "--as", "dup",
                  input="long enough password\n", expect=1)  # fmt: skip
    assert "执法证号" in no_cert.stderr
    again = cli("user", "add", "dup", "--role", "admin", "--password-stdin", "--as", "dup",
                input="long enough pw\n", expect=1)  # fmt: skip
    assert "已存在" in again.stderr and "already exists" in again.stderr
    assert json.loads(cli("user", "list", "--json").stdout)[0]["username"] == "dup"
    cli("user", "disable", "nobody", "--as", "dup", expect=1)


def test_demo_users_one_per_role_with_working_passwords(db: Database) -> None:
    first = demo_users_step(db)
    assert sorted(u["role"] for u in first) == ["admin", "inspector", "planner", "reviewer"]
    assert all("demo" in u["note_en"].lower() and "演示" in u["note_zh"] for u in first)
    for user in first:
        assert authenticate(db, username=user["username"], password=user["password"]) is not None
    again = demo_users_step(db)  # run twice: new passwords, the printed ones work
    for old, new in zip(first, again, strict=True):
        assert authenticate(db, username=new["username"], password=new["password"]) is not None
        assert authenticate(db, username=old["username"], password=old["password"]) is None
    text = "\n".join(describe(again))
    assert all(u["password"] in text for u in again) and "Demo only" in text
    assert "supervision serve --out site" in text
