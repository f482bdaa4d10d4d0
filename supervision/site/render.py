"""Rendering the pages of the public site: one context per page and language, rendered
in this process or in forked workers, each page written only when it changed.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from supervision import pools
from supervision.site import charts as chartmod
from supervision.site import i18n, pages
from supervision.site.authority import publishing_authority
from supervision.site.data import LICENCE, SiteData
from supervision.site.environment import environment, language
from supervision.site.public import N_
from supervision.site.writer import PublishReport, SiteWriter

Work = list[tuple[str, str, str, dict[str, Any]]]  # (language, path, template, context)


def charts(data: SiteData, gettext: Any, lang: str = i18n.DEFAULT_LANGUAGE) -> list[dict[str, Any]]:
    """The statistics page's charts in `lang` (titles through its `gettext`)."""
    stats = pages.statistics(data, lang)
    specs = [
        ("category", N_("已公示结果：按检查结果类别"), N_("类别")),
        ("region", N_("抽中的检查对象：按盟市"), N_("地区")),
        ("risk", N_("抽中的检查对象：按信用风险分类"), N_("信用风险分类")),
        ("month", N_("抽中的检查对象：按抽取月份"), N_("月份")),
        ("results_month", N_("已公示结果：按公示月份"), N_("月份")),
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
    data: SiteData,
    lang: str,
    languages: list[str],
    *,
    strict: bool = False,
) -> Iterable[tuple[str, str, dict[str, Any]]]:
    """Every page of `lang` as (output path, template name, full context)."""
    translate = i18n.translations(lang, strict=strict)
    prefix = i18n.LANGUAGES[lang]["prefix"]
    others = [other for other in languages if other != lang]
    common = {
        "licence": LICENCE,
        "authority": publishing_authority(),
        "as_of": data.as_of,
        "results_available": data.results_available,
    }
    for page in pages.pages(data, charts(data, translate.gettext, lang)):
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
    return quote(path, safe="/")


# ----------------------------------------------------------------------------- rendering
PARALLEL_FROM = 3_000  # pages; below this, starting processes costs more than it saves
_SHARED: dict[str, Any] = {}  # in a forked worker: the pages and the writer it inherited


def workers_for(requested: int | None, pages_count: int) -> int:
    """How many rendering processes: fork() only (contexts are inherited, not pickled)."""
    if not pools.can_fork():
        return 1
    if requested is not None:
        return max(1, requested)
    if pages_count < PARALLEL_FROM:
        return 1
    if threading.active_count() > 1:
        return 1  # fork() copies one thread only: in a threaded host (scheduler, web) stay serial
    return max(1, min(2, os.cpu_count() or 1))


def render_pages(work: Work, writer: SiteWriter, *, strict: bool) -> None:
    """Render, hash and write (if changed) the pages of `work`, in order."""
    env = environment()
    templates: dict[str, Any] = {}
    for lang, path, name, context in work:
        if writer.reuse_page(path, context_key(context)):
            continue
        template = templates.get(name)
        if template is None:
            template = templates[name] = env.get_template(name)
        # The language goes with this render only (never into the shared Environment).
        page = template.render(context, **language(lang, strict=strict))
        writer.emit(path, page.encode("utf-8"))


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


def _inherit(work: Work, writer: SiteWriter, strict: bool) -> None:
    """Pool initializer, in each forked worker: its arguments came with the fork, unpickled."""
    _SHARED.update(work=work, writer=writer, strict=strict)


PartResult = tuple[dict[str, str], dict[str, str], int, int, list[str]]
Parallel = tuple[ProcessPoolExecutor, list["Future[PartResult]"]]


def _render_part(bounds: tuple[int, int]) -> PartResult:
    """In a forked worker: render pages [start, end) of the inherited work list."""
    work = _SHARED["work"]
    parent: SiteWriter = _SHARED["writer"]
    report = PublishReport(out_dir=parent.report.out_dir, languages=[])
    writer = SiteWriter.__new__(SiteWriter)
    writer.root, writer.report, writer.keep_paths = parent.root, report, parent.keep_paths
    writer.old, writer.old_exports, writer.files, writer.exports = parent.old, {}, {}, {}
    writer.old_contexts, writer.contexts = parent.old_contexts, {}
    writer._dirs = set(parent._dirs)
    writer.staging, writer._serial = parent.staging, 0  # temporary names carry this pid
    render_pages(work[bounds[0] : bounds[1]], writer, strict=_SHARED["strict"])
    return writer.files, writer.contexts, report.written, report.unchanged, report.written_paths


def start_parallel(work: Work, writer: SiteWriter, count: int, *, strict: bool) -> Parallel:
    """Fork `count` processes rendering `work` (each writes its own changed pages).

    Every part is submitted at once (a few small index ranges per worker), so the workers
    render while this process goes on with other work; ``finish_parallel`` collects them.
    """
    chunk = max(1, -(-len(work) // (count * 4)))
    bounds = [(start, min(start + chunk, len(work))) for start in range(0, len(work), chunk)]
    # Under fork the pool starts all its workers at the first submit, before any thread of
    # its own: each inherits the work list and the writer through the initializer's
    # arguments, nothing is pickled.
    pool = pools.process_pool(
        count, method="fork", initializer=_inherit, initargs=(work, writer, strict)
    )
    try:
        return pool, [pool.submit(_render_part, part) for part in bounds]
    except BaseException:
        pool.shutdown(cancel_futures=True)
        raise


def finish_parallel(pending: Parallel, writer: SiteWriter) -> None:
    """Wait for the rendering processes and merge what they wrote into the manifest."""
    pool, futures = pending
    try:
        for future in futures:
            files, contexts, written, unchanged, paths = future.result()
            writer.files.update(files)
            writer.contexts.update(contexts)
            writer.report.files += len(files)
            writer.report.written += written
            writer.report.unchanged += unchanged
            writer.report.written_paths.extend(paths)
    finally:
        pool.shutdown(cancel_futures=True)
