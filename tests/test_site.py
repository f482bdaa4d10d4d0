"""The public disclosure site: pages parsed for their content, escaping, links, personal
data, open data, the English build and incremental republishing.

Each test builds a fresh database (SQLite and PostgreSQL) with a drawn task and results
in every state, publishes it, and reads the generated files as a visitor would.
"""

from __future__ import annotations

import csv
import io
import os
import re
import threading
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
import site_support as s
from stdnum.cn import ric

from supervision.db import Database
from supervision.draw.export import verify_export
from supervision.reference.result_codes import result_label
from supervision.reference.workdays import add_workdays
from supervision.site import publish_site, urls
from supervision.site.data import LICENCE, due_date

pytestmark = pytest.mark.usefixtures("crew")


@pytest.fixture
def built(db: Database, tmp_path: Path) -> dict[str, Any]:
    return s.build(db, tmp_path)


@pytest.fixture
def site(db: Database, built: dict[str, Any], tmp_path: Path) -> Path:
    out = tmp_path / "site"
    report = publish_site(db, out_dir=out, languages="all", strict=True)
    assert report.written == report.files > 0
    return out


def _task_page(site: Path, code: str = s.TASK, lang: str = "") -> Path:
    return site / lang / urls.task_path(code)


def _files(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*") if p.is_file() and p.name != ".manifest.json")


# --------------------------------------------------------------------------- pages
def test_home_lists_latest_notices_and_has_a_search_form(site: Path) -> None:
    doc = s.soup(site / "index.html")
    assert doc.html["lang"] == "zh-CN"
    latest = doc.find("section", attrs={"aria-labelledby": "latest-h"})
    titles = [s.text_of(li) for li in latest.find_all("li")]
    assert any(s.TASK in t for t in titles)
    assert any("抽查结果公告" in t for t in titles)  # the published result
    assert not any(s.DRAFT in t for t in titles)
    form = doc.find("form", attrs={"role": "search"})
    assert form["action"] == "search/index.html" and form.find("input")["name"] == "q"
    assert doc.find("main") and doc.find("nav") and doc.find("footer")


def test_task_notice_shows_commitment_draw_fairness_and_verification(
    db: Database, site: Path
) -> None:
    from sqlmodel import select

    from supervision.models import DrawPick, Task

    with db.session() as session:
        task = session.get(Task, s.TASK)
        picks = session.exec(select(DrawPick).where(DrawPick.task_code == s.TASK)).all()
        assert task is not None
    doc = s.soup(_task_page(site))
    facts = {s.text_of(dt): s.text_of(dt.find_next_sibling("dd")) for dt in doc.find_all("dt")}
    assert facts["随机种子"] == s.SEED
    assert facts["参数摘要（SHA-256）"] == task.parameters_digest
    assert facts["名录摘要（SHA-256）"] == task.population_digest
    assert facts["抽查对象总数"] == str(task.population_size)
    assert facts["种子录入时间"] and facts["锁定时间"] and facts["抽取时间"]
    assert facts["检查期间"] == "2026-03-01 – 2026-06-30"
    table = doc.find("table", class_="picks")
    rows = [[s.text_of(td) for td in tr.find_all("td")] for tr in table.tbody.find_all("tr")]
    assert len(rows) == len(picks) == 12
    by_uscc = {r[3]: r for r in rows}
    for pick in picks:
        assert by_uscc[pick.uscc][2] == pick.ticket
        assert "执法证号 SJ" in by_uscc[pick.uscc][6]  # inspectors by name and certificate
    strata = doc.find("caption", string="各分层名录").find_parent("table")
    assert len(strata.tbody.find_all("tr")) == 4
    assert doc.find("h2", string="公平性报告")
    items = doc.find("caption", string="抽查事项").find_parent("table")
    assert "《企业信息公示暂行条例》第十四条" in s.text_of(items)
    code = doc.find("section", class_="verify").find("pre").get_text()
    assert "from consistent_sampler import sampler" in code


def test_verify_download_is_the_export_and_it_reproduces(site: Path, tmp_path: Path) -> None:
    doc = s.soup(_task_page(site))
    links = [a["href"] for a in doc.find("section", class_="verify").find_all("a")]
    assert any(h.endswith("/seed.txt") for h in links)
    folder = site / urls.export_dir(s.TASK)
    assert (folder / "seed.txt").read_text(encoding="utf-8") == s.SEED
    assert verify_export(folder) == []


def test_items_plans_and_task_list(site: Path) -> None:
    items = s.soup(site / "items" / "index.html")
    row = items.find("tr", id="item-SJ-01-1")
    assert "《企业信息公示暂行条例》第十四条" in s.text_of(row)
    plans = s.soup(site / "plans" / "index.html")
    assert "2026年度抽查计划" in s.text_of(plans.find("main"))
    tasks = s.text_of(s.soup(site / "tasks" / "index.html").find("main"))
    assert s.TASK in tasks and s.UNDRAWN in tasks and s.DRAFT not in tasks


def test_committed_task_not_drawn_says_so(site: Path) -> None:
    page = _task_page(site, s.UNDRAWN)
    assert "/" not in urls.slug(s.UNDRAWN) and page.is_file()
    doc = s.soup(page)
    assert doc.find("p", class_="pending")
    assert not doc.find("table", class_="picks")


def test_entity_page_masks_the_person_and_shows_history(site: Path, built: dict[str, Any]) -> None:
    usccs = built["usccs"]
    doc = s.soup(site / urls.entity_path(usccs[0]))
    facts = {s.text_of(dt): s.text_of(dt.find_next_sibling("dd")) for dt in doc.find_all("dt")}
    assert facts["法定代表人（负责人、经营者）"] == "李某英"
    assert facts["统一社会信用代码"] == usccs[0]
    result = doc.find("div", class_="result")
    wording = result_label("A", "B").zh
    assert wording in s.text_of(result)
    assert "更正" in s.text_of(result) and "录入错误" in s.text_of(result)
    reply = s.text_of(result.find("blockquote", class_="reply"))
    assert "我公司已补报年报" in reply and "李某英" in reply and s.PHONE not in reply
    assert "责令限期整改" in s.text_of(result)


def test_drawn_entity_without_published_result_shows_pending_and_due_date(
    site: Path, built: dict[str, Any]
) -> None:
    due = add_workdays(date(2026, 6, 30), 20).isoformat()
    for uscc in built["usccs"][1:3]:  # entered / approved, not published
        doc = s.soup(site / urls.entity_path(uscc))
        history = doc.find("article", class_="history-entry")
        assert doc.find("span", class_="pending").get_text() == "结果待公示"
        assert due in s.text_of(history)


def test_due_date_of_an_unknown_calendar_year_does_not_crash() -> None:
    # Before the calendar package's first year nothing is known; after its last year the
    # date is provisional (the earliest possible one) and says which year made it so.
    assert due_date(date(2003, 6, 30)) == ("2003-06-30", False, [])
    text, known, provisional = due_date(date(2026, 12, 20))
    assert known and provisional == [2027] and text.startswith("2027-01")


def test_result_notice_per_task(site: Path, built: dict[str, Any]) -> None:
    doc = s.soup(site / urls.task_results_path(s.TASK))
    published = doc.find("section", attrs={"aria-labelledby": "published-h"})
    assert len(published.find_all("div", class_="result")) == 1
    pending = doc.find("ul", class_="pending-list")
    assert len(pending.find_all("li")) == 11
    css = (site / "static" / "site.css").read_text(encoding="utf-8")
    assert "@media print" in css


def test_statistics_are_svg_charts_made_here(site: Path) -> None:
    doc = s.soup(site / "stats" / "index.html")
    charts = doc.find_all("svg")
    assert len(charts) >= 4
    for chart in charts:
        assert chart.find("title") and chart.find_all("rect")
    risk = doc.find("svg", id="chart-risk")
    assert "A: 3" in risk.find("desc").get_text()


# --------------------------------------------------------------------------- escaping
def test_names_with_markup_and_quotes_come_out_escaped(site: Path, built: dict[str, Any]) -> None:
    page = site / urls.entity_path(built["usccs"][0])
    raw = page.read_text(encoding="utf-8")
    assert "<script>alert" not in raw
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&#34;&#39;" in raw
    doc = s.soup(page)
    assert s.text_of(doc.find("h1")) == s.EVIL_NAME
    assert doc.find_all("script") == []  # the entity page has no script at all
    for path in _files(site):
        if path.suffix == ".html":
            parsed = s.parse(path)
            assert all(sc.get("src") for sc in parsed.scripts), path  # no inline scripts
            assert "<script>alert" not in path.read_text(encoding="utf-8"), path


# --------------------------------------------------------------------------- links
ALLOWED_EXTERNAL = {LICENCE["url"]}


def test_link_checker_walks_the_whole_site(site: Path) -> None:
    checked = 0
    pages = [p for p in _files(site) if p.suffix == ".html"]
    ids = {p: s.parse(p).ids for p in pages}
    for page in pages:
        parsed = s.parse(page)
        assert parsed.lang in ("zh-CN", "en"), page
        for tag, url, _attrs in parsed.links:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https"):
                assert url in ALLOWED_EXTERNAL and tag == "a", f"{page}: external {url}"
                continue
            assert not parts.scheme and not parts.netloc, f"{page}: {url}"
            if not parts.path:
                assert parts.fragment in ids[page], f"{page}: #{parts.fragment}"
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_file(), f"{page}: broken link {url}"
            assert site.resolve() in target.parents, f"{page}: {url} leaves the site"
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in s.parse(target).ids, f"{page}: {url}"
            checked += 1
    assert checked > 500
    feed = (site / "feed.atom").read_text(encoding="utf-8")
    for href in re.findall(r'href="([^"]+)"', feed):
        assert (site / unquote(href)).is_file(), href


# --------------------------------------------------------------------------- personal data
def _id_numbers(text: str) -> list[str]:
    return [
        m
        for m in re.findall(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])", text)
        if ric.is_valid(m)
    ]


