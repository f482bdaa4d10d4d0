"""Every public page type and every console page in Chromium, at 1366 px and on a 390-px phone.

For each page and width: no horizontal scrolling (the document is no wider than the
viewport), a full-page screenshot saved under test-artifacts/pages/, and axe-core (shipped
by axe-playwright-python) reports no serious or critical violation. The public site is
served beside the console (under /site/), as in production, so its 404 page and its
server-rendered search are covered too. Skips only when /usr/bin/chromium is missing
outside CI; in CI (CI=true) a missing browser is a failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import site_support as s
from test_console_support import DRAFT_TASK, PASSWORD, ConsoleServer, build_console

from supervision.db import Database
from supervision.site import publish_site, urls

pytestmark = pytest.mark.slow

WIDTHS = (1366, 390)
SERIOUS = {"serious", "critical"}
#: Body cells of tables with a header row that carry no data-label (the card's label on a phone).
UNLABELLED_CELLS = """() => Array.from(document.querySelectorAll("main table"))
  .filter(t => t.tHead)
  .flatMap(t => Array.from(t.tBodies).flatMap(b => Array.from(b.querySelectorAll("td"))))
  .filter(td => !td.hasAttribute("colspan") && !(td.getAttribute("data-label") || "").trim())
  .slice(0, 5).map(td => td.closest("table").className + ": " + td.textContent.slice(0, 40))"""


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A console over the site test province, with its public site under /site/."""
    tmp = tmp_path_factory.mktemp("pages")
    db = Database(f"sqlite:///{tmp / 'console.db'}")
    data = build_console(db, tmp)
    publish_site(db, out_dir=tmp / "site", languages="all", workers=1)
    with ConsoleServer(db, site_dir=tmp / "site") as base:
        yield base, data | {"site": tmp / "site"}
    db.dispose()


@pytest.fixture(scope="module")
def chromium() -> Any:
    """One browser for the module (the function-scoped ``browser`` fixture per test is slow)."""
    from conftest import CHROMIUM, CHROMIUM_ARGS, IN_CI

    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("/usr/bin/chromium is missing (CI=true: the browser test must run)")
        pytest.skip("/usr/bin/chromium is missing: apt-get install -y chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _shot_name(label: str, width: int) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)
    return f"{safe}-{width}.png"


def check_page(page: Any, url: str, *, label: str, artifacts: Path, status: int = 200) -> None:
    """Open `url` at each width: no overflow at 390, a screenshot, no serious axe violation."""
    from axe_playwright_python.sync_playwright import Axe

    folder = artifacts / "pages"
    folder.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        response = page.goto(url)
        assert response is not None and response.status == status, (
            url,
            response and response.status,
        )
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"{label} at {width}px scrolls sideways: {widths}"
        # On a phone a row reads as a card: every cell needs its column's name.
        unlabelled = page.evaluate(UNLABELLED_CELLS)
        assert not unlabelled, f"{label}: table cells without data-label: {unlabelled}"
        page.screenshot(path=str(folder / _shot_name(label, width)), full_page=True)
        results = Axe().run(page)
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(str(n["target"]) for n in v["nodes"][:5])
            for v in results.response["violations"]
            if v.get("impact") in SERIOUS
        ]
        assert not serious, f"{label} at {width}px:\n" + "\n".join(serious)


def _public_pages(data: dict[str, Any]) -> list[tuple[str, str, int]]:
    entity = data["usccs"][3]
    task = quote(s.TASK)
    pages = [
        ("home", "index.html", 200),
        ("items", "items/index.html", 200),
        ("plans", "plans/index.html", 200),
        ("tasks", "tasks/index.html", 200),
        ("task", f"tasks/{task}/index.html", 200),
        ("results", "results/index.html", 200),
        ("task-results", f"results/{task}/index.html", 200),
        ("entity", quote(urls.entity_path(entity)), 200),
        ("stats", "stats/index.html", 200),
        ("data", "data/index.html", 200),
        ("search", "search/index.html", 200),
        ("search-hits", f"search/index.html?q={quote(entity[:6])}", 200),
        ("search-none", "search/index.html?q=nothing-like-this", 200),
        ("not-found", "no/such/page.html", 404),
    ]
    return pages + [(f"en-{label}", f"en/{path}", code) for label, path, code in pages]


