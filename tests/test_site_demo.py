"""The demo's site step: publishes the demo's plan and draw, and says where to open it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import site_support as s

from supervision.db import Database
from supervision.demo.draws import demo_draw_step
from supervision.demo.load import load_demo
from supervision.demo.province import DemoProvince
from supervision.demo.site import demo_site_step
from supervision.site import urls


def test_demo_site_step(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        load_demo(db, DemoProvince(entities=5000, seed=2026, as_of=date(2026, 3, 2)), fresh=True)
        draws = demo_draw_step(db, as_of=date(2026, 3, 2), seed=2026)
        result = demo_site_step(db, out_dir=tmp_path / "site")
        again = demo_site_step(db, out_dir=tmp_path / "site")
    finally:
        db.dispose()
    assert Path(result["index"]).is_file() and result["url"].startswith("file://")
    assert "supervision serve --out" in result["serve"] and again["written"] == 0
    doc = s.soup(tmp_path / "site" / urls.task_path(draws["drawn"]))
    assert s.text_of(doc.find("h1")).endswith("企业公示信息情况抽查")
    picks = doc.find("table", class_="picks").tbody.find_all("tr")
    assert len(picks) == min(draws["picked"], 500)
    assert (tmp_path / "site" / urls.task_path(draws["committed_only"])).is_file()
