"""细则公开: the public item list shows each item's checklist (points, method, legal basis) in
the Chinese and the English pages, and a result notice names the points that failed in
words (their content, never the inspector's notes). Pages parsed with BeautifulSoup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import site_support as s
from test_results_checklist import CHECKLIST

from supervision import clock
from supervision.db import Database
from supervision.results.entry import enter_results
from supervision.results.inputs import ItemInput
from supervision.results.service import publish_results, review_results
from supervision.site import publish_site, urls

NOTE = "门卫说老板出差了"


@pytest.fixture
def built(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    folder = tmp_path / "checklists"
    folder.mkdir()
    (folder / "SJ.yaml").write_text(CHECKLIST, encoding="utf-8")
    monkeypatch.setenv("SUPERVISION_CHECKLISTS_DIR", str(folder))
    return s.build(db, tmp_path)


def test_the_item_list_shows_each_checklist(
    db: Database, built: dict[str, Any], tmp_path: Path
) -> None:
    site = tmp_path / "site"
    publish_site(db, out_dir=site)
    zh = s.soup(site / "items" / "index.html").select_one("section#checklist-SJ-01-1")
    en = s.soup(site / "en" / "items" / "index.html").select_one("section#checklist-SJ-01-1")
    assert zh is not None and en is not None
    rows = [[s.text_of(td) for td in tr.find_all("td")] for tr in zh.select("tbody tr")]
    assert rows == [
        ["P1", "是否按时公示年度报告", "书面检查", "《企业信息公示暂行条例》第八条"],
        ["P2", "能否在登记住所联系到企业", "实地核查", "《企业信息公示暂行条例》第十七条"],
    ]
    assert "检查实施细则" in s.text_of(zh.find("h2"))
    english = [[s.text_of(td) for td in tr.find_all("td")] for tr in en.select("tbody tr")]
    assert [r[1] for r in english] == [
        "whether the annual report was published on time",
        "whether the company is reached at its registered address",
    ]
    assert "Inspection checklist" in s.text_of(en.find("h2"))
    assert all(r[2] and not any("\u4e00" <= c <= "\u9fff" for c in r[2]) for r in english)
    headers = [s.text_of(th) for th in en.select("thead th")]
    assert headers == ["Point", "What is inspected", "Methods", "Legal basis"]


def test_the_checklists_are_open_data(db: Database, built: dict[str, Any], tmp_path: Path) -> None:
    """data/checklists.csv and .json: one row per check point, listed in data/index.json and
    linked from the open-data page."""
    import csv
    import io
    import json

    site = tmp_path / "site"
    publish_site(db, out_dir=site, languages="zh")
    doc = json.loads((site / "data" / "checklists.json").read_text(encoding="utf-8"))
    assert doc["dataset"] == "checklists"
    rows = doc["records"]
    assert [(r["item_code"], r["point"], r["method"]) for r in rows] == [
        ("SJ-01", "P1", "书面检查"), ("SJ-01", "P2", "实地核查"),
    ]  # fmt: skip
    text = (site / "data" / "checklists.csv").read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert len(table) == 3 and "能否在登记住所联系到企业" in table[2]
    index = json.loads((site / "data" / "index.json").read_text(encoding="utf-8"))
    assert {"data/checklists.csv", "data/checklists.json"} <= {f["path"] for f in index["files"]}
    links = {a["href"] for a in s.soup(site / "data" / "index.html").find_all("a")}
    assert any(h.endswith("data/checklists.json") for h in links), links


def test_a_result_notice_names_the_failed_points_in_words(
    db: Database, built: dict[str, Any], tmp_path: Path
) -> None:
    uscc = built["usccs"][7]
    answers = {"P1": "符合", "P2": {"answer": "不符合", "note": NOTE}}
    item = ItemInput(item="SJ-01", checklist=answers, inspected_on=clock.today(),
                     follow_up="abnormal_list")  # fmt: skip
    with db.session() as session:
        enter_results(session, task_code=s.TASK, uscc=uscc, items=[item], actor="录入员")
    with db.session() as session:
        review_results(session, task_code=s.TASK, uscc=uscc, approve=True, reason=None,
                       actor="审核员")  # fmt: skip
        publish_results(session, task_code=s.TASK, uscc=uscc, actor="审核员")
    site = tmp_path / "site"
    publish_site(db, out_dir=site)
    zh = s.soup(site / urls.entity_path(uscc)).select_one("div.result ul.failed-points")
    en = s.soup(site / "en" / urls.entity_path(uscc)).select_one("div.result ul.failed-points")
    assert zh is not None and en is not None
    assert [s.text_of(li) for li in zh.find_all("li")] == ["能否在登记住所联系到企业"]
    assert [s.text_of(li) for li in en.find_all("li")] == [
        "whether the company is reached at its registered address"
    ]
    page = s.text_of(s.soup(site / urls.entity_path(uscc)))
    assert "不符合的检查要点" in page and NOTE not in page
    assert "Check points not met" in s.text_of(s.soup(site / "en" / urls.entity_path(uscc)))