def test_public_pages(console: Any, chromium: Any, artifacts: Path) -> None:
    base, data = console
    page = chromium.new_page()
    failures = []
    for label, path, status in _public_pages(data):
        try:
            check_page(page, f"{base}/site/{path}", label=f"site-{label}", artifacts=artifacts,
                       status=status)  # fmt: skip
        except AssertionError as exc:
            failures.append(str(exc))
    page.close()
    assert not failures, "\n\n".join(failures)


def _signed_in(chromium: Any, base: str, username: str) -> Any:
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state()
    return page


def _console_pages(data: dict[str, Any]) -> dict[str, list[tuple[str, str, int]]]:
    task = quote(s.TASK, safe="")
    flagged = data["flagged_uscc"]
    mine = data["inspector_uscc"]
    return {
        "admin": [
            ("dashboard-admin", "/", 200),
            ("users", "/users", 200),
            ("directories", "/admin/directories", 200),
            ("directory-entities", "/admin/directories/entities", 200),
            ("rules", "/admin/rules", 200),
            ("rule", "/admin/rules/rule?id=samr.annual-report-not-filed", 200),
            ("console-not-found", "/no/such/page", 404),
            ("forbidden", "/tasks", 403),
        ],
        "reviewer": [
            ("dashboard-reviewer", "/", 200),
            ("review-queue", "/review", 200),
            ("review-entity", f"/review/entity/{flagged}", 200),
            ("results-review", "/results", 200),
            ("result-review", f"/results/entity?task={task}&uscc={mine}", 200),
        ],
        "planner": [
            ("dashboard-planner", "/", 200),
            ("tasks", "/tasks", 200),
            ("task-draft", f"/task?code={quote(DRAFT_TASK, safe='')}", 200),
            ("task-drawn", f"/task?code={task}", 200),
            ("fairness", f"/task/fairness?code={task}", 200),
            ("task-missing", f"/task?code={quote('no-such-task')}", 404),
        ],
        "inspector": [
            ("dashboard-inspector", "/", 200),
            ("inspector", "/inspector", 200),
            ("result-entry", f"/inspector/result?task={task}&uscc={mine}", 200),
        ],
    }


def test_console_pages(console: Any, chromium: Any, artifacts: Path) -> None:
    base, data = console
    failures = []
    page = chromium.new_page()
    try:
        check_page(page, f"{base}/login", label="console-login", artifacts=artifacts)
    except AssertionError as exc:
        failures.append(str(exc))
    page.close()
    for role, pages in _console_pages(data).items():
        page = _signed_in(chromium, base, role)
        for label, path, status in pages:
            try:
                check_page(page, base + path, label=f"console-{label}", artifacts=artifacts,
                           status=status)  # fmt: skip
            except AssertionError as exc:
                failures.append(str(exc))
        page.context.close()
    assert not failures, "\n\n".join(failures)


def test_static_search_says_why_nothing_matched(console: Any, chromium: Any) -> None:
    """From the folder itself (file://), the script tells a wrong check character ("no
    such entity") from a code the site does not list (not drawn in a published task)."""
    from factories import make_uscc

    base, data = console
    site: Path = data["site"]
    page = chromium.new_page()
    good = make_uscc(77)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    for query, miss in ((good, "not_drawn"), (bad, "absent"), (data["usccs"][3], None)):
        page.goto((site / "search" / "index.html").as_uri() + "?q=" + query)
        if miss is None:
            page.wait_for_selector("#search-results ul.hits li")
            continue
        page.wait_for_selector("#search-results p.miss")
        assert page.locator("#search-results p.miss").get_attribute("data-miss") == miss
    # On the served site the server's answer stands (the script leaves it alone): the
    # console knows from the directory that no entity has this name.
    page.goto(f"{base}/site/search/index.html?q=nothing-like-this")
    page.wait_for_load_state("load")
    assert page.locator("#search-results p.miss").get_attribute("data-miss") == "absent"
    page.close()
