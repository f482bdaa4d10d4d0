"""The published site in a real browser: headless Chromium (Debian's) driven by Playwright.

Opens the home page from the folder itself (file://, as from a USB stick), searches for an
entity with the static site's script, opens its page and saves a screenshot under
test-artifacts/. Skips with a reason only when /usr/bin/chromium is missing outside CI;
in CI (CI=true) a missing browser is a failure.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import site_support as s

from supervision.db import Database
from supervision.site import publish_site, urls

# "slow" runs in CI (see pyproject markers); the integrator may add a dedicated "browser" marker.
pytestmark = pytest.mark.slow


@pytest.fixture
def published(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    db = Database(f"sqlite:///{tmp_path / 'site.db'}")
    try:
        built = s.build(db, tmp_path)
        out = tmp_path / "site"
        publish_site(db, out_dir=out, languages="all")
    finally:
        db.dispose()
    return out, built


def test_search_then_open_the_entity_page(
    browser: Any, published: tuple[Path, dict[str, Any]], artifacts: Path
) -> None:
    site, built = published
    target = built["entities"][6]
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto((site / "index.html").as_uri())
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.fill("input[name=q]", target["name"])
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("#search-results ul.hits li a")
    hits = page.locator("#search-results ul.hits li a")
    assert hits.count() == 1 and hits.first.inner_text() == target["name"]
    hits.first.click()
    page.wait_for_load_state()
    assert page.url.endswith(urls.entity_path(target["uscc"]))
    assert page.locator("h1").inner_text() == target["name"]
    assert "结果待公示" in page.locator("main").inner_text()
    shot = artifacts / "site-entity-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert all(u.startswith("file://") for u in requests), requests  # nothing external
    page.close()


def test_escaped_name_is_text_in_the_browser_and_served_site_search(
    browser: Any, published: tuple[Path, dict[str, Any]], artifacts: Path
) -> None:
    from supervision.site.serve import make_server

    site, built = published
    server = make_server(site, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    dialogs: list[str] = []
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        page = browser.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{base}/en/index.html")
        page.fill("input[name=q]", built["usccs"][0])
        page.click("form[role=search] button[type=submit]")
        page.wait_for_selector("#search-results ul.hits li a")
        link = page.locator("#search-results ul.hits li a").first
        assert link.inner_text() == s.EVIL_NAME
        link.click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == s.EVIL_NAME
        assert page.locator("html").get_attribute("lang") == "en"
        page.screenshot(path=str(artifacts / "site-escaped-name-en.png"), full_page=True)
        page.close()
    finally:
        server.shutdown()
        server.server_close()
    assert dialogs == []  # the name never ran as a script
