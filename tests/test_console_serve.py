"""`supervision serve`: the console at / and the published site at /site/, one process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import site_support as s

from supervision.db import Database
from supervision.site import publish_site


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_starts_the_console_with_the_site(db_url: str, tmp_path: Path) -> None:
    db = Database(db_url)
    try:
        s.build(db, tmp_path)
        publish_site(db, tmp_path / "site", languages="all", workers=1)
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
