"""Publishing the static site: render every page, write only what changed.

The output folder holds ``.manifest.json``: the SHA-256 of every file the publisher wrote,
by path, and of every page's context. A page whose context (and the templates, catalogs
and site code: ``renderer_fingerprint``) is unchanged is not even rendered; any other page
is rendered, hashed and written only when its hash differs from the manifest's (or the
file is gone); files the site no longer has are removed. So a republish with nothing
changed writes nothing, not even the manifest.

Layout: zh-CN pages at the root, English pages under ``en/``; language-independent files
(``static/``, ``data/``, ``feed.atom``, the draw exports under ``data/draws/``) once, at the
root. Every link is relative, so the folder works from any web server or a USB stick.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import io
import json
import os
import pickle
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from supervision import clock
from supervision.db import Database
from supervision.errors import SupervisionError
from supervision.paths import templates_dir
from supervision.reference import vocab
from supervision.site import charts as chartmod
from supervision.site import i18n, opendata, pages, search, urls
from supervision.site.environment import environment, use_language

MANIFEST = ".manifest.json"
MANIFEST_VERSION = 1
LANGUAGE_CHOICES = ("zh", "en", "all")


@dataclass
class PublishReport:
    """What a publish did: pages rendered, files written, unchanged and removed."""

    out_dir: str
    languages: list[str]
    pages: int = 0
    files: int = 0
    written: int = 0
    unchanged: int = 0
    removed: int = 0
    seconds: float = 0.0
    written_paths: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)

    def lap(self, phase: str, since: float) -> float:
        """Record the seconds spent in `phase` since `since`; returns now."""
        now = time.perf_counter()
        self.phases[phase] = round(self.phases.get(phase, 0.0) + now - since, 3)
        return now

    def as_dict(self) -> dict[str, Any]:
        return {
            "out_dir": self.out_dir,
            "languages": self.languages,
            "pages": self.pages,
            "files": self.files,
            "written": self.written,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "seconds": round(self.seconds, 3),
            "phases": self.phases,
        }


def languages_for(choice: str) -> list[str]:
    if choice not in LANGUAGE_CHOICES:
        raise SupervisionError(
            f"未知语言 {choice}，可选 zh、en、all", f"unknown language {choice}: use zh, en or all"
        )
    return ["zh", "en"] if choice == "all" else [choice]


class _Writer:
    """Writes files into the output folder when their content hash changed."""

    def __init__(self, root: Path, report: PublishReport, *, keep_paths: bool = False) -> None:
        self.root = root
        self.report = report
        self.keep_paths = keep_paths
        path = root / MANIFEST
        self.old: dict[str, str] = {}
        self.old_exports: dict[str, str] = {}
        self.fairness: dict[str, Any] = {}
        self.old_contexts: dict[str, str] = {}
        self.contexts: dict[str, str] = {}
        if path.is_file():
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
                if stored.get("version") == MANIFEST_VERSION:
                    self.old = dict(stored.get("files", {}))
                    self.old_exports = dict(stored.get("exports", {}))
                    self.fairness = dict(stored.get("fairness", {}))
                    if stored.get("renderer") == renderer_fingerprint():
                        self.old_contexts = dict(stored.get("contexts", {}))
            except (OSError, ValueError):
                self.old = {}
        self.files: dict[str, str] = {}
        self.exports: dict[str, str] = {}
        self._dirs: set[str] = set()

    def _write(self, path: str, content: bytes) -> None:
        target = self.root / path
        parent = os.path.dirname(path)
        if parent not in self._dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(parent)
        with open(target, "wb") as fh:
            fh.write(content)
        self.report.written += 1
        if self.keep_paths:
            self.report.written_paths.append(path)

    def emit(self, path: str, content: bytes) -> None:
        """Write `content` at `path` unless the same content is already there."""
        digest = hashlib.sha256(content).hexdigest()
        self.files[path] = digest
        self.report.files += 1
        if self.old.get(path) == digest and os.path.exists(self.root / path):
            self.report.unchanged += 1
            return
        self._write(path, content)

    def emit_stamped(self, path: str, content: bytes) -> None:
        """Like emit, but the hash ignores the extract time, filled in only when written."""
        digest = hashlib.sha256(content).hexdigest()
        self.files[path] = digest
        self.report.files += 1
        if self.old.get(path) == digest and os.path.exists(self.root / path):
            self.report.unchanged += 1
            return
        stamp = clock.local(clock.now()).isoformat(timespec="seconds").encode()
        self._write(path, content.replace(opendata.STAMP.encode(), stamp))

    def reuse_page(self, path: str, context_key: str) -> bool:
        """Keep a page without rendering it when its context and the renderer are unchanged."""
        self.contexts[path] = context_key
        if self.old_contexts.get(path) != context_key:
            return False
        return self.keep(path)

    def keep(self, path: str) -> bool:
        """Carry an unchanged file over without re-reading it; False if it is gone."""
        digest = self.old.get(path)
        if digest is None or not os.path.exists(self.root / path):
            return False
        self.files[path] = digest
        self.report.files += 1
        self.report.unchanged += 1
        return True

    def finish(self, scopes: Iterable[str]) -> None:
        """Remove files of the built scopes that the site no longer has; save the manifest."""
        scopes = list(scopes)
        for path in sorted(set(self.old) - set(self.files)):
            in_scope = any(path.startswith(s) if s else not path.startswith("en/") for s in scopes)
            if not in_scope:
                self.files[path] = self.old[path]  # another language's file: keep it
                continue
            target = self.root / path
            if target.is_file():
                target.unlink()
                self.report.removed += 1
            _prune_dirs(target.parent, self.root)
        document = {
            "version": MANIFEST_VERSION,
            "files": dict(sorted(self.files.items())),
            "exports": dict(sorted(self.exports.items())),
            "fairness": dict(sorted(self.fairness.items())),
            "renderer": renderer_fingerprint(),
            "contexts": dict(sorted(self.contexts.items())),
        }
        content = (json.dumps(document, ensure_ascii=False, indent=0) + "\n").encode("utf-8")
        manifest = self.root / MANIFEST
        if not manifest.is_file() or manifest.read_bytes() != content:
            manifest.write_bytes(content)


def _prune_dirs(directory: Path, root: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent


def _check_slugs(data: pages.SiteData) -> None:
    """Refuse two task codes whose folders would clash on a case-insensitive file system."""
    seen: dict[str, str] = {}
    for task in data.tasks:
        other = seen.setdefault(task["slug"].casefold(), task["code"])
        if other != task["code"]:
            raise SupervisionError(
                f"任务编号 {other} 与 {task['code']} 的网页目录只差大小写，无法同时发布",
                f"task codes {other} and {task['code']} differ only in case; their pages would clash",
            )


def _export_key(task: dict[str, Any]) -> str:
    """What identifies a draw's export: a drawn task's records never change after the draw."""
    return str(task["draw_key"])


def _write_exports(db: Database, data: pages.SiteData, writer: _Writer) -> None:
    """The "verify this draw" files: drawing.export_task output, written into the site."""
    from supervision.draw.service import export_task

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
                export_task(session, task["code"], target)
            for file in sorted(target.rglob("*")):
                if file.is_file():
                    writer.emit(f"{base}/{file.relative_to(target).as_posix()}", file.read_bytes())
        writer.exports[task["code"]] = key


def _charts(data: pages.SiteData, gettext: Any) -> list[dict[str, Any]]:
    stats = pages.statistics(data)
    specs = [
        ("category", pages.N_("已公示结果：按检查结果类别"), pages.N_("类别")),
        ("region", pages.N_("抽中的检查对象：按盟市"), pages.N_("地区")),
        ("risk", pages.N_("抽中的检查对象：按信用风险分类"), pages.N_("信用风险分类")),
        ("month", pages.N_("抽中的检查对象：按抽取月份"), pages.N_("月份")),
        ("results_month", pages.N_("已公示结果：按公示月份"), pages.N_("月份")),
    ]
    result = []
    for key, title, label in specs:
        if key in ("category", "results_month") and not data.results_available:
            continue
        rows = stats[key]
        result.append(
            {
                "id": f"chart-{key}",
                "title": gettext(title),
                "label": gettext(label),
                "rows": rows,
                "svg": Markup(chartmod.bar_chart(gettext(title), rows, chart_id=f"chart-{key}")),
            }
        )
    return result


def render_language(
    data: pages.SiteData,
    lang: str,
    languages: list[str],
    *,
    strict: bool = False,
) -> Iterable[tuple[str, str, dict[str, Any]]]:
    """Every page of `lang` as (output path, template name, full context)."""
    env = environment()
    use_language(env, lang, strict=strict)
    translate = i18n.translations(lang, strict=strict)
    prefix = i18n.LANGUAGES[lang]["prefix"]
    others = [other for other in languages if other != lang]
    common = {
        "licence": pages.LICENCE,
        "as_of": data.as_of,
        "results_available": data.results_available,
    }
    for page in pages.pages(data, _charts(data, translate.gettext)):
        depth = page.path.count("/")
        root = "../" * depth
        site_root = root + ("../" if prefix else "")
        other_lang = None
        if others:
            other = others[0]
            info = i18n.LANGUAGES[other]
            other_lang = {
                "href": site_root + info["prefix"] + urls_quote(page.path),
                "tag": info["tag"],
                "name": info["name"],
            }
        context = {
            **common,
            **page.context,
            "root": root,
            "site_root": site_root,
            "page_path": page.path,
            "other_lang": other_lang,
        }
        yield prefix + page.path, page.template, context


def urls_quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def publish_site(
    db: Database,
    out_dir: str | Path,
    *,
    languages: str | list[str] = "all",
    strict: bool = False,
    keep_paths: bool = False,
    workers: int | None = None,
) -> PublishReport:
    """Publish (or republish) the public site into `out_dir`, writing only what changed.

    `languages` is "zh", "en", "all" or a list; `strict` makes an untranslated message of
    the English build an error (tests use it). `workers`: rendering processes (default:
    up to 2 for big sites where fork() exists, else 1).
    """
    # Publishing builds hundreds of thousands of small dicts and strings that live until
    # the end: the cyclic collector would rescan them again and again, for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _publish(db, out_dir, languages, strict=strict, keep_paths=keep_paths,
                        workers=workers)  # fmt: skip
    finally:
        if collecting:
            gc.enable()


def _publish(
    db: Database,
    out_dir: str | Path,
    languages: str | list[str],
    *,
    strict: bool,
    keep_paths: bool,
    workers: int | None,
) -> PublishReport:
    started = time.perf_counter()
    langs = languages_for(languages) if isinstance(languages, str) else list(languages)
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    report = PublishReport(out_dir=str(root), languages=langs)
    writer = _Writer(root, report, keep_paths=keep_paths)
    with db.session() as session:
        cache = dict(writer.fairness)
        data = pages.load(session, fairness_cache=cache)
        session.rollback()  # read-only: nothing to commit
    live = {t["draw_key"] for t in data.drawn_tasks}
    writer.fairness = {key: report for key, report in cache.items() if key in live}
    _check_slugs(data)
    mark = report.lap("load", started)
    env = environment()
    work = [
        (lang, path, name, context)
        for lang in langs
        for path, name, context in render_language(data, lang, langs, strict=strict)
    ]
    report.pages = len(work)
    mark = report.lap("contexts", mark)
    count = _workers(workers, len(work))
    # With workers, pages render in forked processes while this one writes the open data
    # and the draw exports: the two kinds of work overlap.
    pending = _start_parallel(work, writer, count, strict=strict) if count > 1 else None
    static = templates_dir() / "static"
    for file in sorted(static.rglob("*")):
        if file.is_file():
            writer.emit(f"static/{file.relative_to(static).as_posix()}", file.read_bytes())
    for path, content in opendata.data_files(data):
        writer.emit_stamped(path, content)
    writer.emit(search.INDEX_PATH, search.index_bytes(data))
    use_language(env, i18n.DEFAULT_LANGUAGE)
    feed = env.get_template("feed.xml").render(opendata.feed_context(data))
    writer.emit("feed.atom", feed.encode("utf-8"))
    mark = report.lap("open data", mark)
    _write_exports(db, data, writer)
    mark = report.lap("exports", mark)
    if pending is not None:
        _finish_parallel(pending, writer)
    else:
        _render_slice(work, writer, strict=strict)
    use_language(env, i18n.DEFAULT_LANGUAGE)
    mark = report.lap("render", mark)
    scopes = [i18n.LANGUAGES[lang]["prefix"] for lang in langs]
    writer.finish(scopes)
    report.lap("finish", mark)
    report.seconds = time.perf_counter() - started
    return report


# ----------------------------------------------------------------------------- rendering
PARALLEL_FROM = 3_000  # pages; below this, starting processes costs more than it saves
_SHARED: dict[str, Any] = {}  # what forked workers inherit: the pages and the writer


def _workers(requested: int | None, pages_count: int) -> int:
    """How many rendering processes: fork() only (contexts are inherited, not pickled)."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if requested is not None:
        return max(1, requested)
    if pages_count < PARALLEL_FROM:
        return 1
    if threading.active_count() > 1:
        return 1  # fork() copies one thread only: in a threaded host (scheduler, web) stay serial
    return max(1, min(2, os.cpu_count() or 1))


