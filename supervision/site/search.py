"""Search: a prebuilt index for the static site, and the same lookup on the served site.

The index is ``data/search-index.js`` (a script that sets ``window.SUPERVISION_SEARCH_INDEX``,
so it also loads from a USB stick over file://, where fetch() is refused). Entries are
``[key, name, detail, path]``: entities by USCC, tasks by code; paths are relative to a
language root. ``static/search.js`` filters it; ``serve.py`` answers ``search/?q=`` itself.
"""

from __future__ import annotations

import json
from typing import Any

from supervision.site.data import SiteData

INDEX_PATH = "data/search-index.js"
PREFIX = "window.SUPERVISION_SEARCH_INDEX = "
MAX_HITS = 200


def entries(data: SiteData) -> list[list[str]]:
    rows = [[t["code"], t["name"], t["period_start"], t["href"]] for t in data.tasks]
    rows += [[e["uscc"], e["name"], e["region"], e["href"]] for e in data.entities.values()]
    return rows


def index_bytes(data: SiteData) -> bytes:
    document = {"entries": entries(data)}
    return (
        PREFIX + json.dumps(document, ensure_ascii=False, separators=(",", ":")) + ";\n"
    ).encode()


def read_index(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8").strip()
    payload = json.loads(text.removeprefix(PREFIX).rstrip(";"))
    return list(payload["entries"])


def find(rows: list[list[str]], query: str, limit: int = MAX_HITS) -> list[dict[str, Any]]:
    """The same matching as static/search.js: key prefix or name substring, case-insensitive."""
    needle = query.strip().upper()
    if not needle:
        return []
    hits = []
    for key, name, detail, path in rows:
        if key.upper().startswith(needle) or needle in name.upper():
            hits.append({"key": key, "name": name, "detail": detail, "href": path})
            if len(hits) >= limit:
                break
    return hits
