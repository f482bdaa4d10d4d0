"""`supervision serve`: the console at / and the published site at /site/, in one or
several worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import site_support as s

from supervision.accounts.users import add_user
from supervision.console import serve
from supervision.console.serve import bind_tcp
from supervision.db import Database
from supervision.errors import SupervisionError
from supervision.models.users import Role
from supervision.site import publish_site


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_starts_the_console_with_the_site(db_url: str, tmp_path: Path) -> None:
    db = Database(db_url)
    try:
        s.build(db, tmp_path)
        publish_site(db, out_dir=tmp_path / "site", languages="all", workers=1)
    finally:
        db.dispose()
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "supervision", "--db", db_url, "serve", "--out",
         str(tmp_path / "site"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                login = httpx.get(f"{base}/login", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        assert login.status_code == 200 and "sv_login_csrf" in login.headers["set-cookie"]
        assert httpx.get(f"{base}/", timeout=5).status_code == 303  # sign in first
        site = httpx.get(f"{base}/site/", timeout=5)
        assert site.status_code == 200 and "公示" in site.text
        assert httpx.get(f"{base}/api/openapi.json", timeout=5).json()["paths"]
    finally:
        process.terminate()
        out, _err = process.communicate(timeout=20)
    assert f"{base}/site/" in out and "console" in out


def test_bound_socket_gives_connections_tcp_nodelay() -> None:
    """The socket `serve` hands to uvicorn makes asyncio set TCP_NODELAY on every
    connection (uvicorn's own bind for --workers does not: ~40 ms per keep-alive reply)."""
    seen: list[tuple[int, int]] = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            seen.append((sock.proto, sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))
            transport.close()

    async def accept_one() -> None:
        sock = bind_tcp("127.0.0.1", 0)
        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        async with server:
            _reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(accept_one())
    assert seen == [(socket.IPPROTO_TCP, 1)]


def _listener_pids(port: int) -> set[int]:
    """The processes listening on `port` (Linux's ss): one socket per worker."""
    done = subprocess.run(["ss", "-ltnpH", f"( sport = :{port} )"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return {int(pid) for pid in re.findall(r"pid=(\d+)", done.stdout)}


def _wait_for_listeners(
    port: int, count: int, process: subprocess.Popen[str], *, gone: int | None = None
) -> set[int]:
    """The pids listening on `port` once there are `count` of them (and `gone`, a process
    just killed, is no longer among them: its socket can outlive it for a moment)."""
    deadline = time.monotonic() + 90
    while len(pids := _listener_pids(port)) != count or gone in pids:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"expected {count} listeners, saw {pids}"
        time.sleep(0.2)
    return pids


def test_serve_with_two_worker_processes(db_url: str, tmp_path: Path) -> None:
    """--workers 2: two processes, each listening on the port with its own socket (the
    kernel balances connections); a session opened through one is known to the other;
    a worker that dies is replaced; SIGTERM stops them all."""
    if shutil.which("ss") is None:
        if os.environ.get("CI"):
            pytest.fail("Linux's ss (iproute2) is missing")
        pytest.skip("needs Linux's ss (iproute2)")
    db = Database(db_url)
    try:
        s.build(db, tmp_path)
        publish_site(db, out_dir=tmp_path / "site", languages="all", workers=1)
        with db.session() as session:
            add_user(session, username="rev", password="a-long-demo-password",
                     role=Role.REVIEWER, actor="test")  # fmt: skip
    finally:
        db.dispose()
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "supervision", "--db", db_url, "serve", "--out",
         str(tmp_path / "site"), "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
        start_new_session=True,  # on failure the whole group goes: no worker keeps the pipes
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def queue_answers(token: str) -> None:
        for _ in range(12):  # a new connection each time: spread over both processes
            with httpx.Client(base_url=base, timeout=10) as client:
                answer = client.get(
                    "/api/review/queue", headers={"Authorization": f"Bearer {token}"}
                )
                assert answer.status_code == 200, answer.text

    try:
        workers = _wait_for_listeners(port, 2, process)
        assert process.pid not in workers
        token = httpx.post(
            f"{base}/api/session",
            json={"username": "rev", "password": "a-long-demo-password"},
            timeout=10,
        ).json()["token"]
        queue_answers(token)
        killed = min(workers)
        os.kill(killed, signal.SIGKILL)
        replaced = _wait_for_listeners(port, 2, process, gone=killed)
        assert killed not in replaced and replaced - workers
        queue_answers(token)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None or _listener_pids(port):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 0, err
    assert _listener_pids(port) == set()
    assert "2 × 2" in out and "starting another" in err, (out, err)  # default: 2 threads


def _exit_at_once(host: str, port: int) -> None:
    raise SystemExit(3)  # a worker that cannot start (say, the database is gone)


def test_workers_that_keep_exiting_stop_the_console() -> None:
    """The supervisor restarts a dead worker, but not forever: a crash loop ends with a
    clear error instead of restarting five times a second."""
    started = time.monotonic()
    with pytest.raises(SupervisionError, match="keep exiting"):
        serve._supervise("127.0.0.1", _free_port(), 2, target=_exit_at_once)
    assert time.monotonic() - started < serve.CRASH_LOOP[1] + 30


SETTLED_PROBE = """
import gc, json
from supervision.console.app import app_from_environment
from supervision.console.pages import console_environment
gc.unfreeze()
app_from_environment()
env = console_environment()
names = env.list_templates(extensions=("html", "xml"))
compiled = {name for _loader, name in env.cache}  # cache_size=-1: a dict, never evicted
print(json.dumps({"frozen": gc.get_freeze_count(), "templates": len(names),
                  "missing": sorted(set(names) - compiled)}))
"""


def test_a_served_application_is_settled_before_its_first_request(
    db_url: str, tmp_path: Path
) -> None:
    """Each worker compiles every template and freezes its long-lived objects out of the
    collector's view before it serves: full collections used to walk ~200,000 objects and
    pause the worker 100-160 ms, the review queue's p95 under load."""
    Database(db_url).dispose()  # migrated
    env = {**os.environ, "SUPERVISION_DATABASE_URL": db_url,
           "SUPERVISION_SITE_DIR": str(tmp_path / "site")}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", SETTLED_PROBE], env=env, capture_output=True,
                          text=True, check=False, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["frozen"] > 50_000  # the modules, the app, the compiled templates
    assert seen["templates"] > 30 and seen["missing"] == []
