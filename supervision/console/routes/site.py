"""The public site served beside the console (under /site/): its search answered by the server.

Files are served as published (a static mount in ``app.py``); a search page with a
query (``/site/search/index.html?q=…``, ``/site/en/search/…``) is rendered with the
hits from the site's own prebuilt index, as ``supervision.site.serve`` does, so search
works without JavaScript. With no hit, the console also asks the directory whether the
query names an entity (exact USCC or name), so the page tells "in no published task yet"
from "no such entity" (it says only that; nothing of the entity is shown). A path under
/site/ that is not there answers the site's own "page not found" page (see ``app.py``).
Public routes: the site is public.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlmodel import col, or_, select

from supervision.console.deps import Anyone, DbDep, SiteDir
from supervision.db import Database
from supervision.models import Entity
from supervision.site.serve import render_search

router = APIRouter()


def in_directory(db: Database, query: str) -> bool:
    """Whether the entity directory has an entity with exactly this USCC or name."""
    text = query.strip()
    with db.session() as session:
        found = session.exec(
            select(Entity.uscc)
            .where(or_(col(Entity.uscc) == text.upper(), col(Entity.name) == text))
            .limit(1)
        ).first()
    return found is not None


def _search(db: Database, root: Path | None, lang: str, q: str) -> Response:
    assert root is not None  # these routes are only there when a site is served
    if not q.strip():
        prefix = "en/" if lang == "en" else ""
        return FileResponse(root / f"{prefix}search/index.html", media_type="text/html")
    body = render_search(root, lang, q, known=lambda text: in_directory(db, text))
    return HTMLResponse(body)


@router.get("/site/search/")
@router.get("/site/search/index.html")
def site_search_zh(db: DbDep, site: SiteDir, _who: Anyone, q: str = "") -> Response:
    """The public site's search page (Chinese), answered on the server."""
    return _search(db, site, "zh", q)


@router.get("/site/en/search/")
@router.get("/site/en/search/index.html")
def site_search_en(db: DbDep, site: SiteDir, _who: Anyone, q: str = "") -> Response:
    """The public site's search page (English), answered on the server."""
    return _search(db, site, "en", q)
