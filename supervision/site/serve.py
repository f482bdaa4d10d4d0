"""Serving a published site: the standard library's HTTP server, plus server-side search.

Static files are served as they are; ``search/index.html?q=…`` (and ``/en/…``) is answered
by rendering the search page with the hits from the same prebuilt index the static
site's script uses, so search works without JavaScript on the served site.
"""

from __future__ import annotations

import functools
import http.server
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from supervision.site import i18n, search
from supervision.site.authority import publishing_authority
from supervision.site.data import LICENCE
from supervision.site.environment import environment, language
from supervision.site.headers import SECURITY_HEADERS

SEARCH_PAGES = {"search/", "search/index.html"}


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder; renders search results when the search page gets a query, and
    the site's own "page not found" page for a path that is not there."""

    site_root: Path

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        lang, path = split_language(unquote(parts.path).lstrip("/"))
        query = parse_qs(parts.query).get("q", [""])[0]
        if path in SEARCH_PAGES and query.strip():
            self._send_page(200, render_search(self.site_root, lang, query))
            return
        super().do_GET()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code != 404 or self.command not in ("GET", "HEAD"):
            super().send_error(code, message, explain)
            return
        lang, path = split_language(unquote(urlsplit(self.path).path).lstrip("/"))
        self._send_page(404, render_not_found(self.site_root, lang, path))

    def _send_page(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        # Every response, files, search pages and errors alike, carries the security headers.
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        pass


def split_language(path: str) -> tuple[str, str]:
    """("en", "tasks/index.html") for "en/tasks/index.html"; ("zh", path) otherwise."""
    for lang, info in i18n.LANGUAGES.items():
        prefix = info["prefix"]
        if prefix and (path.startswith(prefix) or path == prefix.rstrip("/")):
            return lang, path[len(prefix) :]
    return i18n.DEFAULT_LANGUAGE, path


def page_context(site_root: Path, lang: str, page_path: str, query: str = "") -> dict[str, Any]:
    """What the frame of a page rendered on request needs (header, footer, language
    switch), as ``render.render_language`` gives the published pages. `page_path` is the
    path the browser asked for, relative to the language's root: links are relative to it."""
    depth = page_path.count("/")
    root = "../" * depth
    site = root + ("../" if i18n.LANGUAGES[lang]["prefix"] else "")
    other_lang = None
    for other, info in i18n.LANGUAGES.items():
        if other == lang or not (site_root / info["prefix"] / "index.html").is_file():
            continue
        href = site + info["prefix"] + quote(page_path, safe="/")
        if query:
            href += "?q=" + quote(query, safe="")
        other_lang = {"href": href, "tag": info["tag"], "name": info["name"]}
        break
    return {
        "licence": LICENCE,
        "authority": publishing_authority(),
        "as_of": search.read_as_of(site_root),
        "results_available": (site_root / "results").is_dir(),
        "root": root,
        "site_root": site,
        "page_path": page_path,
        "other_lang": other_lang,
    }


def render_search(
    site_root: Path, lang: str, query: str, *, known: search.Known | None = None
) -> bytes:
    """The search page of `lang` with the hits for `query`. With no hit, the page says
    whether the query names an entity that is in no published task yet (`known`: a
    lookup in the directory, on the console) or nothing at all."""
    rows = search.read_index((site_root / search.INDEX_PATH).read_bytes())
    hits = search.find(rows, query)
    context = page_context(site_root, lang, "search/index.html", query)
    context |= {"query": query, "hits": hits, "miss": search.miss(query, hits, known)}
    page = environment().get_template("search.html").render(context, **language(lang))
    return page.encode("utf-8")


def render_not_found(site_root: Path, lang: str, path: str) -> bytes:
    """The site's "page not found" page, in its own style, for a request of `path`."""
    context = page_context(site_root, lang, path)
    page = environment().get_template("not_found.html").render(context, **language(lang))
    return page.encode("utf-8")


def make_server(directory: str | Path, port: int = 8000, host: str = "127.0.0.1") -> Any:
    """An HTTP server for a published site folder (not started)."""
    root = Path(directory).resolve()
    handler = type("Handler", (SiteHandler,), {"site_root": root})
    factory = functools.partial(handler, directory=str(root))
    return http.server.ThreadingHTTPServer((host, port), factory)
