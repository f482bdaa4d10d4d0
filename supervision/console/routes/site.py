"""The public site served beside the console (under /site/): its search answered by the server.

Files are served as published (a static mount in ``app.py``); a search page with a
query (``/site/search/index.html?q=…``, ``/site/en/search/…``) is rendered with the
hits from the site's own prebuilt index, as ``supervision.site.serve`` does, so search
works without JavaScript. Public routes: the site is public.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from supervision.console.deps import Anyone, SiteDir
from supervision.site.serve import render_search

router = APIRouter()


def _search(root: Path | None, lang: str, q: str) -> Response:
    assert root is not None  # these routes are only there when a site is served
    if not q.strip():
        prefix = "en/" if lang == "en" else ""
        return FileResponse(root / f"{prefix}search/index.html", media_type="text/html")
    body = render_search(root, lang, q)
    return HTMLResponse(body)


@router.get("/site/search/")
@router.get("/site/search/index.html")
def site_search_zh(site: SiteDir, _who: Anyone, q: str = "") -> Response:
    """The public site's search page (Chinese), answered on the server."""
    return _search(site, "zh", q)


@router.get("/site/en/search/")
@router.get("/site/en/search/index.html")
def site_search_en(site: SiteDir, _who: Anyone, q: str = "") -> Response:
    """The public site's search page (English), answered on the server."""
    return _search(site, "en", q)
