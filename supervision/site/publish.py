"""Publishing the static site: render every page, write only what changed (see
``writer`` for the manifest that makes a republish with nothing changed write nothing).

Layout: zh-CN pages at the root, English pages under ``en/``; language-independent files
(``static/``, ``data/``, ``feed.atom``, the draw exports under ``data/draws/``) once, at the
root. Every link is relative, so the folder works from any web server or a USB stick.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from supervision import trail
from supervision.batches import batched
from supervision.db import Database
from supervision.errors import NotFoundError, SupervisionError
from supervision.paths import templates_dir
from supervision.site import i18n, opendata, search, urls
from supervision.site.authority import publishing_for
from supervision.site.data import SiteData, load
from supervision.site.environment import environment, language
from supervision.site.render import (
    finish_parallel,
    render_language,
    render_pages,
    start_parallel,
    workers_for,
)
from supervision.site.writer import MANIFEST, PublishReport, SiteWriter, process_running

LANGUAGE_CHOICES = ("zh", "en", "all")


def languages_for(choice: str) -> list[str]:
    if choice not in LANGUAGE_CHOICES:
        raise SupervisionError(
            f"未知语言 {choice}，可选 zh、en、all", f"unknown language {choice}: use zh, en or all"
        )
    return ["zh", "en"] if choice == "all" else [choice]


def _export_key(task: dict[str, Any]) -> str:
    """What identifies a draw's export: a drawn task's records never change after the draw."""
    return str(task["draw_key"])


def _write_exports(db: Database, data: SiteData, writer: SiteWriter) -> None:
    """The "verify this draw" files: draw.publication.export_task output, written into the site."""
    from supervision.draw.publication import export_task

    for task in data.drawn_tasks:
        key = _export_key(task)
        base = urls.export_dir(task["code"])
        paths = [f"{base}/{name}" for name in task["export_files"]]
        if writer.old_exports.get(task["code"]) == key and all(writer.keep(p) for p in paths):
            writer.exports[task["code"]] = key
            continue
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "export"
            with db.session() as session:
                export_task(session, code=task["code"], out_dir=target)
            for file in sorted(target.rglob("*")):
                if file.is_file():
                    writer.emit(f"{base}/{file.relative_to(target).as_posix()}", file.read_bytes())
        writer.exports[task["code"]] = key


def publish_site(
    db: Database,
    *,
    out_dir: str | Path,
    languages: str | list[str] = "all",
    strict: bool = False,
    keep_paths: bool = False,
    workers: int | None = None,
    on_stage: Callable[[str], object] | None = None,
    authority: str | None = None,
) -> PublishReport:
    """Publish (or republish) the public site into `out_dir`, writing only what changed.

    `languages` is "zh", "en", "all" or a list; `strict` makes an untranslated message of
    the English build an error (tests use it). `workers`: rendering processes (default:
    up to 2 for big sites where fork() exists, else 1). `on_stage(text)` is told, in
    words, each stage as it starts (a progress display). `authority`: a department code,
    to publish that authority's own site (its plans, tasks and results, under its name)
    instead of the whole deployment's.
    """
    name = authority_name(db, authority) if authority is not None else None
    # Publishing builds hundreds of thousands of small dicts and strings that live until
    # the end: the cyclic collector would rescan them again and again, for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with publishing_for(name):
            return _publish(db, out_dir, languages, strict=strict, keep_paths=keep_paths,
                            workers=workers, on_stage=on_stage or (lambda _text: None),
                            authority=authority)  # fmt: skip
    finally:
        if collecting:
            gc.enable()


def authority_name(db: Database, code: str) -> str:
    """The name of the authority (a department of the directory) a site is published for."""
    from supervision.models import Department

    with db.session() as session:
        department = session.get(Department, code.strip())
        if department is None:
            raise NotFoundError(
                f"没有发布机关（部门）{code}：须为部门名录中的代码",
                f"no authority (department) {code}: it must be a code of the department directory",
            )
        return department.name


def _publish(
    db: Database,
    out_dir: str | Path,
    languages: str | list[str],
    *,
    strict: bool,
    keep_paths: bool,
    workers: int | None,
    on_stage: Callable[[str], object],
    authority: str | None = None,
) -> PublishReport:
    started = time.perf_counter()
    on_stage("读取数据 / loading")
    langs = languages_for(languages) if isinstance(languages, str) else list(languages)
    target = Path(out_dir)
    # A first build (no folder yet, or an empty one) is made beside it and switched in as a
    # whole at the end; a republish replaces files one by one, each atomically (``writer``).
    root = _whole_site_staging(target)
    report = PublishReport(out_dir=str(target), languages=langs)
    writer = SiteWriter(root, report, keep_paths=keep_paths)
    with db.session() as session:
        # Every publication anchors the trail, and the site shows the anchor.
        trail.checkpoint(session, reason="publish")
    with db.session() as session:
        cache = dict(writer.fairness)
        data = load(session, fairness_cache=cache, authority=authority)
        session.rollback()  # read-only: nothing to commit
    live = {t["draw_key"] for t in data.drawn_tasks}
    writer.fairness = {key: report for key, report in cache.items() if key in live}
    report.withheld = list(data.withheld)
    mark = report.lap("load", started)
    # Page contexts are made and rendered a batch at a time: a province's site has a page
    # per drawn entity and language, and holding every context at once grew without bound.
    batches = batched(
        (
            (lang, path, name, context)
            for lang in langs
            for path, name, context in render_language(data, lang, langs, strict=strict)
        ),
        RENDER_BATCH,
    )
    work = next(batches, [])
    on_stage("生成页面 / rendering the pages")
    mark = report.lap("contexts", mark)
    count = workers_for(workers, len(work))
    # With workers, pages render in forked processes while this one writes the open data
    # and the draw exports: the two kinds of work overlap.
    pending = start_parallel(work, writer, count, strict=strict) if count > 1 else None
    try:
        mark = _write_files(db, data, writer, report, mark)
    except BaseException:
        if pending is not None:
            pending[0].shutdown(cancel_futures=True)  # the rendering is of no use now
        raise
    while True:
        report.pages += len(work)
        if pending is None and count > 1:
            pending = start_parallel(work, writer, count, strict=strict)
        if pending is not None:
            finish_parallel(pending, writer)
            pending = None
        else:
            render_pages(work, writer, strict=strict)
        work = next(batches, [])
        if not work:
            break
    mark = report.lap("render", mark)
    on_stage("收尾 / finishing")
    scopes = [i18n.LANGUAGES[lang]["prefix"] for lang in langs]
    writer.finish(scopes)
    if root != target:
        os.replace(root, target)  # the whole site appears at once
    report.lap("finish", mark)
    report.seconds = time.perf_counter() - started
    return report


def _write_files(
    db: Database, data: SiteData, writer: SiteWriter, report: PublishReport, mark: float
) -> float:
    """The language-independent files: static assets, open data, search index, feed, exports."""
    env = environment()
    static = templates_dir() / "static"
    for file in sorted(static.rglob("*")):
        if file.is_file():
            writer.emit(f"static/{file.relative_to(static).as_posix()}", file.read_bytes())
    for path, content in opendata.data_files(data):
        writer.emit_stamped(path, content)
    writer.emit(search.INDEX_PATH, search.index_bytes(data))
    feed = env.get_template("feed.xml").render(
        opendata.feed_context(data), **language(i18n.DEFAULT_LANGUAGE)
    )
    writer.emit("feed.atom", feed.encode("utf-8"))
    mark = report.lap("open data", mark)
    _write_exports(db, data, writer)
    mark = report.lap("exports", mark)
    return mark


#: Pages whose contexts are held (and rendered) at once.
RENDER_BATCH = 20_000


STAGING_SUFFIX = ".publishing-"


def _whole_site_staging(target: Path) -> Path:
    """Where to build: `target` itself when it holds a site already, else a fresh sibling
    folder ``<target>.publishing-<pid>`` that replaces `target` when complete. Siblings
    left by killed first builds (their process is gone) are removed here."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f"{target.name}{STAGING_SUFFIX}*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if stale.is_dir() and pid.isdigit() and not process_running(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    if target.is_dir() and any(target.iterdir()):
        return target
    staging = target.parent / f"{target.name}{STAGING_SUFFIX}{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def clear_site(out_dir: str | Path) -> None:
    """Remove a published site folder (only if it has our manifest)."""
    root = Path(out_dir)
    if (root / MANIFEST).is_file():
        shutil.rmtree(root)


__all__ = [
    "LANGUAGE_CHOICES",
    "MANIFEST",
    "PublishReport",
    "clear_site",
    "languages_for",
    "publish_site",
]
