"""Published inspection results as the public sees them (抽查结果公告).

Filled from supervision.results (issue 5) when that module exists; until then the site
has no result pages and drawn entities show 结果待公示 with the legal due date.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

from sqlmodel import Session

from supervision.site.pages import SiteData


def available() -> bool:
    return importlib.util.find_spec("supervision.results") is not None


def load_into(session: Session, data: SiteData) -> None:
    """Put published results into `data` (nothing unpublished is ever read)."""
    data.results_available = False


def data_files(data: SiteData) -> Iterator[tuple[str, bytes, int]]:
    """Open-data files of published results: (path, bytes, rows)."""
    if not data.results_available:
        return
    yield from ()
