"""Running the console (with the public site beside it) under uvicorn: `supervision serve`.

With ``--workers N`` each worker process binds its own listening socket on the same
port with ``SO_REUSEPORT``, so the kernel spreads new connections evenly over the
processes. (uvicorn's own ``--workers`` shares one socket: a burst of keep-alive
connections, 20 browsers or a load tester, can all be accepted by one process while
the other idles; its bind also loses ``TCP_NODELAY``, see ``bind_tcp``.) This process
only supervises: it restarts a worker that dies and stops them all on Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from supervision.db import Database
from supervision.errors import SupervisionError

__all__ = ["bind_tcp", "run_console"]

#: The application factory the worker processes import (it reads the variables below).
APP_FACTORY = "supervision.console.app:app_from_environment"
#: A worker exiting this many times within this many seconds stops the console (a
#: worker that cannot start, e.g. the database is gone, is not restarted forever).
CRASH_LOOP = (5, 30.0)
#: uvicorn settings shared by every worker. uvicorn's own proxy headers are off: the
#: application believes X-Forwarded-For / -Proto only from $SUPERVISION_TRUSTED_PROXIES
#: (uvicorn would believe any loopback peer, so a local proxy's clients could rotate the
#: header to dodge the sign-in throttle and write any address into the trail).
UVICORN_OPTIONS: dict[str, Any] = {
    "factory": True,
    "log_level": "warning",
    "access_log": False,
    "proxy_headers": False,
}


def bind_tcp(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket to hand to uvicorn.

    Created with ``IPPROTO_TCP`` on purpose: uvicorn 0.54 binds its sockets with
    protocol 0, accepted connections inherit it, and asyncio then does not set
    ``TCP_NODELAY`` on them, so every keep-alive response after the first waits ~40 ms
    for the client's delayed ACK (uvicorn issue #3149). ``reuse_port``: one socket per
    worker process on the same port, balanced by the kernel.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _serve(sock: socket.socket) -> None:
    import uvicorn

    uvicorn.Server(uvicorn.Config(APP_FACTORY, **UVICORN_OPTIONS)).run(sockets=[sock])


def _worker(host: str, port: int) -> None:
    """A worker process: its own socket on the shared port, one uvicorn server."""
    _serve(bind_tcp(host, port, reuse_port=True))


def run_console(
    db: Database,
    *,
    site_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    secure_cookies: bool = False,
    threads: int = 2,
    workers: int = 1,
) -> None:
    """Serve the console at / and the published site at /site/ until Ctrl+C or SIGTERM.

    ``workers`` processes serve the same port; sessions and the login throttle live in
    the database, so they behave the same in every process. Behind an HTTPS reverse
    proxy, pass ``secure_cookies=True`` so the session cookie is Secure.
    """
    from supervision.settings import settings

    trusted = settings().trusted_proxy_list  # a bad value is an error here, not in a worker
    # Holds the port (and tells which one port 0 became) while the workers start.
    sock = bind_tcp(host, port, reuse_port=workers > 1)
    port = sock.getsockname()[1]
    base = f"http://{host}:{port}"
    click.echo(f"监管控制台 / console: {base}/  (Ctrl+C 停止 / to stop)")
    click.echo(f"公示网站 / public site: {base}/site/")
    click.echo(f"JSON API: {base}/api/  (OpenAPI: {base}/api/openapi.json)")
    click.echo(f"进程 / worker processes: {workers} × {threads} 线程 / threads")
    click.echo("添加用户 / add a user: supervision user add NAME --role reviewer")
    if trusted:
        click.echo(f"可信代理 / trusted proxies: {', '.join(trusted)}")
    # The application is built from these, in this process or in each worker.
    os.environ.update(
        SUPERVISION_DATABASE_URL=db.url,
        SUPERVISION_SITE_DIR=str(Path(site_dir).resolve()),
        SUPERVISION_CONSOLE_THREADS=str(threads),
        SUPERVISION_SECURE_COOKIES="1" if secure_cookies else "",
    )
    try:
        if workers == 1:
            _serve(sock)
        else:
            _supervise(host, port, workers, target=_worker)
    finally:
        sock.close()


def _supervise(host: str, port: int, workers: int, *, target: Callable[[str, int], None]) -> None:
    """Start `workers` processes running ``target(host, port)``, restart any that dies,
    stop them all on a signal (or when they keep dying: ``CRASH_LOOP``)."""
    context = multiprocessing.get_context("spawn")
    stopping = False

    def start() -> Any:
        process = context.Process(target=target, args=(host, port), name="supervision-console")
        process.start()
        return process

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    exits: deque[float] = deque(maxlen=CRASH_LOOP[0])
    try:
        while not stopping:
            time.sleep(0.2)
            for i, process in enumerate(processes):
                if not process.is_alive() and not stopping:
                    exits.append(time.monotonic())
                    if len(exits) == exits.maxlen and exits[-1] - exits[0] < CRASH_LOOP[1]:
                        raise SupervisionError(
                            f"控制台进程反复退出（{CRASH_LOOP[1]} 秒内 {CRASH_LOOP[0]} 次），"
                            "已全部停止；原因见上方信息",
                            f"console workers keep exiting ({CRASH_LOOP[0]} times within "
                            f"{CRASH_LOOP[1]} s); all stopped, see the messages above",
                        )
                    click.echo(
                        f"控制台进程 {process.pid} 已退出（{process.exitcode}），重新启动 / "
                        f"worker {process.pid} exited ({process.exitcode}); starting another",
                        err=True,
                    )
                    processes[i] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