# Phone numbers as people write them: not inside a longer code or a hex digest.
PHONE_PATTERN = re.compile(r"(?<![0-9A-Za-z])(?:1[3-9]\d{9}|0\d{2,3}-\d{7,8})(?![0-9A-Za-z])")


def test_no_personal_data_or_unpublished_work_anywhere(db: Database, site: Path) -> None:
    from sqlmodel import select

    from supervision.models import Entity

    assert ric.is_valid(s.ID_NUMBER)  # the planted ID number is a real-looking one
    with db.session() as session:  # every natural person of the directory
        people = {name for name in session.exec(select(Entity.legal_rep)) if name}
    assert people == set(s.PEOPLE)
    scanned = 0
    for path in _files(site):
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert _id_numbers(text) == [], path
        assert not PHONE_PATTERN.search(text), (path, PHONE_PATTERN.search(text))
        for person in people:
            assert person not in text, (path, person)
        for secret in s.SECRETS:
            assert secret not in text, (path, secret)
        scanned += 1
    assert scanned > 40


# --------------------------------------------------------------------------- open data
def test_open_data_csv_and_json(site: Path, built: dict[str, Any]) -> None:
    raw = (site / "data" / "draws.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 12
    names = {r["统一社会信用代码(uscc)"]: r["名称(name)"] for r in rows}
    assert names[built["usccs"][1]] == "'" + s.FORMULA_NAME  # formula neutralised
    assert names[built["usccs"][0]] == s.EVIL_NAME
    doc = s.load_json(site / "data" / "results.json")
    assert doc["licence"] == LICENCE and doc["id_fields"] == ["task_code", "uscc", "item_code"]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$", doc["extracted_at"])
    assert [(r["task_code"], r["uscc"], r["version"]) for r in doc["records"]] == [
        (s.TASK, built["usccs"][0], 2)
    ]
    tasks = s.load_json(site / "data" / "tasks.json")["records"]
    assert {t["task_code"] for t in tasks} == {s.TASK, s.UNDRAWN}
    per_task = site / urls.task_data_dir(s.TASK) / "draw.json"
    assert len(s.load_json(per_task)["records"]) == 12
    feed = (site / "feed.atom").read_text(encoding="utf-8")
    assert "<feed" in feed and f"tag:supervision,2024:result:{quote(s.TASK, safe=':')}" in feed
    catalog = s.load_json(site / "data" / "index.json")
    assert {f["path"] for f in catalog["files"]} >= {"data/items.csv", "data/results.csv"}


# --------------------------------------------------------------------------- languages
def test_english_build_is_translated_and_lang_tagged(site: Path) -> None:
    doc = s.soup(site / "en" / "index.html")
    assert doc.html["lang"] == "en"
    assert s.text_of(doc.find("h1")) == "Double Random, One Public: disclosure site"
    switch = doc.find("p", class_="lang-switch").a
    assert switch["hreflang"] == "zh-CN" and switch["href"] == "../index.html"
    task = s.soup(_task_page(site, lang="en"))
    facts = [s.text_of(dt) for dt in task.find_all("dt")]
    assert "Seed" in facts and "Parameters digest (SHA-256)" in facts
    # No interface text in Chinese: every <dt>, <th>, <caption>, label and button is English.
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for page in (site / "en").rglob("*.html"):
        d = s.soup(page)
        for tag in d.find_all(["dt", "th", "caption", "label", "button"]):
            assert not cjk.search(s.text_of(tag)), (page, s.text_of(tag))


def test_an_untranslated_message_fails_the_english_build() -> None:
    from supervision.site.environment import environment, language
    from supervision.site.i18n import UntranslatedMessage

    env = environment()
    english = language("en", strict=True)
    assert env.from_string('{{ _("首页") }}').render(english) == "Home"
    with pytest.raises(UntranslatedMessage):
        env.from_string('{{ _("一条没有翻译的消息") }}').render(english)


def test_every_extracted_message_has_an_english_translation() -> None:
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    from supervision.site.i18n import catalog_path

    top = Path(__file__).resolve().parent.parent
    method_map = [("supervision/site/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    messages = {
        m[2] if isinstance(m[2], str) else m[2][0]
        for m in extract_from_dir(str(top), method_map, options_map=options)
    }
    assert "抽查任务公告" in messages and "主体类型" in messages
    with catalog_path("en").open("rb") as fh:
        catalog = read_po(fh, locale="en")
    missing = sorted(m for m in messages if not (catalog.get(m) and catalog.get(m).string))
    assert missing == [], f"untranslated in messages.po: {missing}"


# --------------------------------------------------------------------------- incremental
def _mtimes(site: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}


def test_republish_with_nothing_changed_writes_nothing(
    db: Database, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jinja2 import Template

    rendered: list[str | None] = []
    original = Template.render

    def counting(self: Template, *args: Any, **kwargs: Any) -> str:
        rendered.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Template, "render", counting)
    before = _mtimes(site)
    report = publish_site(db, out_dir=site, languages="all", strict=True)
    assert rendered == ["feed.xml"]  # unchanged contexts: no page is even rendered
    assert report.written == 0 and report.removed == 0
    assert report.unchanged == report.files
    assert _mtimes(site) == before


def test_republish_rewrites_only_what_changed(
    db: Database, site: Path, built: dict[str, Any]
) -> None:
    from supervision.models import Entity

    uscc = built["usccs"][5]
    with db.session() as session:
        entity = session.get(Entity, uscc)
        assert entity is not None
        entity.address = "新地址路1号"
        session.add(entity)
    report = publish_site(db, out_dir=site, languages="all", keep_paths=True)
    changed = set(report.written_paths)
    assert urls.entity_path(uscc) in changed and "en/" + urls.entity_path(uscc) in changed
    assert not any(p.startswith("data/draws/") for p in changed)
    assert urls.task_path(s.TASK) not in changed
    assert len(changed) <= 4


def test_a_single_language_build_and_removal_of_stale_pages(db: Database, tmp_path: Path,
                                                           built: dict[str, Any]) -> None:  # fmt: skip
    out = tmp_path / "zh-only"
    publish_site(db, out_dir=out, languages="zh")
    assert not (out / "en").exists()
    assert s.soup(out / "index.html").find("p", class_="lang-switch") is None
    stale = out / "entities" / "91000000000000000X" / "index.html"
    manifest = (out / ".manifest.json").read_text(encoding="utf-8")
    stale.parent.mkdir(parents=True)
    stale.write_text("old", encoding="utf-8")
    (out / ".manifest.json").write_text(
        manifest.replace(
            '"files": {', '"files": {\n"entities/91000000000000000X/index.html": "x",'
        ),
        encoding="utf-8",
    )
    report = publish_site(db, out_dir=out, languages="zh")
    assert report.removed == 1 and not stale.parent.exists()


# --------------------------------------------------------------------------- CLI and server
def test_publish_command(cli: Any, built: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "cli-site"
    first = cli("publish", "--as", "cli-reviewer", "--out", str(out), "--lang", "zh")
    assert "Published" in first.stdout and (out / "index.html").is_file()
    again = cli("publish", "--as", "cli-reviewer", "--out", str(out), "--lang", "zh", "--json")
    assert '"written": 0' in again.stdout
    missing = cli("serve", "--out", str(tmp_path / "nothing"), expect=1)
    assert "supervision publish" in missing.stderr


def test_served_site_searches_without_javascript(site: Path, built: dict[str, Any]) -> None:
    from supervision.site.serve import make_server

    server = make_server(site, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with urllib.request.urlopen(
            f"{base}/search/index.html?q={quote('呼和浩特测试商贸有限公司5')}"
        ) as r:
            html = r.read().decode("utf-8")
        assert urls.entity_path(built["usccs"][4]) in html
        with urllib.request.urlopen(f"{base}/en/search/?q={built['usccs'][6][:12]}") as r:
            english = r.read().decode("utf-8")
        assert 'lang="en"' in english and "results found" in english
        with urllib.request.urlopen(f"{base}/index.html") as r:
            assert r.status == 200
    finally:
        server.shutdown()
        server.server_close()


def test_slugs_are_safe_and_distinct() -> None:
    assert urls.slug("T2026-01") == "T2026-01"
    assert urls.slug("蒙市监抽查〔2026〕1号") == "蒙市监抽查〔2026〕1号"
    risky = ["a/b", "a_b", "../x", "a?b", "a b", "a%2Fb", ".hidden"]
    slugs = [urls.slug(code) for code in risky]
    assert len(set(slugs)) == len(slugs)
    for value in slugs:
        assert not re.search(r'[\\/:*?"<>|%#&+;\s]', value) and not value.startswith(".")
    assert os.sep not in "".join(slugs)


def test_forked_workers_write_the_same_site(db: Database, site: Path, tmp_path: Path) -> None:
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("fork() is not available on this platform: publishing renders serially")
    out = tmp_path / "parallel"
    report = publish_site(db, out_dir=out, languages="all", strict=True, workers=2)
    assert report.written == report.files
    stamped = re.compile(rb'"extracted_at": ?"[^"]*"')
    for path in _files(site):
        twin = out / path.relative_to(site)
        assert stamped.sub(b"", twin.read_bytes()) == stamped.sub(b"", path.read_bytes()), path
    assert len(_files(out)) == len(_files(site))
    again = publish_site(db, out_dir=out, languages="all", workers=2)
    assert again.written == 0 and again.unchanged == again.files
