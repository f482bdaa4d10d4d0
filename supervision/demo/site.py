"""The demo's public site: publish it and say where to open it.

The integrator calls ``demo_site_step`` from ``supervision demo`` after the draws (and
results, when the demo has them), so a fresh demo ends with a site to look at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from supervision.db import Database
from supervision.site import publish_site


def demo_site_step(db: Database, *, out_dir: str | Path) -> dict[str, Any]:
    """Publish the demo's site (zh-CN and English) into `out_dir`; returns what to print."""
    out = Path(out_dir)
    report = publish_site(db, out_dir=out, languages="all")
    index = (out / "index.html").resolve()
    return {
        "out_dir": str(out),
        "index": str(index),
        "url": index.as_uri(),
        "pages": report.pages,
        "files": report.files,
        "written": report.written,
        "seconds": round(report.seconds, 2),
        "serve": f"supervision serve --out {out}",
        "zh": f"公示网站已发布：用浏览器打开 {index}，或运行 supervision serve --out {out}",
        "en": f"Public site published: open {index} in a browser, or run "
        f"supervision serve --out {out}",
    }
