"""The public site served beside the console (under /site/): its search answered by the server.

Files are served as published (a static mount in ``app.py``); a search page with a
query (``/site/search/index.html?q=…``, ``/site/en/search/…``) is rendered with the
hits from the site's own prebuilt index, as ``supervision.site.serve`` does, so search
works without JavaScript. Public routes: the site is public.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from supervision.accounts.sessions import Principal
from supervision.console.security import PUBLIC
from supervision.site.serve import render_search

router = APIRouter()


async def _search(request: Request, lang: str, q: str) -> Response:
    root: Path = request.app.state.site_dir
    if not q.strip():
        prefix = "en/" if lang == "en" else ""
        return FileResponse(root / f"{prefix}search/index.html", media_type="text/html")
    body = await run_in_threadpool(render_search, root, lang, q)
    return HTMLResponse(body)


@router.get("/site/search/")
@router.get("/site/search/index.html")
async def site_search_zh(
    request: Request, _who: Annotated[Principal | None, Depends(PUBLIC)], q: str = ""
) -> Response:
    """The public site's search page (Chinese), answered on the server."""
    return await _search(request, "zh", q)


@router.get("/site/en/search/")
@router.get("/site/en/search/index.html")
async def site_search_en(
    request: Request, _who: Annotated[Principal | None, Depends(PUBLIC)], q: str = ""
) -> Response:
    """The public site's search page (English), answered on the server."""
    return await _search(request, "en", q)
