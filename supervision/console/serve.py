"""Running the console (with the public site beside it) under uvicorn: `supervision serve`."""

from __future__ import annotations

from pathlib import Path

import click

from supervision.db import Database

__all__ = ["run_console"]


def run_console(
    db: Database,
    *,
    site_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    secure_cookies: bool = False,
    threads: int = 4,
) -> None:
    """Serve the console at / and the published site at /site/ until Ctrl+C.

    One process (login throttling is kept in memory per process). Behind an HTTPS
    reverse proxy, pass ``secure_cookies=True`` so the session cookie is Secure.
    """
    import uvicorn

    from supervision.console.app import create_app

    app = create_app(db, site_dir=site_dir, secure_cookies=secure_cookies, threads=threads)
    base = f"http://{host}:{port}"
    click.echo(f"监管控制台 / console: {base}/  (Ctrl+C 停止 / to stop)")
    click.echo(f"公示网站 / public site: {base}/site/")
    click.echo(f"JSON API: {base}/api/  (OpenAPI: {base}/api/openapi.json)")
    click.echo("添加用户 / add a user: supervision user add NAME --role reviewer")
    # Behind a reverse proxy on this machine, X-Forwarded-Proto: https makes cookies Secure.
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                proxy_headers=True, forwarded_allow_ips="127.0.0.1")  # fmt: skip
