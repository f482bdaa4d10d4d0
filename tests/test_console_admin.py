"""The admin console pages for the directories and the rule pack, over HTTP, on both backends.

Permissions of every new route; CSRF on the new forms; an import that shows every bad
row and writes nothing, then one that adds; export downloads that re-import unchanged;
keyset pages; the rule pack page, a rule, lint and tests; a broken candidate pack; a
dry run that writes nothing; unsafe or oversized uploads refused.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import site_support as s
from factories import make_entity, make_uscc, write_csv
from sqlalchemy import func, select
from test_console_support import (
    PASSWORD,
    RULE,
    ConsoleServer,
    build_console,
    csrf_of,
    sign_in,
    soup,
    text_of,
)

from supervision.console.app import create_app
from supervision.console.security import route_roles
from supervision.db import Database
from supervision.models import CheckRun, Entity, EntityCheckState, Finding, TrailEvent
from supervision.models.users import Role
from supervision.paths import rules_dir
from supervision.rules.pack import load_pack

_E = Entity.__table__  # type: ignore[attr-defined]
_T = TrailEvent.__table__  # type: ignore[attr-defined]
NEW_ROUTES = ("/admin/", "/api/admin/")


@pytest.fixture
def data(db: Database, tmp_path: Path) -> dict[str, Any]:
    return build_console(db, tmp_path)


@pytest.fixture
def server(db: Database, data: dict[str, Any]) -> Iterator[str]:
    with ConsoleServer(db) as url:
        yield url


@pytest.fixture
def admin(server: str) -> Iterator[tuple[httpx.Client, str]]:
    """A signed-in admin (cookie session) and their CSRF token."""
    with httpx.Client(base_url=server, timeout=60) as client:
        yield client, csrf_of(sign_in(client, Role.ADMIN))


def _count(db: Database, model: Any) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model.__table__)).scalar_one())


def _counts(db: Database) -> dict[str, int]:
    models = (Entity, Finding, CheckRun, EntityCheckState, TrailEvent)
    return {m.__name__: _count(db, m) for m in models}


def _entity_csv(path: Path, rows: list[dict[str, Any]]) -> bytes:
    return write_csv(path, rows).read_bytes()


def _upload(
    client: httpx.Client, action: str, name: str, content: bytes, **fields: str
) -> httpx.Response:
    return client.post(action, data=fields, files={"file": (name, content)})


# --------------------------------------------------------------------------- permissions
def test_every_admin_route_is_for_admins_only(db: Database) -> None:
    roles = route_roles(create_app(db))
    mine = {key: value for key, value in roles.items() if key[1].startswith(NEW_ROUTES)}
    assert len(mine) >= 18
    assert set(mine.values()) == {frozenset({Role.ADMIN})}, mine
    assert ("POST", "/admin/directories/{kind}/import") in mine
    assert ("POST", "/api/admin/rules/candidate") in mine


def test_anonymous_and_other_roles_are_refused(
    db: Database, data: dict[str, Any], server: str
) -> None:
    """Each new route with a real directory: anonymous → sign-in (401 on /api); others → 403."""
    before = _counts(db)
    roles = route_roles(create_app(db))
    with httpx.Client(base_url=server, timeout=30) as anonymous:
        for (method, path), _allowed in sorted(roles.items()):
            if not path.startswith(NEW_ROUTES):
                continue
            url = path.replace("{kind}", "entities")
            response = anonymous.request(method, url, params={"id": RULE})
            expected = 401 if path.startswith("/api") else 303
            assert response.status_code == expected, (method, path)
            for role in (Role.PLANNER, Role.INSPECTOR, Role.REVIEWER):
                with httpx.Client(base_url=server, timeout=30) as client:
                    token = csrf_of(sign_in(client, role))
                    refused = client.request(
                        method, url, params={"id": RULE}, headers={"X-CSRF-Token": token},
                        files={"file": ("e.csv", b"x")} if method == "POST" else None,
                    )  # fmt: skip
                    assert refused.status_code == 403, (method, path, role)
    after = _counts(db)
    assert {k: v for k, v in after.items() if k != "TrailEvent"} == {
        k: v for k, v in before.items() if k != "TrailEvent"
    }


def test_admin_nav_and_forms_carry_the_csrf_token(
    admin: tuple[httpx.Client, str], data: dict[str, Any]
) -> None:
    client, _ = admin
    for path in ("/admin/directories", "/admin/directories/entities", "/admin/rules",
                 f"/admin/rules/rule?id={RULE}"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:300])
        page = soup(response)
        nav = [a["href"] for a in page.select("nav.site-nav a")]
        assert "/admin/directories" in nav and "/admin/rules" in nav
        for form in page.select("form[method=post]"):
            field = form.find("input", attrs={"name": "csrf_token"})
            assert field is not None and field["value"], (path, form.get("action"))
        assert page.find("script") is None  # no JavaScript, and names are escaped
    names = soup(client.get("/admin/directories/entities")).select("td[data-field=name]")
    assert s.EVIL_NAME in [text_of(td) for td in names]


def test_csrf_is_required_on_every_new_form(
    db: Database, admin: tuple[httpx.Client, str], tmp_path: Path
) -> None:
    client, token = admin
    before = _counts(db)
    good = _entity_csv(tmp_path / "e.csv", [make_entity(101, uscc=make_uscc(101))])
    for action in ("/admin/directories/entities/import", "/admin/rules/candidate"):
        name = "e.csv" if "import" in action else "pack.yaml"
        for fields in ({}, {"csrf_token": "forged"}):
            refused = _upload(client, action, name, good, **fields)
            assert refused.status_code == 403, action
            assert "CSRF" in text_of(soup(refused).select_one("div.error"))
    for action in ("/admin/rules/lint", "/admin/rules/test"):
        assert client.post(action).status_code == 403
        assert client.post(action, data={"csrf_token": "forged"}).status_code == 403
    api = client.post("/api/admin/rules/lint")
    assert api.status_code == 403 and "CSRF" in api.json()["error"]["zh"]
    assert _counts(db) == before
    ok = _upload(client, "/admin/directories/entities/import", "e.csv", good, csrf_token=token)
    assert ok.status_code == 303


# --------------------------------------------------------------------------- directories
def test_bad_upload_lists_every_bad_row_and_writes_nothing(
    db: Database, admin: tuple[httpx.Client, str], tmp_path: Path
) -> None:
    client, token = admin
    rows = [make_entity(n, uscc=make_uscc(n)) for n in range(201, 205)]
    rows[1]["uscc"] = rows[1]["uscc"][:-1] + ("0" if rows[1]["uscc"][-1] != "0" else "1")
    rows[3]["region_code"] = "99999"
    content = _entity_csv(tmp_path / "entities.csv", rows)
    before = _counts(db)
    response = _upload(client, "/admin/directories/entities/import", "新主体.csv", content,
                       csrf_token=token)  # fmt: skip
    assert response.status_code == 400
    page = soup(response)
    error = page.select_one("div.error")
    assert "未导入任何数据" in text_of(error.select_one("p.zh"))
    assert "nothing was imported" in text_of(error.select_one("p.en"))
    table = [
        {c: text_of(tr.select_one(f"td.{c}")) for c in ("file", "row", "column", "value")}
        | {"reason": text_of(tr.select_one("td.reason"))}
        for tr in page.select("table.import-errors tbody tr")
    ]
    assert {r["row"] for r in table} == {"3", "5"}
    assert all(r["file"] == "新主体.csv" for r in table)
    by_row = {r["row"]: r for r in table}
    assert by_row["3"]["column"] == "uscc" and by_row["3"]["value"] == rows[1]["uscc"]
    assert by_row["5"]["column"] == "region_code" and by_row["5"]["value"] == "99999"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in r["reason"]) for r in table)
    assert all(any(ch.isascii() and ch.isalpha() for ch in r["reason"]) for r in table)
    assert _counts(db) == before  # no entity, no trail event


def test_good_upload_reports_counts_and_the_entity_is_listed(
    db: Database, admin: tuple[httpx.Client, str], tmp_path: Path
) -> None:
    client, token = admin
    fresh = make_entity(301, uscc=make_uscc(301), name="新上传测试商行")
    content = _entity_csv(tmp_path / "good.csv", [fresh, make_entity(302, uscc=make_uscc(302))])
    total = _count(db, Entity)
    response = client.post(
        "/admin/directories/entities/import",
        data={"csrf_token": token, "encoding": ""},
        files={"file": ("good.csv", content)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = soup(response)
    assert "导入完成" in text_of(page.select_one("p.notice"))
    report = page.select_one("section.import-report")
    counts = {dd["data-count"]: text_of(dd) for dd in report.select("td[data-count]")}
    assert counts == {"rows": "2", "added": "2", "updated": "0", "unchanged": "0"}
    assert _count(db, Entity) == total + 2
    listed = soup(client.get("/admin/directories/entities", params={"q": fresh["uscc"]}))
    cells = {td["data-field"]: text_of(td) for td in listed.select("table.directory tbody td")}
    assert cells["uscc"] == fresh["uscc"] and cells["name"] == "新上传测试商行"
    assert cells["legal_rep"] == fresh["legal_rep"]  # staff see the natural person's name
    assert text_of(listed.select_one("td[data-count=matching]")) == "1"
    by_name = soup(client.get("/admin/directories/entities", params={"q": "新上传"}))
    assert [tr["data-key"] for tr in by_name.select("table.directory tbody tr")] == [fresh["uscc"]]
    with db.engine.connect() as conn:
        (event,) = conn.execute(select(_T).where(_T.c.action == "import")).all()[-1:]
    assert event.actor == "console:admin" and json.loads(event.payload)["added"] == 2
    # Unknown columns are refused unless the box is ticked, as on the command line.
    extra = _entity_csv(tmp_path / "extra.csv", [fresh | {"备注": "x"}])
    refused = _upload(client, "/admin/directories/entities/import", "extra.csv", extra,
                      csrf_token=token)  # fmt: skip
    assert refused.status_code == 400
    assert "未知的列" in text_of(soup(refused).select_one("ul.details"))
    accepted = _upload(client, "/admin/directories/entities/import", "extra.csv", extra,
                       csrf_token=token, ignore_unknown_columns="1")  # fmt: skip
    assert accepted.status_code == 303 and "unchanged=1" in accepted.headers["location"]


def test_export_downloads_reimport_unchanged(db: Database, admin: tuple[httpx.Client, str]) -> None:
    client, token = admin
    total = _count(db, Entity)
    csv = client.get("/admin/directories/entities/export", params={"format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert csv.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("统一社会信用代码(uscc)") and len(lines) == total + 1
    assert any(line.split(",")[1].startswith("'=") or "'=HYPERLINK" in line for line in lines)
    back = client.post(
        "/admin/directories/entities/import", data={"csrf_token": token},
        files={"file": ("entities.csv", csv.content)}, follow_redirects=True,
    )  # fmt: skip
    report = soup(back).select_one("section.import-report")
    counts = {dd["data-count"]: text_of(dd) for dd in report.select("td[data-count]")}
    assert counts == {"rows": str(total), "added": "0", "updated": "0", "unchanged": str(total)}
    xlsx = client.get("/admin/directories/inspectors/export", params={"format": "xlsx"})
    assert xlsx.content[:2] == b"PK" and "spreadsheetml" in xlsx.headers["content-type"]
    rows = client.get("/admin/directories/items/export", params={"format": "json"}).json()
    assert [r["code"] for r in rows] == ["SJ-01"]
    bad = client.get("/admin/directories/entities/export", params={"format": "exe"})
    assert bad.status_code == 400
    missing = client.get("/admin/directories/nothing")
    assert missing.status_code == 404 and "no directory" in text_of(soup(missing).select_one(".en"))


def test_keyset_pages_and_filters_through_the_api(
    db: Database, data: dict[str, Any], server: str
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        token = client.post("/api/session", json={"username": "admin", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        with db.engine.connect() as conn:
            expected = list(conn.execute(select(_E.c.uscc).order_by(_E.c.uscc)).scalars())
        seen: list[str] = []
        after = ""
        while True:
            page = client.get(
                "/api/admin/directories/entities", params={"limit": 5, "after": after},
                headers=headers,
            ).json()  # fmt: skip
            assert page["total"] == len(expected) and len(page["rows"]) <= 5
            seen += [row["uscc"] for row in page["rows"]]
            if page["next"] is None:
                break
            after = page["next"]
        assert seen == expected
        risk_d = client.get("/api/admin/directories/entities", params={"risk_class": "d"},
                            headers=headers).json()  # fmt: skip
        assert risk_d["rows"] and {r["risk_class"] for r in risk_d["rows"]} == {"D"}
        assert risk_d["matching"] == len(risk_d["rows"]) < risk_d["total"]
        assert sum(risk_d["by_status"].values()) == risk_d["total"]
        inspectors = client.get("/api/admin/directories/inspectors",
                                params={"department": "SJ", "q": "sj000"}, headers=headers)  # fmt: skip
        assert [r["cert_no"] for r in inspectors.json()["rows"]][:2] == ["SJ0001", "SJ0002"]
        items = client.get("/api/admin/directories/items", params={"limit": 1}, headers=headers)
        assert items.json()["rows"][0]["methods"] and items.json()["next"] is None
        bad = client.get("/api/admin/directories/entities", params={"region": "15"},
                         headers=headers)  # fmt: skip
        assert bad.status_code == 400 and "6 digits" in bad.json()["error"]["en"]
        status = client.get("/api/admin/directories/entities", params={"status": "closed"},
                            headers=headers)  # fmt: skip
        assert status.status_code == 400 and "存续" in status.json()["error"]["zh"]
        listing = client.get("/api/admin/directories", headers=headers).json()
        assert {d["kind"]: d["total"] for d in listing}["entities"] == len(expected)


def test_api_import_lists_bad_rows(
    db: Database, data: dict[str, Any], server: str, tmp_path: Path
) -> None:
    rows = [make_entity(n, uscc=make_uscc(n)) for n in (401, 402)]
    rows[0]["established_on"] = "2026-02-30"
    content = _entity_csv(tmp_path / "api.csv", rows)
    with httpx.Client(base_url=server, timeout=30) as client:
        token = client.post("/api/session", json={"username": "admin", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        refused = client.post("/api/admin/directories/entities/import", headers=headers,
                              files={"file": ("api.csv", content)})  # fmt: skip
        assert refused.status_code == 400
        (row,) = refused.json()["error"]["rows"]
        assert (row["file"], row["row"], row["value"]) == ("api.csv", 2, "2026-02-30")
        rows[0]["established_on"] = "2020-02-28"
        fixed = _entity_csv(tmp_path / "api.csv", rows)
        done = client.post("/api/admin/directories/entities/import", headers=headers,
                           files={"file": ("api.csv", fixed)})  # fmt: skip
        assert done.json() | {"file": "api.csv"} == {
            "kind": "entities", "file": "api.csv", "rows": 2, "added": 2, "updated": 0,
            "unchanged": 0,
        }  # fmt: skip
        evil = client.post("/api/admin/directories/entities/import", headers=headers,
                           files={"file": ("../../evil.exe", b"x")})  # fmt: skip
        assert evil.status_code == 400 and "unsupported file" in evil.json()["error"]["en"]


# --------------------------------------------------------------------------- rule pack
def test_rule_pack_page_rule_lint_and_tests(admin: tuple[httpx.Client, str]) -> None:
    client, token = admin
    page = soup(client.get("/admin/rules"))
    rows = page.select("table.rules tbody tr[data-rule]")
    shipped = len(load_pack().rules)  # the shipped pack, however many rules it holds
    assert len(rows) == shipped and text_of(page.select_one("dd[data-count=rules]")) == str(shipped)
    assert RULE in {r["data-rule"] for r in rows}
    assert text_of(page.select_one("dd.digest")).startswith("sha256:")
    annual = page.select_one(f"tr[data-rule='{RULE}']")
    assert "未按期报送年度报告" in text_of(annual) and "Annual report" in text_of(annual)
    assert "《企业信息公示暂行条例》第八条" in [text_of(li) for li in annual.select("li")]
    assert text_of(annual.select_one("td.code")) == "B"
    assert int(text_of(annual.select_one("td.examples"))) >= 2
    detail = soup(client.get(annual.select_one("a")["href"]))
    when = detail.select_one("pre.when").get_text()
    assert when.startswith("when:") and "${params.grace_days}" in when and "# join" in when
    assert "examples:" not in when and "examples:" in detail.select_one("pre.source").get_text()
    assert len(detail.select("section.example")) >= 2
    assert client.get("/admin/rules/rule", params={"id": "nope"}).status_code == 404
    lint = soup(client.post("/admin/rules/lint", data={"csrf_token": token}))
    assert lint.select_one("section.lint")["data-ok"] == "true"
    tests = soup(client.post("/admin/rules/test", data={"csrf_token": token}))
    results = tests.select("table.examples tbody tr")
    assert len(results) >= 18 and all(r["data-passed"] == "true" for r in results)
    assert tests.select_one("section.tests")["data-ok"] == "true"


BROKEN = """\
rules:
  - id: samr.broken
    version: 1
    title: {zh: 坏规则, en: Broken rule}
    legal_basis:
      - {law: 企业信息公示暂行条例, article: 第八条}
    department: 市场监督管理部门
    severity: dreadful
    result_code: B
    effective_from: 2024-01-01
    when:
      all:
        - e: {t: entity}
    examples:
      - {name: fires, facts: [{id: e, t: entity}], expect: [{matched: [e]}]}
      - {name: silent, facts: [{id: x, t: other}], expect: none}