def _render_slice(
    work: list[tuple[str, str, str, dict[str, Any]]], writer: _Writer, *, strict: bool
) -> None:
    """Render, hash and write (if changed) the pages of `work`, in order."""
    env = environment()
    templates: dict[str, Any] = {}
    current = ""
    for lang, path, name, context in work:
        if lang != current:
            use_language(env, lang, strict=strict)
            current = lang
        if writer.reuse_page(path, context_key(context)):
            continue
        template = templates.get(name)
        if template is None:
            template = templates[name] = env.get_template(name)
        writer.emit(path, template.render(context).encode("utf-8"))


def context_key(context: dict[str, Any]) -> str:
    """A page's identity before rendering: the SHA-256 of its pickled context.

    Pickle (C, about 3× cheaper than sorted JSON here) encodes the context injectively, so
    equal keys mean equal contexts. Contexts are built in a fixed order from ordered
    queries (no sets); should two equal contexts ever pickle differently, the page is
    merely rendered again and its content hash decides, never skipped wrongly.
    """
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True  # no memo: shared objects are written out in full, so object
    pickler.dump(context)  # identity (which differs between runs) never changes the bytes
    return hashlib.sha256(buffer.getbuffer()).hexdigest()


@functools.cache
def renderer_fingerprint() -> str:
    """What else decides a page: the templates, the catalogs and the site's code.

    A page whose context key and this fingerprint both match the last publish is the
    same page, so it is not rendered again; any change to a template, a translation or
    the site package renders everything once more.
    """
    digest = hashlib.sha256()
    sources = [templates_dir(), i18n.LOCALE_DIR, Path(__file__).resolve().parent]
    for folder in sources:
        for file in sorted(folder.rglob("*")):
            if file.is_file() and file.suffix in (".html", ".xml", ".po", ".py", ".css", ".js"):
                digest.update(file.relative_to(folder).as_posix().encode())
                digest.update(file.read_bytes())
    digest.update(Path(vocab.__file__).read_bytes())  # the `word` filter's English words
    return digest.hexdigest()


