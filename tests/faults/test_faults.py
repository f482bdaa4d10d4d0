"""The fault suite: races and kills against a demo province, each followed by consistency
checks (the trail verifies, every drawn task recomputes, counts are all-or-nothing, no page
is empty or cut, no worker outlives its parent) and a rerun that completes.

Seeded: ``SUPERVISION_FAULTS_SEED=N pytest tests/faults`` replays a run; every failure names
the seed, the trial and the moment of the kill.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from bs4 import BeautifulSoup
from faults_support import (
    AS_OF,
    COMMITTED,
    Template,
    assert_all_gone,
    assert_consistent,
    assert_site_whole,
    demo,  # noqa: F401  (fixtures)
    kill_after,
    postgres_demo,  # noqa: F401
    replay,
    sqlite_demo,  # noqa: F401
    start_cli,
    trial_rng,
)
from sqlmodel import func, select

from supervision.accounts.users import add_user
from supervision.db import Database
from supervision.models import DrawPick, Entity, Finding, TaskStatus, TrailEvent
from supervision.models.users import Role

pytestmark = pytest.mark.slow
KILL_TRIALS = 10
# The demo's console users: every CLI command that changes data acts as one (--as).
ADMIN = ("--as", "demo-admin")
PLANNER = ("--as", "demo-planner")
PASSWORD = "correct horse battery"


def _count(url: str, model: Any, *where: Any) -> int:
    db = Database(url)
    try:
        with db.session() as session:
            return int(session.exec(select(func.count()).select_from(model).where(*where)).one())
    finally:
        db.dispose()


# ------------------------------------------------------------------------------ races
def test_concurrent_draw_processes_draw_a_task_once(demo: Template, tmp_path: Path) -> None:  # noqa: F811
    for trial in range(2):
        with demo.copy(tmp_path) as url:
            children = [
                start_cli(
                    ["--db", url, "task", "draw", COMMITTED, "--seed", f"{trial}{n}9731", *PLANNER],
                    tmp_path / f"draw-{trial}-{n}",
                )
                for n in range(3)
            ]
            codes = [child.wait() for child in children]
            where = replay("draw race", trial, backend=demo.backend, exits=codes)
            assert sorted(codes) == [0, 1, 1], where + "".join(c.stderr for c in children)
            for child, code in zip(children, codes, strict=True):
                assert "Traceback" not in child.stderr, where + child.stderr
                if code:
                    assert "已经抽取" in child.stderr and "already been drawn" in child.stderr
            state = assert_consistent(url, where)
            assert state["tasks"][COMMITTED] == TaskStatus.DRAWN
            draws = _count(url, TrailEvent, TrailEvent.action == "task.draw",
                           TrailEvent.object == f"task:{COMMITTED}")  # fmt: skip
            assert draws == 1, where


def test_concurrent_api_draws_draw_a_task_once(demo: Template, tmp_path: Path) -> None:  # noqa: F811
    from test_console_support import ConsoleServer

    with demo.copy(tmp_path) as url:
        db = Database(url)
        try:
            with db.session() as session:
                add_user(session, username="planner-x", password=PASSWORD, role=Role.PLANNER,
                         display_name="计划员")  # fmt: skip
            with ConsoleServer(db) as server:
                answers: list[httpx.Response] = []
                start = threading.Barrier(4)

                def draw(seed: str) -> None:
                    with httpx.Client(base_url=server, timeout=120) as client:
                        token = client.post(
                            "/api/session", json={"username": "planner-x", "password": PASSWORD}
                        ).json()["token"]
                        start.wait()
                        answers.append(client.post(
                            "/api/tasks/draw", json={"code": COMMITTED, "seed": seed},
                            headers={"Authorization": f"Bearer {token}"},
                        ))  # fmt: skip

                threads = [threading.Thread(target=draw, args=(f"{n}2718",)) for n in range(4)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(180)
            statuses = sorted(a.status_code for a in answers)
            assert statuses == [200, 409, 409, 409], [a.text for a in answers]
            for answer in answers:
                if answer.status_code == 409:
                    assert "already been drawn" in answer.json()["error"]["en"]
        finally:
            db.dispose()
        assert_consistent(url, f"API draw race on {demo.backend}")


def test_publish_beside_search_renders_in_both_languages(
    sqlite_demo: Template,  # noqa: F811
    tmp_path: Path,
) -> None:
    """A console serving the site answers searches in English and Chinese all through a
    publish in the same process; every published page keeps its language."""
    from test_console_support import ConsoleServer

    from supervision.site import publish_site

    with sqlite_demo.copy(tmp_path) as url:
        db = Database(url)
        site = tmp_path / "site"
        publish_site(db, out_dir=site, languages="all", workers=1)
        stop = threading.Event()
        counts: list[int] = []
        try:
            with ConsoleServer(db, site_dir=site) as server:

                def search(path: str, tag: str) -> None:
                    n = 0
                    with httpx.Client(base_url=server, timeout=60) as client:
                        while not stop.is_set():
                            page = client.get(path, params={"q": "9"})
                            html = BeautifulSoup(page.text, "html.parser").find("html")
                            assert html is not None and html.get("lang") == tag
                            n += 1
                    counts.append(n)

                threads = [
                    threading.Thread(target=search, args=("/site/en/search/", "en")),
                    threading.Thread(target=search, args=("/site/search/", "zh-CN")),
                ]
                for thread in threads:
                    thread.start()
                try:
                    for attempt in range(2):
                        out = tmp_path / f"site-{attempt}"
                        publish_site(db, out_dir=out, languages="all", workers=1)
                        for page in out.rglob("*.html"):
                            tag = "en" if page.relative_to(out).parts[0] == "en" else "zh-CN"
                            html = BeautifulSoup(page.read_bytes(), "html.parser").find("html")
                            assert html is not None and html.get("lang") == tag, page
                finally:
                    stop.set()
                    for thread in threads:
                        thread.join(60)
        finally:
            db.dispose()
        assert len(counts) == 2 and all(counts), counts


# ------------------------------------------------------------------------------ kill -9
def _entities_file(where: Path, rows: int) -> Path:
    from factories import make_entity, make_uscc, write_csv

    return write_csv(
        where / "entities.csv",
        [
            make_entity(
                700_000 + n, uscc=make_uscc(700_000 + n, region="150102"), region_code="150102"
            )
            for n in range(rows)
        ],
    )


def _timed_run(template: Template, tmp_path: Path, name: str, argv: list[str]) -> float:
    """Seconds one uninterrupted run of `argv` takes here (kills are drawn within it)."""
    with template.copy(tmp_path) as url:
        started = time.monotonic()
        child = start_cli(["--db", url, *argv], tmp_path / f"{name}-timed")
        assert child.wait(300) == 0, child.stderr
        return time.monotonic() - started


_TRACEBACK_TO_EOF = re.compile(
    r"Traceback \(most recent call last\):\n(?:  [^\n]*\n)*?EOFError: Ran out of input\n?"
)


def _without_orphaned_spawns(stderr: str) -> str:
    """The killed command's stderr less the one traceback it cannot prevent: a spawned
    worker that was still reading its start-up data from the parent when the parent was
    killed ends in ``EOFError`` inside ``multiprocessing.spawn``, before any of our code
    runs (it dies with its parent, as it should; only Python's own message is left)."""
    return _TRACEBACK_TO_EOF.sub(
        lambda m: "" if "multiprocessing/spawn.py" in m.group(0) else m.group(0), stderr
    )


def _kill_trials(
    name: str,
    template: Template,
    tmp_path: Path,
    argv: list[str],
    *,
    check: Any,
    rerun: list[str] | None = None,
    rerun_exit: Any = None,
) -> None:
    """`KILL_TRIALS` runs of `argv`, each killed at a seeded random moment within the time
    an uninterrupted run takes, then `check(url, where, finished)`; then the rerun (`rerun`,
    default `argv`) must complete (exit 0, or ``rerun_exit(url)`` when the state decides,
    e.g. 1 for a task already drawn), and `check` must hold again."""
    longest = _timed_run(template, tmp_path, name, argv)
    for trial in range(KILL_TRIALS):
        rng = trial_rng(name, trial)
        delay = round(rng.uniform(0, longest), 3)
        where = replay(name, trial, kill_after_seconds=delay)
        with template.copy(tmp_path) as url:
            child = start_cli(["--db", url, *argv], tmp_path / f"{name}-{trial}")
            below = kill_after(child, delay)
            finished = child.process.exitcode == 0
            assert_all_gone(below, where)
            assert "Traceback" not in _without_orphaned_spawns(child.stderr), where + child.stderr
            check(url, where, finished)
            expected = rerun_exit(url) if rerun_exit else 0
            again = start_cli(["--db", url, *(rerun or argv)], tmp_path / f"{name}-{trial}-re")
            assert again.wait(300) == expected, where + again.stderr
            assert "Traceback" not in again.stderr, where + again.stderr
            check(url, where + " after the rerun", True)


def test_kill_during_import(sqlite_demo: Template, tmp_path: Path) -> None:  # noqa: F811
    rows = 4000
    source = _entities_file(tmp_path, rows)
    before = _count(f"sqlite:///{sqlite_demo.source}", Entity)

    def check(url: str, where: str, finished: bool) -> None:
        assert_consistent(url, where)
        count = _count(url, Entity)
        assert count in ((before + rows,) if finished else (before, before + rows)), where

    _kill_trials("import", sqlite_demo, tmp_path, ["import", "entities", str(source), *ADMIN],
                 check=check)  # fmt: skip


def test_kill_during_check(sqlite_demo: Template, tmp_path: Path) -> None:  # noqa: F811
    argv = ["check", "--as-of", AS_OF, "--full", "--workers", "2"]
    findings = _count(f"sqlite:///{sqlite_demo.source}", Finding)  # the demo checked this day

    def check(url: str, where: str, finished: bool) -> None:
        assert_consistent(url, where)
        if finished:  # the same rules on the same records: the same findings
            assert _count(url, Finding) == findings, where

    # The rerun is the next incremental check: it finishes what the killed one left.
    _kill_trials("check", sqlite_demo, tmp_path, argv, check=check,
                 rerun=["check", "--as-of", AS_OF])  # fmt: skip


def test_kill_during_draw(sqlite_demo: Template, tmp_path: Path) -> None:  # noqa: F811
    argv = ["task", "draw", COMMITTED, "--seed", "16180339887", *PLANNER]

    def check(url: str, where: str, finished: bool) -> None:
        state = assert_consistent(url, where)  # a drawn task recomputes
        picks = _count(url, DrawPick, DrawPick.task_code == COMMITTED)
        status = state["tasks"][COMMITTED]
        if finished:
            assert status == TaskStatus.DRAWN, where
        assert (status == TaskStatus.DRAWN) == (picks > 0), where  # all or nothing
        assert status in (TaskStatus.COMMITTED, TaskStatus.DRAWN), where

    def rerun_exit(url: str) -> int:  # drawn already: refused as such; else it draws
        return 1 if _count(url, DrawPick, DrawPick.task_code == COMMITTED) else 0

    _kill_trials("draw", sqlite_demo, tmp_path, argv, check=check, rerun_exit=rerun_exit)


def test_kill_during_publish(sqlite_demo: Template, tmp_path: Path) -> None:  # noqa: F811
    """Even trials republish over the demo's site (manifest gone: every file rewritten in
    place, each atomically); odd trials build a first site, switched in as a whole."""
    site = tmp_path / "site"
    argv = ["publish", "--out", str(site), *ADMIN]

    def check(url: str, where: str, finished: bool) -> None:
        assert_consistent(url, where)
        assert_site_whole(site, where)
        if finished or site.exists():
            assert (site / "index.html").is_file() and (site / "en/index.html").is_file(), where
        assert not list(tmp_path.glob("site.publishing-*")) or not finished, where

    def prepare(trial: int) -> None:
        if site.exists():
            shutil.rmtree(site)
        if trial % 2 == 0:
            shutil.copytree(sqlite_demo.site, site)
            (site / ".manifest.json").unlink()

    prepare(0)
    longest = _timed_run(sqlite_demo, tmp_path, "publish", argv)
    for trial in range(KILL_TRIALS):
        prepare(trial)
        rng = trial_rng("publish", trial)
        delay = round(rng.uniform(0, longest), 3)
        where = replay("publish", trial, kill_after_seconds=delay)
        with sqlite_demo.copy(tmp_path) as url:
            child = start_cli(["--db", url, *argv], tmp_path / f"publish-{trial}")
            below = kill_after(child, delay)
            assert_all_gone(below, where)
            check(url, where, child.process.exitcode == 0)
            again = start_cli(["--db", url, *argv], tmp_path / f"publish-{trial}-rerun")
            assert again.wait(300) == 0, where + again.stderr
            check(url, where + " after the rerun", True)
            assert not (site / ".publishing").exists(), where
            assert not list(tmp_path.glob("site.publishing-*")), where


def test_only_an_orphaned_spawns_traceback_is_forgiven() -> None:
    """The filter removes a spawned worker's start-up EOFError and nothing else."""
    orphan = (
        "Traceback (most recent call last):\n"
        '  File "<string>", line 1, in <module>\n'
        '  File "/usr/lib/python3.11/multiprocessing/spawn.py", line 130, in _main\n'
        "    self = reduction.pickle.load(from_parent)\n"
        "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "EOFError: Ran out of input\n"
    )
    ours = 'Traceback (most recent call last):\n  File "x.py", line 1, in f\nEOFError: Ran out of input\n'
    assert _without_orphaned_spawns("a\n" + orphan + "b\n") == "a\nb\n"
    assert _without_orphaned_spawns(ours) == ours
    assert "Traceback" in _without_orphaned_spawns(orphan + ours)