"""


def test_broken_candidate_shows_file_line_and_key(
    db: Database, admin: tuple[httpx.Client, str]
) -> None:
    client, token = admin
    before = _counts(db)
    response = _upload(client, "/admin/rules/candidate", "broken.yaml", BROKEN.encode(),
                       csrf_token=token)  # fmt: skip
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("section.lint")["data-ok"] == "false"
    (issue,) = page.select("table.issues tbody tr")
    assert text_of(issue.select_one("td.file")) == "broken.yaml"
    assert text_of(issue.select_one("td.line")) == "8"
    assert text_of(issue.select_one("td.key")) == "rules[0].severity"
    assert "severity" in text_of(issue.select_one("td.problem"))
    assert page.select_one("section.dry-run") is None  # a broken pack is not run
    # A zip that tries to leave its folder is refused whole.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("samr/ok.yaml", BROKEN)
        archive.writestr("../escape.yaml", BROKEN)
    unsafe = _upload(client, "/admin/rules/candidate", "pack.zip", buffer.getvalue(),
                     csrf_token=token)  # fmt: skip
    assert unsafe.status_code == 400
    assert "unsafe path" in text_of(soup(unsafe).select_one("p.en"))
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("README.md", "no rules here")
    nothing = _upload(client, "/admin/rules/candidate", "empty.zip", empty.getvalue(),
                      csrf_token=token)  # fmt: skip
    (issue,) = soup(nothing).select("table.issues tbody tr")
    assert text_of(issue.select_one("td.file")) == "empty.zip"  # not the temp folder
    assert "no rule files" in text_of(issue.select_one("td.problem"))
    huge = client.post(
        "/admin/rules/candidate", data={"csrf_token": token},
        files={"file": ("big.yaml", b"#" * (3 * 1024 * 1024))},
    )  # fmt: skip
    assert huge.status_code == 400 and "too large" in text_of(soup(huge).select_one("p.en"))
    assert _counts(db) == before


def test_candidate_dry_run_writes_nothing(
    db: Database, data: dict[str, Any], admin: tuple[httpx.Client, str]
) -> None:
    client, token = admin
    buffer = io.BytesIO()
    shipped = rules_dir()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file in sorted(shipped.rglob("*")):
            if file.is_file():
                archive.write(file, f"candidate/{file.relative_to(shipped).as_posix()}")
    before = _counts(db)
    response = _upload(client, "/admin/rules/candidate", "candidate.zip", buffer.getvalue(),
                       csrf_token=token, as_of="2026-07-02")  # fmt: skip
    assert response.status_code == 200, response.text[:500]
    page = soup(response)
    assert page.select_one("section.lint")["data-ok"] == "true"
    assert "README.md" in text_of(page.select_one("section.lint"))  # skipped, said so
    changes = {tr["data-rule"]: tr["data-change"] for tr in page.select("table.changes tbody tr")}
    assert len(changes) == len(load_pack().rules) and set(changes.values()) == {"unchanged"}
    assert page.select_one("section.tests")["data-ok"] == "true"
    dry = {
        tr["data-rule"]: {c: int(text_of(tr.select_one(f"td.{c}")))
                          for c in ("new", "gone", "unchanged")}
        for tr in page.select("table.dry-run tbody tr[data-rule]")
    }  # fmt: skip
    assert RULE in dry and dry[RULE]["new"] + dry[RULE]["gone"] + dry[RULE]["unchanged"] >= 1
    assert _counts(db) == before
    with db.session() as session:
        from supervision import trail

        assert trail.verify(session)["ok"]
