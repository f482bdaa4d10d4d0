"""The public disclosure site (一公开): static pages, open data and search, from templates/.

- ``environment``: the one Jinja Environment (autoescape, StrictUndefined, i18n).
- ``i18n``: Babel catalogs (zh-CN is the source language, English is a translation).
- ``urls``: stable, safe paths from real-world keys (task code, USCC).
- ``data``: read-only loading of what the public may see (``SiteData``), with ``public``
  (how stored values are shown) and ``results_view`` (published results as shown).
- ``pages``: one context per page.
- ``publish``: publishes the site incrementally: ``render`` renders the pages (serially or
  in forked workers), ``writer`` writes only what changed (a hash manifest).
- ``opendata``, ``search``, ``charts``: bulk data files and feed, the search index, SVG charts.
- ``serve``: a small HTTP server for a published site, with server-side search.
"""

from __future__ import annotations

from supervision.site.publish import PublishReport, publish_site

__all__ = ["PublishReport", "publish_site"]
