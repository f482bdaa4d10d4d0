"""What people see (issue 21): the site's own 404 page, its server-rendered search, and the
planner's task form with pickers, on the real console served by uvicorn.

The browser side (390-px phones, axe-core) is in test_pages_browser.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest
import site_support as s
from factories import make_department, make_entity, make_item, make_uscc
from sqlmodel import select
from test_console_support import ConsoleServer, build_console, csrf_of, sign_in, soup, text_of

from supervision import clock
from supervision.db import Database
from supervision.draw.plans import create_plan
from supervision.models import Task
from supervision.models.users import Role
from supervision.site import publish_site
from supervision.site.serve import make_server

OUTSIDER = make_uscc(40)  # imported after publishing: in the directory, in no published task


@pytest.fixture
def data(db: Database, tmp_path: Path) -> dict[str, Any]:
    built = build_console(db, tmp_path)
    publish_site(db, out_dir=tmp_path / "site", languages="all", workers=1)
    s._load(db, tmp_path, "departments", [make_department(2, code="XY", name="消防救援支队")])
    s._load(db, tmp_path, "items", [make_item(2, code="XY-01", name="消防安全检查",
                                              department_code="XY", kind="重点")])  # fmt: skip
    s._load(db, tmp_path, "entities", [make_entity(40, uscc=OUTSIDER, name="尚未抽到的公司")])
    with db.session() as session:
        create_plan(session, code="P2026J", year=2026, name="联合抽查计划",
                    departments=["SJ", "XY"])  # fmt: skip
    return built | {"site": tmp_path / "site"}


@pytest.fixture
def server(db: Database, data: dict[str, Any]) -> Iterator[str]:
    with ConsoleServer(db, site_dir=data["site"]) as url:
        yield url


def _get(server: str, path: str, **params: str) -> httpx.Response:
    with httpx.Client(base_url=server, timeout=30) as client:
        return client.get(path, params=params) if params else client.get(path)


# --------------------------------------------------------------------------- 404
def test_a_missing_site_page_is_the_sites_own_page(server: str) -> None:
    for path, lang in (("/site/no/such/page.html", "zh-CN"), ("/site/en/tasks/nope/", "en")):
        page = _get(server, path)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        html = soup(page)
        assert html.html["lang"] == lang
        assert html.select_one("header.site-header nav.site-nav") is not None
        assert html.select_one("footer.site-footer") is not None
        assert html.select_one("link[rel=icon]") is not None
        # Links are relative to the asked path: the home link leads to the site's home page.
        home = html.select_one("main a")["href"]
        target = urljoin(server + path, home)
        assert target.endswith("/site/index.html" if lang == "zh-CN" else "/site/en/index.html")
        assert _get(server, target.removeprefix(server)).status_code == 200
    assert "页面不存在" in text_of(soup(_get(server, "/site/missing.html")).select_one("h1"))
    assert "Page not found" in text_of(soup(_get(server, "/site/en/missing.html")).select_one("h1"))
    # The API keeps answering JSON; the console its own error page.
    api = _get(server, "/api/no-such-thing")
    assert api.status_code == 404 and api.json()["error"]["en"] == "no such page"
    console = _get(server, "/no-such-console-page")
    assert console.status_code == 404 and "页面不存在" in console.text


def test_the_static_site_server_answers_its_own_404(data: dict[str, Any]) -> None:
    server = make_server(data["site"], 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        page = httpx.get(f"{base}/en/nothing/here.html", timeout=30)
        assert page.status_code == 404
        assert soup(page).html["lang"] == "en" and "Page not found" in page.text
        assert "Content-Security-Policy" in page.headers
        icon = httpx.get(f"{base}/static/favicon.svg", timeout=30)
        assert icon.status_code == 200 and icon.text.startswith("<svg")
        unknown = httpx.get(f"{base}/search/index.html", params={"q": OUTSIDER}, timeout=30)
        assert soup(unknown).select_one("p.miss")["data-miss"] == "not_drawn"
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- search
def test_served_search_has_the_frame_of_every_page(server: str, data: dict[str, Any]) -> None:
    home = soup(_get(server, "/site/index.html"))
    as_of = text_of(home.select_one("footer time"))
    assert as_of and as_of != "—"
    page = soup(_get(server, "/site/search/index.html", q=data["usccs"][3][:8]))
    assert page.select("ul.hits li")
    assert text_of(page.select_one("footer time")) == as_of
    assert page.select_one("header.site-header nav.site-nav") is not None
    switch = page.select_one("p.lang-switch a")
    assert switch is not None and switch["hreflang"] == "en"
    english = _get(server, urljoin("/site/search/index.html", switch["href"]))
    assert english.status_code == 200 and soup(english).html["lang"] == "en"
    assert soup(english).select("ul.hits li")  # the query went along


@pytest.mark.parametrize(
    ("query", "miss"),
    [
        (OUTSIDER, "unpublished"),  # in the directory, drawn in no published task
        ("尚未抽到的公司", "unpublished"),  # the same, by its exact name
        (make_uscc(41), "absent"),  # a well-formed code nobody has
        (OUTSIDER[:17] + ("0" if OUTSIDER[17] != "0" else "1"), "absent"),  # wrong check char
        ("没有这家公司", "absent"),
    ],
)
def test_search_tells_no_published_task_from_no_such_entity(
    server: str, query: str, miss: str
) -> None:
    for path in ("/site/search/index.html", "/site/en/search/index.html"):
        page = soup(_get(server, path, q=query))
        assert not page.select("ul.hits li")
        note = page.select_one("p.miss")
        assert note is not None and note["data-miss"] == miss
        assert "尚未抽到的公司" not in text_of(page.select_one("main")).replace(query, "")


# --------------------------------------------------------------------------- task form
def test_the_task_form_offers_pickers_with_names(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        sign_in(client, Role.PLANNER)
        form = soup(client.get("/tasks")).select_one("form.create-task")
    departments = {i["value"]: text_of(i.find_next("label")) for i in
                   form.select("input[name=departments]")}  # fmt: skip
    assert departments["XY"].startswith("消防救援支队")
    items = {i["value"]: text_of(i.find_next("label")) for i in form.select("input[name=items]")}
    assert "消防安全检查" in items["XY-01"] and "重点" in items["XY-01"]
    assert [o["value"] for o in form.select("select[name=strata] option")] == [
        "risk_class", "risk_class,region"]  # fmt: skip
    regions = {o["value"]: text_of(o) for o in form.select("select[name=target_regions] option")}
    assert "新城区" in regions["150102"]
    assert {i["value"] for i in form.select("input[name=target_entity_types]")} == {
        "企业", "个体工商户", "农民专业合作社"}  # fmt: skip
    assert form.select_one("input[name=members_XY]") is not None
    for field in form.select("input:not([type=hidden]), select"):
        assert form.select_one(f"label[for='{field['id']}']") is not None, field


def _post_task(server: str, fields: list[tuple[str, str]]) -> httpx.Response:
    with httpx.Client(base_url=server, timeout=30) as client:
        form: dict[str, list[str]] = {"csrf_token": [csrf_of(sign_in(client, Role.PLANNER))]}
        for name, value in fields:
            form.setdefault(name, []).append(value)
        return client.post("/tasks", data=form)


def test_a_joint_targeted_task_from_the_form(server: str, db: Database) -> None:
    fields = [
        ("code", "蒙联合抽查〔2026〕9号"), ("plan", "P2026J"), ("name", "联合定向抽查"),
        ("departments", "SJ"), ("departments", "XY"), ("members_SJ", "2"), ("members_XY", "1"),
        ("items", "SJ-01"), ("items", "XY-01"), ("strata", "risk_class,region"),
        ("ratio", "0.1"), ("ratio_D", "0.5"),
        ("target_entity_types", "企业"), ("target_risk_classes", "C"),
        ("target_risk_classes", "D"), ("target_regions", "150102"),
        ("target_industries", "F52, F51"), ("target_abnormal", "no"),
        ("exclusion_days", "180"), ("region_rule", "county"),
        ("exclude_previous_inspector", "no"), ("load_slack", "1"), ("seed", "beacon"),
        ("period_start", "2026-03-01"), ("period_end", "2026-11-30"),
    ]  # fmt: skip
    response = _post_task(server, fields)
    assert response.status_code == 303, response.text
    with db.session() as session:
        task = session.exec(select(Task).where(Task.code == "蒙联合抽查〔2026〕9号")).one()
        assert task.departments == ["SJ", "XY"] and task.members == {"SJ": 2, "XY": 1}
        assert [i["code"] for i in task.items] == ["SJ-01", "XY-01"]
        assert task.ratios == {"A": "0.1", "B": "0.1", "C": "0.1", "D": "0.5"}
        assert task.strata_keys == ["risk_class", "region"]
        assert task.target == {
            "entity_types": ["企业"], "industries": ["F51", "F52"], "regions": ["150102"],
            "risk_classes": ["C", "D"], "abnormal": False,
        }  # fmt: skip
        assert (task.exclusion_days, task.region_rule, task.load_slack) == (180, "county", 1)
        assert task.exclude_previous_inspector is False and task.seed_kind == "beacon"
    with httpx.Client(base_url=server, timeout=30) as client:
        sign_in(client, Role.PLANNER)
        page = soup(client.get("/task", params={"code": "蒙联合抽查〔2026〕9号"}))
    assert "消防救援支队" in text_of(page.select_one("dd.departments"))
    assert "消防安全检查" in text_of(page.select_one("dd.items"))
    assert "F52" in text_of(page.select_one("dd.target"))


def test_the_form_refuses_what_the_cli_refuses(server: str, db: Database) -> None:
    before = _count_tasks(db)
    bad = [
        ("code", "T-BAD-FORM"), ("plan", "P2026J"), ("name", "坏任务"),
        ("departments", "XY"), ("members_XY", "1"), ("items", "XY-01"), ("ratio", "0.1"),
        ("target_risk_classes", "Z"), ("target_regions", "999999"),
        ("period_start", "2026-03-01"), ("period_end", "2026-11-30"),
    ]  # fmt: skip
    response = _post_task(server, bad)
    assert response.status_code == 400
    details = " ".join(text_of(li) for li in soup(response).select("div.error ul.details li"))
    assert "form: target.regions:" in details and "form: target.risk_classes:" in details
    assert _count_tasks(db) == before


def test_the_form_and_the_cli_give_the_same_refusals(
    server: str, db: Database, cli: Any, crew: dict[str, str]
) -> None:
    """One validation behind both doors: the same bad task, the same named problems."""
    form = [
        ("code", "T-SAME"), ("plan", "P2026J"), ("name", "坏任务"), ("departments", "XY"),
        ("items", "XY-01"), ("ratio", "0.1"), ("ratio_B", "2"), ("target_risk_classes", "Z"),
        ("target_regions", "999999"), ("target_industries", "??"),
        ("period_start", "2026-03-01"), ("period_end", "2026-11-30"),
    ]  # fmt: skip
    page = _post_task(server, form)
    shown = sorted(
        text_of(li).removeprefix("form: ") for li in soup(page).select("div.error ul.details li")
    )
    result = cli("task", "create", "--code", "T-SAME", "--plan", "P2026J", "--name", "坏任务",
                 "--department", "XY", "--item", "XY-01", "--ratio", "A=0.1", "--ratio", "B=2",
                 "--ratio", "C=0.1", "--ratio", "D=0.1", "--risk-class", "Z",
                 "--region", "999999", "--industry", "??", "--start", "2026-03-01",
                 "--end", "2026-11-30", "--as", crew["planner"], expect=None)  # fmt: skip
    assert result.exit_code != 0
    told = sorted(
        line.strip().removeprefix("- ").removeprefix("task: ")
        for line in result.stderr.splitlines()
        if line.strip().startswith(("- task:", "task:"))
    )
    assert len(shown) == 4 and shown == told, (shown, result.stderr)


def _count_tasks(db: Database) -> int:
    with db.session() as session:
        return len(list(session.exec(select(Task.code))))


# --------------------------------------------------------------------------- result entry


def test_result_entry_names_people_and_stores_uploaded_evidence(
    server: str, db: Database, data: dict[str, Any]
) -> None:
    import hashlib

    from supervision.models import EvidenceFile, InspectionResult

    params = {"task": s.TASK, "uscc": data["inspector_uscc"]}
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    with httpx.Client(base_url=server, timeout=30) as client:
        sign_in(client, Role.INSPECTOR)
        page = client.get("/inspector/result", params=params)
        html = soup(page)
        name = next(e["name"] for e in data["entities"] if e["uscc"] == data["inspector_uscc"])
        assert text_of(html.select_one(".entity-name")) == name
        team = html.select("fieldset.item p.team span.member")
        assert data["inspector_cert"] in {m["data-cert"] for m in team}
        assert all(text_of(m).startswith("执法员") for m in team)  # the name, then the number
        assert html.select_one("form.enter-results")["enctype"] == "multipart/form-data"
        legend = text_of(html.select_one("fieldset.item legend"))
        assert "企业公示信息抽查" in legend and "SJ-01" in legend  # the item's name and code
        form = params | {"csrf_token": csrf_of(page), "item_0": "SJ-01", "code_0": "1",
                         "inspected_on_0": clock.today().isoformat(), "follow_up_0": "none"}  # fmt: skip
        files = [("evidence_0", ("../../现场照片.png", photo, "image/png")),
                 ("evidence_0", ("记录.txt", b"notes", "text/plain"))]  # fmt: skip
        # Without the session's CSRF token: refused, nothing stored.
        forged = client.post("/inspector/result", data=form | {"csrf_token": "x"}, files=files)
        assert forged.status_code == 403
        with db.session() as session:
            assert not list(session.exec(select(EvidenceFile)))
        done = client.post("/inspector/result", data=form, files=files)
        assert done.status_code == 303, done.text
    with db.session() as session:
        row = session.exec(
            select(InspectionResult).where(InspectionResult.uscc == data["inspector_uscc"])
        ).one()
        digest = hashlib.sha256(photo).hexdigest()
        assert row.evidence[0] == {"name": "现场照片.png", "sha256": digest, "size": len(photo)}
        assert row.evidence[1]["name"] == "记录.txt"
        stored = session.get(EvidenceFile, digest)
        assert stored is not None and stored.content == photo
    with httpx.Client(base_url=server, timeout=30) as client:
        sign_in(client, Role.REVIEWER)
        review = soup(client.get("/results/entity", params=params))
    assert digest in text_of(review.select_one("ul.evidence"))
    assert data["inspector_cert"] in {m["data-cert"] for m in review.select("p.team span.member")}


def test_evidence_over_the_limit_is_refused_and_nothing_written(
    server: str, db: Database, data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from supervision.models import EvidenceFile, InspectionResult

    monkeypatch.setenv("SUPERVISION_EVIDENCE_MAX_BYTES", "1000")
    params = {"task": s.TASK, "uscc": data["inspector_uscc"]}
    with httpx.Client(base_url=server, timeout=30) as client:
        sign_in(client, Role.INSPECTOR)
        page = client.get("/inspector/result", params=params)
        form = params | {"csrf_token": csrf_of(page), "item_0": "SJ-01", "code_0": "1",
                         "inspected_on_0": clock.today().isoformat(), "follow_up_0": "none"}  # fmt: skip
        refused = client.post("/inspector/result", data=form,
                              files=[("evidence_0", ("big.bin", b"x" * 1001, "application/x"))])  # fmt: skip
        assert refused.status_code == 400 and "上限" in refused.text
    with db.session() as session:
        assert not list(session.exec(select(EvidenceFile)))
        assert not list(
            session.exec(
                select(InspectionResult).where(InspectionResult.uscc == data["inspector_uscc"])
            )
        )


def test_review_shows_a_corrections_reason_and_the_task_its_seed(
    server: str, data: dict[str, Any]
) -> None:
    with httpx.Client(base_url=server, timeout=30) as client:
        sign_in(client, Role.REVIEWER)
        review = soup(client.get("/results/entity", params={"task": s.TASK,
                                                            "uscc": data["usccs"][0]}))  # fmt: skip
        reason = review.select_one("p.change-reason")
        assert reason is not None and "录入错误" in text_of(reason)
        assert "更正第 1 版" in text_of(reason)
    with httpx.Client(base_url=server, timeout=30) as client:
        sign_in(client, Role.PLANNER)
        task = soup(client.get("/task", params={"code": s.TASK}))
    assert s.SEED in text_of(task.select_one("dd.seed")) and "录入于" in text_of(
        task.select_one("dd.seed")
    )
    rows = task.select("table.assignments tbody tr")
    assert rows and all("执法证号" in text_of(r.select("td")[2]) for r in rows)
    names = {e["uscc"]: e["name"] for e in data["entities"]}
    first = rows[0]
    assert names[first["data-uscc"]] in text_of(first.select("td")[0])


def test_a_confirmed_findings_effects_read_as_words(server: str, data: dict[str, Any]) -> None:
    import re

    with httpx.Client(base_url=server, timeout=30) as client:
        token = csrf_of(sign_in(client, Role.REVIEWER))
        done = client.post(
            f"/review/findings/{data['finding_id']}/confirm",
            data={"csrf_token": token, "uscc": data["flagged_uscc"], "note": "核实属实"},
        )
        assert done.status_code == 303
        page = soup(client.get(f"/review/entity/{data['flagged_uscc']}"))
    effects = page.select(f"#finding-{data['finding_id']} ul.effects li")
    assert {li["data-action"] for li in effects} >= {"add_to_abnormal_list", "raise_risk_class"}
    text = " ".join(text_of(li) for li in effects)
    assert "列入经营异常名录（已提出建议，待审核人决定）" in text and "提高信用风险分类" in text
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), text  # no identifiers