def _render_part(
    bounds: tuple[int, int],
) -> tuple[dict[str, str], dict[str, str], int, int, list[str]]:
    """In a forked worker: render pages [start, end) of the inherited work list."""
    work = _SHARED["work"]
    parent: _Writer = _SHARED["writer"]
    report = PublishReport(out_dir=parent.report.out_dir, languages=[])
    writer = _Writer.__new__(_Writer)
    writer.root, writer.report, writer.keep_paths = parent.root, report, parent.keep_paths
    writer.old, writer.old_exports, writer.files, writer.exports = parent.old, {}, {}, {}
    writer.old_contexts, writer.contexts = parent.old_contexts, {}
    writer._dirs = set(parent._dirs)
    _render_slice(work[bounds[0] : bounds[1]], writer, strict=_SHARED["strict"])
    return writer.files, writer.contexts, report.written, report.unchanged, report.written_paths


def _start_parallel(
    work: list[tuple[str, str, str, dict[str, Any]]], writer: _Writer, count: int, *, strict: bool
) -> tuple[Any, Any]:
    """Fork `count` processes rendering `work` (each writes its own changed pages)."""
    import multiprocessing

    chunk = max(1, -(-len(work) // (count * 4)))
    bounds = [(start, min(start + chunk, len(work))) for start in range(0, len(work), chunk)]
    _SHARED.update(work=work, writer=writer, strict=strict)
    pool = multiprocessing.get_context("fork").Pool(count)
    _SHARED.clear()  # the children have their copy; the parent needs none
    return pool, pool.map_async(_render_part, bounds)


def _finish_parallel(pending: tuple[Any, Any], writer: _Writer) -> None:
    """Wait for the rendering processes and merge what they wrote into the manifest."""
    pool, result = pending
    try:
        for files, contexts, written, unchanged, paths in result.get():
            writer.files.update(files)
            writer.contexts.update(contexts)
            writer.report.files += len(files)
            writer.report.written += written
            writer.report.unchanged += unchanged
            writer.report.written_paths.extend(paths)
    finally:
        pool.close()
        pool.join()


def clear_site(out_dir: str | Path) -> None:
    """Remove a published site folder (only if it has our manifest)."""
    root = Path(out_dir)
    if (root / MANIFEST).is_file():
        shutil.rmtree(root)
