"""What the public site publishes of a draw: no plain USCC of an entity that was not drawn,
and no credit risk class of any entity that was not drawn (issue #20).

The whole published site (pages, verification packs, open data, feeds) of a demo province is
scanned byte by byte, gzip included.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from supervision.db import Database
from supervision.demo.draws import demo_draw_step
from supervision.demo.load import load_demo
from supervision.demo.province import DemoProvince
from supervision.demo.site import demo_site_step
from supervision.models import DrawPick, Entity, TaskPopulation
from supervision.site import urls

CLASS_FIELDS = {"risk_class", "信用风险分类", "信用风险类别", "class"}


def _texts(root: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        texts[path.relative_to(root).as_posix()] = data.decode("utf-8", errors="replace")
    return texts


def _records(name: str, text: str) -> list[dict[str, Any]]:
    """The records of a published JSON or CSV file (dicts at any depth)."""
    found: list[dict[str, Any]] = []
    if name.endswith(".csv") or name.endswith(".csv.gz"):
        found.extend(csv.DictReader(io.StringIO(text)))
    elif name.endswith(".json") or name.endswith(".json.gz"):

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                found.append(node)
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(json.loads(text))
    return found


def test_published_site_names_no_unselected_entity_and_no_class(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        load_demo(db, DemoProvince(entities=3000, seed=2026, as_of=date(2026, 3, 2)), fresh=True)
        draws = demo_draw_step(db, as_of=date(2026, 3, 2), seed=2026)
        demo_site_step(db, out_dir=tmp_path / "site")
        with db.session() as session:
            drawn = set(session.execute(select(DrawPick.uscc)).scalars())
            population = set(
                session.execute(
                    select(TaskPopulation.uscc).where(TaskPopulation.task_code == draws["drawn"])
                ).scalars()
            )
            everyone = set(session.execute(select(Entity.uscc)).scalars())
    finally:
        db.dispose()
    for prefix, words in (("", "化名"), ("en/", "Pseudonyms")):
        page = BeautifulSoup(
            (tmp_path / "site" / prefix / urls.task_path(draws["drawn"])).read_text("utf-8"),
            "html.parser",
        )
        notice = page.select_one("dd.disclosure")
        assert notice is not None and notice["data-disclosure"] == "pseudonymous"
        assert notice.get_text(strip=True) == words
        note = page.select_one("p.disclosure-note").get_text()
        assert ("SHA-256" in note) and (("分层" in note) if not prefix else ("stratum" in note))
    unselected = population - drawn
    assert len(unselected) > 1000 and drawn
    texts = _texts(tmp_path / "site")
    assert any(name.endswith("selection.csv") for name in texts)  # the pack is published
    assert any(name.startswith("population/") or "/population/" in name for name in texts)
    leaks = {
        name: [u for u in unselected if u in text][:3]
        for name, text in texts.items()
        if any(u in text for u in unselected)
    }
    assert leaks == {}
    # No record anywhere pairs an entity with a class, except the stratum of a drawn one.
    for name, text in texts.items():
        for record in _records(name, text):
            assert not CLASS_FIELDS & set(record), (name, record)
            for value in record.values():
                if isinstance(value, str) and value in everyone - drawn:
                    raise AssertionError(f"{name} names the unselected entity {value}")


def test_publishing_authority_in_header_footer_feed_and_open_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    authority = "内蒙古自治区市场监督管理局"
    monkeypatch.setenv("SUPERVISION_PUBLISHING_AUTHORITY", authority)
    db = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        load_demo(db, DemoProvince(entities=600, seed=2026, as_of=date(2026, 3, 2)), fresh=True)
        demo_draw_step(db, as_of=date(2026, 3, 2), seed=2026)
        demo_site_step(db, out_dir=tmp_path / "site")
    finally:
        db.dispose()
    site = tmp_path / "site"
    for page in (site / "index.html", site / "en" / "index.html"):
        doc = BeautifulSoup(page.read_text("utf-8"), "html.parser")
        assert doc.select_one("header .site-authority").get_text(strip=True) == authority
        assert doc.select_one("footer .publisher .authority").get_text(strip=True) == authority
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ElementTree.parse(site / "feed.atom").getroot()
    names = {n.text for n in feed.iter(f"{atom}name")}
    assert names == {authority}
    index = json.loads((site / "data" / "index.json").read_text("utf-8"))
    assert index["publisher"] == authority
    dataset = next((site / "data").glob("*.json"))
    assert json.loads(dataset.read_text("utf-8"))["publisher"] == authority
