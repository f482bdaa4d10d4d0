"""Hostile input at every door: control characters, lookalike codes and user names,
malformed page cursors, LIKE wildcards, non-UTF-8 arguments (CLI, console pages, JSON
API, imports), on SQLite and PostgreSQL.

Each refusal is a bilingual error that names the field (or file, row and column) and
writes nothing; nothing ends in a traceback or an HTTP 500.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import make_department, make_entity, make_item, make_uscc, write_csv
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from test_console_support import PASSWORD, ConsoleServer, csrf_of, sign_in, soup, text_of

from supervision.accounts.users import add_user
from supervision.db import Database
from supervision.models import ConsoleUser, Entity, InspectionItem, Plan, Task, TrailEvent, fields
from supervision.models.users import Role

pytestmark = pytest.mark.usefixtures("crew")
CREW = {"admin": "cli-admin", "planner": "cli-planner", "reviewer": "cli-reviewer"}

WORKTREE = Path(__file__).resolve().parent.parent


def _count(db: Database, model: Any) -> int:
    with db.engine.connect() as conn:
        table = model.__table__
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def catalog(cli: Any, tmp_path: Path) -> None:
    """Two departments, one item each, a plan: enough to create tasks."""
    cli("import", "--as", "cli-admin", "departments",
        write_csv(tmp_path / "d.csv", [make_department(1), make_department(2)]))  # fmt: skip
    cli(
        "import",
        "--as",
        "cli-admin",
        "items",
        write_csv(tmp_path / "i.csv", [make_item(1), make_item(2)]),
    )
    cli("plan", "create", "--as", "cli-planner", "--code", "P2026", "--year", "2026", "--name", "计划",
        "--department", "D001")  # fmt: skip


@pytest.fixture
def server(db: Database) -> Iterator[str]:
    with db.session() as session:
        for role in (Role.ADMIN, Role.PLANNER, Role.REVIEWER):
            add_user(session, username=role, password=PASSWORD, role=role)
    with ConsoleServer(db) as url:
        yield url


@contextmanager
def _api(server: str, username: str) -> Iterator[httpx.Client]:
    """An API client signed in as `username` (bearer token)."""
    with httpx.Client(base_url=server, timeout=30) as client:
        token = client.post("/api/session", json={"username": username, "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['token']}"
        yield client


def _task(code: str, **overrides: Any) -> dict[str, Any]:
    return {"code": code, "plan": "P2026", "name": "抽查任务", "departments": ["D001"],
            "items": ["NM-SC-001"], "ratios": "0.5", "period_start": "2026-03-01",
            "period_end": "2026-12-31"} | overrides  # fmt: skip


# --------------------------------------------------------------------------- the rule itself
@given(st.text(max_size=30))
@settings(max_examples=300)
def test_stored_text_never_holds_controls_or_bidi_overrides(text: str) -> None:
    """Whatever text_problem lets through has no C0/C1 control and no bidi override;
    multi-line text may add only line breaks and tabs."""
    bad = {*map(chr, range(0x20)), *map(chr, range(0x7F, 0xA0)), "\u202e", "\u2066", "\u200f"}
    if fields.text_problem(text) is None:
        assert not set(text) & bad
    if fields.text_problem(text, multiline=True) is None:
        assert not set(text) & (bad - {"\n", "\r", "\t"})


@given(st.text(max_size=20))
@settings(max_examples=300)
def test_normalised_keys_are_stable_and_visible(text: str) -> None:
    """normalise_key is idempotent, and what it accepts has no invisible character
    and no surrounding space: two keys that look alike normalise to one."""
    try:
        key = fields.normalise_key(text)
    except ValueError as exc:
        assert " / " in str(exc)  # Chinese / English
        return
    assert fields.normalise_key(key) == key == key.strip()
    assert "\u200b" not in key and "\ufeff" not in key


# --------------------------------------------------------------------------- 13: controls
def test_cli_refuses_control_characters_and_writes_nothing(
    cli: Any, db: Database, catalog: None
) -> None:
    plans = _count(db, Plan)
    refused = cli("plan", "create", "--as", "cli-planner", "--code", "P\x1b[31m", "--year", "2026", "--name", "x",
                  "--department", "D001", expect=1)  # fmt: skip
    assert "U+001B" in refused.stderr and "控制字符" in refused.stderr
    assert "Traceback" not in refused.output
    refused = cli("plan", "create", "--as", "cli-planner", "--code", "P2", "--year", "2026",
                  "--name", "计划\u202egpj.exe", "--department", "D001", expect=1)  # fmt: skip
    assert "U+202E" in refused.stderr and "bidirectional" in refused.stderr
    refused = cli("user", "add", "--as", "cli-admin", "zhang", "--role", "admin", "--name", "张\x07三",
                  "--password-stdin", input=PASSWORD + "\n", expect=1)  # fmt: skip
    assert "U+0007" in refused.stderr
    assert _count(db, Plan) == plans and _count(db, ConsoleUser) == len(CREW)


def test_import_names_the_row_and_column_of_a_control_character(
    cli: Any, db: Database, tmp_path: Path
) -> None:
    cli(
        "import",
        "--as",
        "cli-admin",
        "departments",
        write_csv(tmp_path / "d.csv", [make_department(1)]),
    )
    rows = [make_entity(n, uscc=make_uscc(n)) for n in (1, 2, 3)]
    rows[1]["name"] = "商贸\x00公司"
    rows[2]["address"] = "新城区\u202e路"
    refused = cli(
        "import", "--as", "cli-admin", "entities", write_csv(tmp_path / "e.csv", rows), expect=1
    )
    assert "e.csv 第 3 行「name」列" in refused.stderr and "U+0000" in refused.stderr
    assert "e.csv 第 4 行「address」列" in refused.stderr and "U+202E" in refused.stderr
    assert _count(db, Entity) == 0


def test_console_and_api_refuse_control_characters(
    db: Database, catalog: None, server: str
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        token = csrf_of(sign_in(client, Role.ADMIN))
        page = client.post("/users", data={"csrf_token": token, "username": "li",
                                           "password": PASSWORD, "role": "reviewer",
                                           "display_name": "李\u202e四"})  # fmt: skip
        assert page.status_code == 400
        assert "U+202E" in text_of(soup(page).select_one("main"))
    with _api(server, Role.PLANNER) as api:
        refused = api.post("/api/tasks", json=_task("T-NUL", name="任务\x00"))
        assert refused.status_code == 400
        assert any("name" in d and "U+0000" in d for d in refused.json()["error"]["details"])
        refused = api.post("/api/tasks", json=_task("T\x1b[2J"))
        assert refused.status_code == 400 and "U+001B" in json.dumps(refused.json())
    assert _count(db, Task) == 0 and _count(db, ConsoleUser) == 3 + len(CREW)


# --------------------------------------------------------------------------- 14: lookalikes
def test_lookalike_task_codes_are_one_code(db: Database, catalog: None, server: str) -> None:
    with _api(server, Role.PLANNER) as api:
        assert api.post("/api/tasks", json=_task("T-2026-1")).status_code == 200
        for lookalike in ("T-2026-1 ", "Ｔ-２０２６-１", "\u3000T-2026-1"):
            again = api.post("/api/tasks", json=_task(lookalike))
            assert again.status_code == 400 and "already exists" in again.json()["error"]["en"]
        hidden = api.post("/api/tasks", json=_task("T-2026-1\u200b"))
        assert hidden.status_code == 400 and "U+200B" in json.dumps(hidden.json())
    with httpx.Client(base_url=server, timeout=30) as client:
        token = csrf_of(sign_in(client, Role.PLANNER))
        # What a user types is found in its normalised form.
        page = client.get("/task", params={"code": "Ｔ-2026-1 "})
        assert page.status_code == 200 and "T-2026-1" in text_of(soup(page).select_one("main"))
        form = {"csrf_token": token, "code": "T-2026-１\u00a0", "plan": "P2026", "name": "x",
                "departments": "D001", "items": "NM-SC-001", "period_start": "2026-03-01",
                "period_end": "2026-12-31"} | {f"ratio_{k}": "0.5" for k in "ABCD"}  # fmt: skip
        page = client.post("/tasks", data=form)
        assert page.status_code == 400 and "already exists" in text_of(
            soup(page).select_one("main")
        )
    with db.engine.connect() as conn:
        assert list(conn.execute(select(Task.code)).scalars()) == ["T-2026-1"]  # type: ignore[call-overload]


def test_lookalike_user_names_are_refused_at_every_door(
    cli: Any, db: Database, server: str
) -> None:
    with _api(server, Role.ADMIN) as api:
        hidden = api.post("/api/users", json={"username": "demo-admin\u200b",
                                              "password": PASSWORD, "role": "admin"})  # fmt: skip
        assert hidden.status_code == 400 and "U+200B" in json.dumps(hidden.json())
        wide = api.post("/api/users", json={"username": "ｒｅｖｉｅｗｅｒ", "password": PASSWORD,
                                            "role": "reviewer"})  # fmt: skip
        assert wide.status_code == 400 and "already exists" in wide.json()["error"]["en"]
    with httpx.Client(base_url=server, timeout=30) as client:
        token = csrf_of(sign_in(client, Role.ADMIN))
        page = client.post("/users", data={"csrf_token": token, "username": "admin\ufeff",
                                           "password": PASSWORD, "role": "admin"})  # fmt: skip
        assert page.status_code == 400 and "U+FEFF" in text_of(soup(page).select_one("main"))
    refused = cli("user", "add", "--as", "cli-admin", "planner\u2060", "--role", "planner", "--password-stdin",
                  input=PASSWORD + "\n", expect=1)  # fmt: skip
    assert "U+2060" in refused.stderr
    cli("user", "add", "--as", "cli-admin", " ｚｈａｎｇ ", "--role", "planner", "--password-stdin",
        input=PASSWORD + "\n")  # fmt: skip
    with db.engine.connect() as conn:
        names = sorted(conn.execute(select(ConsoleUser.username)).scalars())  # type: ignore[call-overload]
    assert names == sorted(["admin", "planner", "reviewer", "zhang", *CREW.values()])


def test_lookalike_plan_and_item_codes(
    cli: Any, db: Database, catalog: None, tmp_path: Path
) -> None:
    refused = cli("plan", "create", "--as", "cli-planner", "--code", "Ｐ２０２６ ", "--year", "2026", "--name", "x",
                  "--department", "D001", expect=1)  # fmt: skip
    assert "P2026" in refused.stderr and "already exists" in refused.stderr
    cli("task", "create", "--as", "cli-planner", "--code", "T１ ", "--plan", " Ｐ2026", "--name", "任务",
        "--department", "D001", "--item", "NM-SC-001", "--ratio", "0.5",
        "--start", "2026-03-01", "--end", "2026-12-31")  # fmt: skip
    again = cli("task", "create", "--as", "cli-planner", "--code", "T1\u2063", "--plan", "P2026", "--name", "任务",
                "--department", "D001", "--item", "NM-SC-001", "--ratio", "0.5",
                "--start", "2026-03-01", "--end", "2026-12-31", expect=1)  # fmt: skip
    assert "U+2063" in again.stderr
    assert "T1" in cli("task", "show", "Ｔ1", "--json").stdout
    item = make_item(1, code="ＮＭ-ＳＣ-００１ ", name="改名")
    cli("import", "--as", "cli-admin", "items", write_csv(tmp_path / "i2.csv", [item]))
    with db.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(InspectionItem.code, InspectionItem.name))]  # type: ignore[call-overload]
    assert sorted(rows) == [("NM-SC-001", "改名"), ("NM-SC-002", "企业公示信息抽查2")]


# --------------------------------------------------------------------------- 15: cursors, LIKE
BAD_CURSORS = ("x", "1.2", "1.2.3.4", "99999999999999999999.1.1", "1.1.99999999999999999999",
               "\x00", "1.\x00.1", "%", "")  # fmt: skip


def test_malformed_cursors_are_a_clean_400(db: Database, server: str) -> None:
    with _api(server, Role.REVIEWER) as api:
        for after in BAD_CURSORS[:-1]:
            answer = api.get("/api/review/queue", params={"after": after})
            assert answer.status_code == 400, (after, answer.text)
            assert "cursor" in answer.json()["error"]["en"]
        answer = api.get("/api/review/queue", params={"region": "15\x00"})
        assert answer.status_code == 400 and "U+0000" in answer.json()["error"]["en"]
    with httpx.Client(base_url=server, timeout=30) as client:
        sign_in(client, Role.REVIEWER)
        page = client.get("/review", params={"after": "1.\x00.1"})
        assert page.status_code == 400 and "cursor" in text_of(soup(page).select_one("main"))
    with _api(server, Role.ADMIN) as api:
        for kind, after in (
            ("entities", "\x00"), ("entities", "[1]"), ("entities", '["a", "b"]'),
            ("entities", "[null]"), ("items", '["X", "one"]'), ("items", '["X", 1e400]'),
            ("items", '["X", 99999999999999999999999]'), ("items", '[{"a": 1}, 1]'),
            ("items", "[true, 1]"), ("items", "X"), ("departments", "[[1]]"),
        ):  # fmt: skip
            answer = api.get(f"/api/admin/directories/{kind}", params={"after": after})
            assert answer.status_code == 400, (kind, after, answer.text)
            assert "cursor" in answer.json()["error"]["en"]
        for name in ("q", "department", "status"):
            answer = api.get("/api/admin/directories/inspectors", params={name: "a\x00"})
            assert answer.status_code == 400 and "U+0000" in answer.json()["error"]["en"]


def test_percent_and_underscore_in_filters_are_literal(cli: Any, db: Database) -> None:
    cli(
        "user",
        "add",
        "--as",
        "cli-admin",
        "zhang",
        "--role",
        "planner",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert _count(db, TrailEvent) == 1 + len(CREW)  # the crew's users, then zhang
    for pattern in ("use_:", "%:", "user:%", "user:zh_ng"):
        shown = json.loads(cli("trail", "show", "--object", pattern, "--json").stdout)
        assert shown == [], pattern
    shown = json.loads(cli("trail", "show", "--object", "user:", "--json").stdout)
    assert [e["object"] for e in shown] == [*(f"user:{n}" for n in CREW.values()), "user:zhang"]


# --------------------------------------------------------------------------- 16: argv
def test_non_utf8_arguments_are_a_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "supervision", "--db", url, "verify", "蒙".encode() + b"\xff\xfe"],
        capture_output=True, cwd=WORKTREE, timeout=120,
    )  # fmt: skip
    stderr = done.stderr.decode("utf-8")
    assert done.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert "第 4 个命令行参数 蒙\\xff\\xfe 不是 UTF-8 编码" in stderr
    assert "argument 4 (蒙\\xff\\xfe) is not UTF-8" in stderr
    assert not (tmp_path / "x.db").exists()  # refused before anything ran


# --------------------------------------------------------------------------- 5: body size
def test_oversized_bodies_are_refused_with_413(db: Database, server: str, tmp_path: Path) -> None:
    """JSON and forms are bounded (1 MiB), declared or streamed; uploads keep their own
    larger limit; normal requests are untouched."""
    from supervision.console.body_limit import MAX_BODY_BYTES

    huge = "x" * (MAX_BODY_BYTES + 1)
    with httpx.Client(base_url=server, timeout=60) as client:
        declared = client.post("/api/session", json={"username": "admin", "password": huge})
        assert declared.status_code == 413
        error = declared.json()["error"]
        assert "请求内容过大" in error["zh"] and "too large" in error["en"]
        offered = 0

        def stream() -> Iterator[bytes]:  # chunked: no Content-Length to trust
            nonlocal offered
            for _ in range(1600):  # 100 MiB on offer
                offered += 65536
                yield b" " * 65536

        try:
            streamed = client.post("/api/session", content=stream(),
                                   headers={"Content-Type": "application/json"})  # fmt: skip
            assert streamed.status_code == 413
        except httpx.TransportError:
            pass  # the server may close before the client has finished sending
        assert offered < 20 * 1024 * 1024  # the server stopped reading long before the end
        form = client.post("/login", data={"username": "admin", "password": huge})
        assert form.status_code == 413
        assert "请求内容过大" in text_of(soup(form).select_one("main"))
        assert client.post("/api/session", json={"username": "admin",
                                                 "password": PASSWORD}).status_code == 200  # fmt: skip
    with _api(server, Role.ADMIN) as api:  # an upload over 1 MiB still reaches its route
        rows = [make_department(n, name="部门" + "甲" * 90) for n in range(1, 6000)]
        content = write_csv(tmp_path / "big.csv", rows).read_bytes()
        assert len(content) > MAX_BODY_BYTES
        done = api.post("/api/admin/directories/departments/import",
                        files={"file": ("big.csv", content)})  # fmt: skip
        assert done.status_code == 200, done.text[:300]


# --------------------------------------------------------------------------- 6: YAML aliases
#: 9 levels of 9 aliases: about 387 million strings once expanded (a few hundred bytes).
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
)
SELF_REFERENCE = "rules:\n  - &r\n    id: x\n    self: *r\n"
DEEP = "rules: " + "[" * 200 + "]" * 200 + "\n"


def test_rule_lint_refuses_aliases_depth_and_names_file_and_line(cli: Any, tmp_path: Path) -> None:
    pack = tmp_path / "pack" / "samr"
    pack.mkdir(parents=True)
    (pack / "bomb.yaml").write_text(ALIAS_BOMB, encoding="utf-8")
    (pack / "loop.yaml").write_text(SELF_REFERENCE, encoding="utf-8")
    (pack / "deep.yaml").write_text(DEEP, encoding="utf-8")
    done = cli("rules", "lint", tmp_path / "pack", "--json", expect=1)
    issues = {(i["file"], i["line"]): i for i in json.loads(done.stdout)["issues"]}
    assert "alias" in issues[("samr/bomb.yaml", 2)]["en"]
    assert "别名" in issues[("samr/loop.yaml", 4)]["zh"]
    assert "deeper than" in issues[("samr/deep.yaml", 1)]["en"]


def test_yaml_task_and_calendar_files_refuse_aliases(cli: Any, tmp_path: Path) -> None:
    task = tmp_path / "task.yaml"
    task.write_text("code: &c T1\nplan: *c\n", encoding="utf-8")
    refused = cli("task", "create", "--as", "cli-planner", "--from", task, expect=1)
    assert "task.yaml" in refused.stderr and "line 2" in refused.stderr
    assert "alias" in refused.stderr and "Traceback" not in refused.output
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(ALIAS_BOMB, encoding="utf-8")
    refused = cli("check", "--as-of", "2026-07-01", "--calendar", calendar, expect=None)
    assert refused.exit_code != 0 and "calendar.yaml" in refused.stderr
    assert "alias" in refused.stderr


def test_console_candidate_pack_with_aliases_is_refused(server: str) -> None:
    with httpx.Client(base_url=server, timeout=60) as client:
        token = csrf_of(sign_in(client, Role.ADMIN))
        for name, text, line in (("bomb.yaml", ALIAS_BOMB, "2"),
                                 ("loop.yaml", SELF_REFERENCE, "4")):  # fmt: skip
            page = client.post("/admin/rules/candidate", data={"csrf_token": token},
                               files={"file": (name, text.encode())})  # fmt: skip
            assert page.status_code == 200, page.text[:500]
            (issue,) = soup(page).select("table.issues tbody tr")
            assert text_of(issue.select_one("td.file")) == name
            assert text_of(issue.select_one("td.line")) == line
            assert "alias" in text_of(issue.select_one("td.problem"))


# --------------------------------------------------------------------------- 7: XLSX bombs
def _xlsx_with_cell(path: Path, cell_bytes: int) -> Path:
    """An entity XLSX whose first data row's name is a shared string of `cell_bytes`
    letters, written to the zip in a stream (the file stays a few hundred KB)."""
    import zipfile

    from factories import write_xlsx

    plain = write_xlsx(path.with_suffix(".plain.xlsx"), [make_entity(1, uscc=make_uscc(1))])
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                out.writestr(item, data)
                continue
            # The name cell (B2) becomes an inline string of cell_bytes letters.
            head, _, tail = data.decode().partition('<c r="B2"')
            tail = tail[tail.index("</c>") + 4 :]
            with out.open(item.filename, "w", force_zip64=True) as part:
                part.write(f'{head}<c r="B2" t="inlineStr"><is><t>'.encode())
                for _ in range(cell_bytes // (1 << 20)):
                    part.write(b"a" * (1 << 20))
                part.write(b"a" * (cell_bytes % (1 << 20)) + f"</t></is></c>{tail}".encode())
    return path


def test_xlsx_bomb_is_refused_early_and_small(db_url: str, tmp_path: Path) -> None:
    bomb = _xlsx_with_cell(tmp_path / "bomb.xlsx", 300 * 1024 * 1024)
    assert bomb.stat().st_size < 1024 * 1024
    database = Database(db_url)
    try:  # imports act as an admin
        with database.session() as session:
            add_user(session, username="boss", password=PASSWORD, role=Role.ADMIN)
    finally:
        database.dispose()
    probe = (
        "import resource, runpy, sys\n"
        "sys.argv = ['supervision', '--db', sys.argv[1], 'import', 'entities', sys.argv[2],"
        " '--as', 'boss']\n"
        "try:\n    runpy.run_module('supervision', run_name='__main__')\n"
        # VmHWM is this process's own peak (ru_maxrss keeps the peak of the process that
        # forked it across exec: the whole test run's, in a long suite)
        "finally:\n    peak = [l.split()[1] for l in open('/proc/self/status')"
        " if l.startswith('VmHWM')]\n"
        "    print('maxrss', peak[0] if peak else"
        " resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, db_url, str(bomb)], capture_output=True,
                          cwd=WORKTREE, timeout=300, text=True)  # fmt: skip
    assert done.returncode == 1, done.stderr[-2000:]
    assert "bomb.xlsx" in done.stderr and "32767" in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr) < 2000
    maxrss_kib = int(done.stderr.split("maxrss")[1].split()[0])
    assert maxrss_kib < 300 * 1024  # never held the 300 MB cell


def test_long_cells_are_named_and_messages_cut(cli: Any, db: Database, tmp_path: Path) -> None:
    cli(
        "import",
        "--as",
        "cli-admin",
        "departments",
        write_csv(tmp_path / "d.csv", [make_department(1)]),
    )
    long_cell = _xlsx_with_cell(tmp_path / "long.xlsx", 40_000)
    refused = cli("import", "--as", "cli-admin", "entities", long_cell, expect=1)
    assert "long.xlsx 第 2 行「name」列有 40000 个字符" in refused.stderr
    assert "row 2, column 'name': 40000 characters" in refused.stderr
    assert len(refused.stderr) < 2000
    rows = [make_entity(n, uscc=make_uscc(n)) for n in (1, 2)]
    rows[1]["name"] = "长" * 10_000_000
    path = tmp_path / "e.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    refused = cli("import", "--as", "cli-admin", "entities", path, expect=1)
    assert "e.jsonl 第 2 行「name」列" in refused.stderr and "10000000" in refused.stderr
    assert len(refused.stderr) < 2000
    assert _count(db, Entity) == 0


def test_console_upload_of_an_xlsx_bomb_is_refused(server: str, tmp_path: Path) -> None:
    bomb = _xlsx_with_cell(tmp_path / "bomb.xlsx", 50 * 1024 * 1024).read_bytes()
    with httpx.Client(base_url=server, timeout=60) as client:
        token = csrf_of(sign_in(client, Role.ADMIN))
        page = client.post("/admin/directories/entities/import", data={"csrf_token": token},
                           files={"file": ("bomb.xlsx", bomb)})  # fmt: skip
        assert page.status_code == 400
        message = text_of(soup(page).select_one("main"))
        assert "bomb.xlsx" in message and "32767" in message and len(message) < 3000


def _finding(db: Database, tmp_path: Path, cli: Any) -> int:
    """One open finding on one imported entity (written as a check run would)."""
    from datetime import UTC, date, datetime

    from supervision.models import CheckRun, Finding

    cli(
        "import",
        "--as",
        "cli-admin",
        "departments",
        write_csv(tmp_path / "d.csv", [make_department(1)]),
    )
    cli(
        "import",
        "--as",
        "cli-admin",
        "entities",
        write_csv(tmp_path / "e.csv", [make_entity(1, uscc=make_uscc(1))]),
    )
    now = datetime(2026, 7, 2, tzinfo=UTC)
    with db.session() as session:
        run = CheckRun(started_at=now, as_of=date(2026, 7, 2), pack_digest="1" * 64, mode="full")
        session.add(run)
        session.flush()
        assert run.id is not None
        finding = Finding(uscc=make_uscc(1), rule_id="samr.x", rule_version=1, severity="low",
                          severity_rank=3, result_code="B", first_run_id=run.id,
                          last_run_id=run.id, opened_as_of=date(2026, 7, 2), opened_at=now)  # fmt: skip
        session.add(finding)
        session.flush()
        assert finding.id is not None
        return finding.id


def test_review_decisions_and_actors_refuse_control_characters(
    cli: Any, db: Database, tmp_path: Path, server: str
) -> None:
    finding = _finding(db, tmp_path, cli)

    def dismissals() -> int:
        with db.engine.connect() as conn:
            query = select(func.count()).where(TrailEvent.action == "finding.dismiss")  # type: ignore[arg-type]
            return int(conn.execute(query.select_from(TrailEvent.__table__)).scalar_one())  # type: ignore[attr-defined]

    refused = cli("review", "dismiss", "--as", "cli-reviewer", str(finding), "--reason", "已补报\x1b[2J",
                  expect=1)  # fmt: skip
    assert "U+001B" in refused.stderr
    refused = cli("review", "dismiss", str(finding), "--reason", "已补报", "--by", "王\u202e",
                  expect=1)  # fmt: skip
    assert "actor" in refused.stderr and "U+202E" in refused.stderr
    with _api(server, Role.REVIEWER) as api:
        answer = api.post(f"/api/review/findings/{finding}/dismiss", json={"text": "a\x00b"})
        assert answer.status_code == 400 and "U+0000" in answer.json()["error"]["en"]
        assert dismissals() == 0
        # Free text keeps its line breaks.
        answer = api.post(f"/api/review/findings/{finding}/dismiss",
                          json={"text": "已补报\n见附件"})  # fmt: skip
        assert answer.status_code == 200, answer.text
    assert dismissals() == 1


def test_record_payload_text_refuses_control_characters(
    cli: Any, db: Database, tmp_path: Path
) -> None:
    from factories import make_record

    from supervision.models import ComplianceRecord

    cli(
        "import",
        "--as",
        "cli-admin",
        "departments",
        write_csv(tmp_path / "d.csv", [make_department(1)]),
    )
    cli(
        "import",
        "--as",
        "cli-admin",
        "entities",
        write_csv(tmp_path / "e.csv", [make_entity(1, uscc=make_uscc(1))]),
    )
    good = make_record("complaint", 1, uscc=make_uscc(1),
                       payload={"received_on": "2026-03-01", "summary": "第一行\n第二行"})  # fmt: skip
    bad = make_record("complaint", 2, uscc=make_uscc(1),
                      payload={"received_on": "2026-03-02", "summary": "投诉\x1b[31m"})  # fmt: skip
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (good, bad)),
                    "utf-8")  # fmt: skip
    refused = cli("import", "--as", "cli-admin", "records", path, expect=1)
    assert "r.jsonl 第 2 行" in refused.stderr and "U+001B" in refused.stderr
    assert _count(db, ComplianceRecord) == 0
    path.write_text(json.dumps(good, ensure_ascii=False) + "\n", "utf-8")
    cli("import", "--as", "cli-admin", "records", path)  # a line break in free text is allowed
    assert _count(db, ComplianceRecord) == 1


def test_sign_in_counts_lookalike_names_as_one(db: Database, server: str) -> None:
    """Failures under lookalikes of a name count against that name; a name that no
    user can have is refused as a wrong sign-in (401), not a 400 or 500."""
    from supervision.accounts.throttle import LoginThrottle

    throttle = LoginThrottle(limit=5)
    for variant in ("ｐｌａｎｎｅｒ", " planner", "planner\u3000", "ｐlanner", "plａnner"):
        throttle.failed(db, variant, "10.0.0.1")
    assert throttle.retry_after(db, "planner", "10.0.0.1") > 0
    with httpx.Client(base_url=server, timeout=30) as client:
        for name in ("adm\x00in", "admin\u200b", "ad\u202emin"):
            answer = client.post("/api/session", json={"username": name, "password": "x" * 12})
            assert answer.status_code == 401, (name, answer.text)
        signed_in = client.post(
            "/api/session", json={"username": "ａｄｍｉｎ", "password": PASSWORD}
        )
        assert signed_in.status_code == 200 and signed_in.json()["username"] == "admin"
