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
from urllib.parse import parse_qs, urlsplit

from supervision.site import i18n, search
from supervision.site.data import LICENCE, publishing_authority
from supervision.site.environment import environment, language
from supervision.site.headers import SECURITY_HEADERS

SEARCH_PAGES = {"search/", "search/index.html"}


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder; renders search results when the search page gets a query."""

    site_root: Path

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path.lstrip("/")
        lang = "zh"
        if path.startswith("en/"):
            lang, path = "en", path[3:]
        query = parse_qs(parts.query).get("q", [""])[0]
        if path in SEARCH_PAGES and query.strip():
            body = render_search(self.site_root, lang, query)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self) -> None:
        # Every response, files, search pages and errors alike, carries the security headers.
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        pass


def render_search(site_root: Path, lang: str, query: str) -> bytes:
    """The search page of `lang` with the hits for `query`."""
    rows = search.read_index((site_root / search.INDEX_PATH).read_bytes())
    hits = search.find(rows, query)
    env = environment()
    root = "../"
    site = root + ("../" if i18n.LANGUAGES[lang]["prefix"] else "")
    context = {
        "licence": LICENCE,
        "authority": publishing_authority(),
        "as_of": "",
        "results_available": (site_root / "results").is_dir(),
        "root": root,
        "site_root": site,
        "page_path": "search/index.html",
        "other_lang": None,
        "query": query,
        "hits": hits,
    }
    page = env.get_template("search.html").render(context, **language(lang))
    return page.encode("utf-8")


def make_server(directory: str | Path, port: int = 8000, host: str = "127.0.0.1") -> Any:
    """An HTTP server for a published site folder (not started)."""
    root = Path(directory).resolve()
    handler = type("Handler", (SiteHandler,), {"site_root": root})
    factory = functools.partial(handler, directory=str(root))
    return http.server.ThreadingHTTPServer((host, port), factory)
