"""Running the console (with the public site beside it) under uvicorn: `supervision serve`."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import click

from supervision.db import Database

__all__ = ["bind_tcp", "run_console"]

#: The application factory the worker processes import (it reads the variables below).
APP_FACTORY = "supervision.console.app:app_from_environment"


def bind_tcp(host: str, port: int) -> socket.socket:
    """A listening TCP socket to hand to uvicorn's worker processes.

    Created with ``IPPROTO_TCP`` on purpose: uvicorn 0.54 binds the socket for
    ``--workers`` with protocol 0, accepted connections inherit it, and asyncio then does
    not set ``TCP_NODELAY`` on them, so every keep-alive response after the first waits
    ~40 ms for the client's delayed ACK (uvicorn issue #3149).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def run_console(
    db: Database,
    *,
    site_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    secure_cookies: bool = False,
    threads: int = 4,
    workers: int = 1,
) -> None:
    """Serve the console at / and the published site at /site/ until Ctrl+C.

    ``workers`` processes share one listening socket; sessions and the login throttle
    live in the database, so they behave the same in every process. Behind an HTTPS
    reverse proxy, pass ``secure_cookies=True`` so the session cookie is Secure.
    """
    import uvicorn

    sock = bind_tcp(host, port)
    base = f"http://{host}:{sock.getsockname()[1]}"
    click.echo(f"监管控制台 / console: {base}/  (Ctrl+C 停止 / to stop)")
    click.echo(f"公示网站 / public site: {base}/site/")
    click.echo(f"JSON API: {base}/api/  (OpenAPI: {base}/api/openapi.json)")
    click.echo(f"进程 / worker processes: {workers} × {threads} 线程 / threads")
    click.echo("添加用户 / add a user: supervision user add NAME --role reviewer")
    # The worker processes build the application from these (see app_from_environment).
    os.environ.update(
        SUPERVISION_DATABASE_URL=db.url,
        SUPERVISION_SITE_DIR=str(Path(site_dir).resolve()),
        SUPERVISION_CONSOLE_THREADS=str(threads),
        SUPERVISION_SECURE_COOKIES="1" if secure_cookies else "",
    )
    # Behind a reverse proxy on this machine, X-Forwarded-Proto: https makes cookies Secure.
    config = uvicorn.Config(
        APP_FACTORY, factory=True, workers=workers, log_level="warning", access_log=False,
        proxy_headers=True, forwarded_allow_ips="127.0.0.1",
    )  # fmt: skip
    try:
        if workers > 1:
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=[sock]).run()
        else:
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
