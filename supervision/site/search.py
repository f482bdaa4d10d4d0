"""Search: a prebuilt index for the static site, and the same lookup on the served site.

The index is ``data/search-index.js`` (a script that sets ``window.SUPERVISION_SEARCH_INDEX``,
so it also loads from a USB stick over file://, where fetch() is refused). Entries are
``[key, name, detail, path]``: entities by USCC, tasks by code; paths are relative to a
language root. ``static/search.js`` filters it; ``serve.py`` answers ``search/?q=`` itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from supervision.models.fields import check_uscc
from supervision.site.data import SiteData

INDEX_PATH = "data/search-index.js"
PREFIX = "window.SUPERVISION_SEARCH_INDEX = "
MAX_HITS = 200


def entries(data: SiteData) -> list[list[str]]:
    rows = [[t["code"], t["name"], t["period_start"], t["href"]] for t in data.tasks]
    rows += [[e["uscc"], e["name"], e["region"], e["href"]] for e in data.entities.values()]
    return rows


#: A query that looks like a USCC (its check character is then checked).
USCC_SHAPE = re.compile(r"[0-9A-Z]{18}")
#: Whether a query names an entity of the directory (exact USCC or exact name): the console
#: answers it from the database; the static site's own server cannot know.
Known = Callable[[str], bool]


def index_bytes(data: SiteData) -> bytes:
    # "as_of" first: a page rendered on request reads the date from the file's head.
    document = {"as_of": data.as_of, "entries": entries(data)}
    return (
        PREFIX + json.dumps(document, ensure_ascii=False, separators=(",", ":")) + ";\n"
    ).encode()


def read_index(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8").strip()
    payload = json.loads(text.removeprefix(PREFIX).rstrip(";"))
    return list(payload["entries"])


def read_as_of(site_root: Path) -> str:
    """The site's "data as of" date, from the head of its search index ('' if none)."""
    try:
        with (site_root / INDEX_PATH).open("rb") as fh:
            head = fh.read(200).decode("utf-8", "replace")
    except OSError:
        return ""
    found = re.match(re.escape(PREFIX) + r'\{"as_of":"([^"]*)"', head)
    return found.group(1) if found else ""


def miss(query: str, hits: list[dict[str, Any]], known: Known | None = None) -> str | None:
    """Why a search found nothing, so the page can say it (None when something was found).

    "unpublished": the directory has this entity, but no published task drew it yet;
    "absent": no entity has this code or name (the directory says so, or the code's check
    character is wrong); "not_drawn": the site alone cannot tell: it lists only the
    entities of published tasks.
    """
    if hits or not query.strip():
        return None
    needle = query.strip()
    if USCC_SHAPE.fullmatch(needle.upper()):
        try:
            check_uscc(needle.upper())
        except ValueError:
            return "absent"
    if known is None:
        return "not_drawn"
    return "unpublished" if known(needle) else "absent"


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
