"""A publish is safe beside other work: language is a property of each render (search
pages rendered in one language while a publish renders the other never change the
language of a published page), and a page is written whole or not at all.

The Environment is shared by every thread of a process (the console serves public search
while a reviewer's publish rebuilds the site), so the test runs searches in threads, in
both languages, for the whole length of a publish, and then parses every page.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import site_support as s
from bs4 import BeautifulSoup

from supervision.db import Database
from supervision.site import publish_site
from supervision.site.serve import render_search


@pytest.fixture
def built(db: Database, tmp_path: Path) -> dict[str, Any]:
    return s.build(db, tmp_path)


def _language_of(page: Path) -> tuple[str, str]:
    soup = BeautifulSoup(page.read_bytes(), "html.parser")
    html = soup.find("html")
    assert html is not None
    title = soup.find("title")
    return str(html.get("lang")), title.get_text() if title else ""


def _pages(site: Path) -> dict[str, tuple[str, str]]:
    return {p.relative_to(site).as_posix(): _language_of(p) for p in sorted(site.rglob("*.html"))}


def test_searches_in_other_languages_during_a_publish_change_no_page(
    db: Database, built: dict[str, Any], tmp_path: Path
) -> None:
    reference = tmp_path / "reference"
    publish_site(db, out_dir=reference, languages="all", workers=1)
    expected = _pages(reference)
    assert {lang for lang, _ in expected.values()} == {"zh-CN", "en"}
    stop = threading.Event()
    rendered: list[int] = []

    def search(lang: str) -> None:
        count = 0
        while not stop.is_set():
            body = render_search(reference, lang, s.TASK[:2])
            assert b'lang="' + (b"en" if lang == "en" else b"zh-CN") + b'"' in body
            count += 1
        rendered.append(count)

    threads = [threading.Thread(target=search, args=(lang,)) for lang in ("en", "zh", "en")]
    for thread in threads:
        thread.start()
    try:
        for attempt in range(3):  # a fresh build each time: every page is rendered
            site = tmp_path / f"site-{attempt}"
            publish_site(db, out_dir=site, languages="all", workers=1)
            assert _pages(site) == expected
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert len(rendered) == 3 and all(rendered), rendered


# ------------------------------------------------------------------- atomic page writes
_REWRITE = """
import resource, signal, sys
from pathlib import Path
from supervision.site.writer import PublishReport, SiteWriter

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
root = Path(sys.argv[1])
writer = SiteWriter(root, PublishReport(out_dir=str(root), languages=["zh"]))
try:
    writer.emit("tasks/T1/index.html", b"<html>" + b"new " * 5000 + b"</html>")
except OSError as exc:
    print("refused", exc.errno)
"""


def test_a_page_that_cannot_be_written_whole_keeps_its_old_content(tmp_path: Path) -> None:
    """A write cut short (here: a file-size limit; in life a full disk or a kill) never
    leaves a truncated or empty page: the old page stays until the new one is complete."""
    import subprocess
    import sys

    from supervision.site.writer import STAGING, PublishReport, SiteWriter

    root = tmp_path / "site"
    old = b"<html>" + b"old " * 3000 + b"</html>"
    SiteWriter(root, PublishReport(out_dir=str(root), languages=["zh"])).emit(
        "tasks/T1/index.html", old
    )
    script = tmp_path / "rewrite.py"
    script.write_text(_REWRITE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(root)], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.startswith("refused"), done.stdout + done.stderr
    assert (root / "tasks/T1/index.html").read_bytes() == old
    assert not (root / STAGING).exists() or not any((root / STAGING).iterdir())


def test_a_first_publish_appears_as_a_whole(
    db: Database, built: dict[str, Any], tmp_path: Path
) -> None:
    """Built beside its folder and switched in at the end: no half-built site is ever
    visible at the folder, and nothing is left beside it."""
    site = tmp_path / "out" / "site"
    seen: list[bool] = []

    def watch() -> None:
        while not stop.is_set():
            if site.is_dir():
                seen.append((site / ".manifest.json").is_file())
                return

    stop = threading.Event()
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        publish_site(db, out_dir=site, languages="all", workers=1)
    finally:
        stop.set()
        watcher.join(10)
    assert seen in ([True], [])
    assert (site / ".manifest.json").is_file() and (site / "en/index.html").is_file()
    assert [p.name for p in site.parent.iterdir()] == ["site"]
