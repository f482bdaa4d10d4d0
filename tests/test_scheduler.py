"""The scheduler on the real APScheduler and the real database (SQLite and PostgreSQL).

Triggers are checked with ``get_next_fire_time``; whole runs with time-machine, the
DebugExecutor and a driver that plays APScheduler's own loop (scheduler_support.drive).
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from apscheduler.triggers.cron import CronTrigger
from scheduler_support import config, draft_task, drive, service, small_province
from sqlalchemy import func, select, text

from supervision.db import Database
from supervision.draw.commit import commit_task
from supervision.errors import SupervisionError, ValidationFailed
from supervision.models import JobRun, Task, TaskStatus
from supervision.models.scheduling import Alert, TaskSchedule
from supervision.scheduling import lease
from supervision.scheduling.alerts import open_alerts
from supervision.scheduling.config import load_config, parse_config
from supervision.scheduling.runs import claim, finish, last_fire_time, period_key, run_once
from supervision.scheduling.schedules import set_schedule
from supervision.scheduling.seeds import check_seed_entry, enter_seed

pytestmark = pytest.mark.usefixtures("crew")

SH = ZoneInfo("Asia/Shanghai")


def at(text_: str) -> datetime:
    """A Beijing time written plainly."""
    return datetime.fromisoformat(text_).replace(tzinfo=SH)


def runs(db: Database, job: str | None = None) -> list[tuple[str, str, str]]:
    with db.engine.connect() as conn:
        query = select(JobRun.job, JobRun.period, JobRun.status).order_by(JobRun.job, JobRun.period)  # type: ignore[arg-type]
        if job:
            query = query.where(JobRun.job == job)  # type: ignore[arg-type]
        return [tuple(r) for r in conn.execute(query).all()]  # type: ignore[misc]


def alerts(db: Database) -> list[tuple[str, str]]:
    with db.session() as session:
        return [(a.kind, a.object) for a in open_alerts(session)]


# --------------------------------------------------------------------------- pure parts
def test_cron_triggers_fire_in_beijing_time() -> None:
    trigger = CronTrigger.from_crontab("30 1 * * *", timezone="Asia/Shanghai")
    now = at("2026-12-01T12:00")
    nxt = trigger.get_next_fire_time(None, now)
    assert nxt == at("2026-12-02T01:30")
    assert nxt.astimezone(UTC).hour == 17  # 01:30 in Beijing is 17:30 UTC the day before
    weekdays = CronTrigger.from_crontab("0 8 * * mon-fri", timezone="Asia/Shanghai")
    fire = weekdays.get_next_fire_time(None, at("2026-12-05T00:00"))  # a Saturday
    assert fire == at("2026-12-07T08:00")  # Monday


def test_periods_belong_to_the_scheduled_fire_time_even_when_run_late() -> None:
    trigger = CronTrigger.from_crontab("59 23 * * *", timezone="Asia/Shanghai")
    late = at("2026-12-02T00:10")  # the 23:59 run started 11 minutes late, after midnight
    fire = last_fire_time(trigger, late)
    assert fire == at("2026-12-01T23:59")
    assert period_key(fire, SH) == "2026-12-01T23:59"
    assert last_fire_time(trigger, at("2026-12-01T23:58")) == at("2026-11-30T23:59")


def test_configuration_file_and_its_errors(tmp_path: Path) -> None:
    good = tmp_path / "scheduler.toml"
    good.write_text(
        'timezone = "Asia/Shanghai"\n[jobs.nightly_check]\ncron = "15 2 * * *"\n'
        "misfire_grace_seconds = 3600\n[tasks]\ndraw_grace_seconds = 300\n",
        encoding="utf-8",
    )
    cfg = load_config(good)
    assert cfg.jobs["nightly_check"].cron == "15 2 * * *"
    assert cfg.jobs["nightly_check"].misfire_grace_seconds == 3600
    assert cfg.jobs["deadline_watch"].cron == "0 7 * * *"  # default kept
    assert cfg.tasks.draw_grace_seconds == 300
    with pytest.raises(ValidationFailed) as caught:
        parse_config(
            {
                "timezone": "Mars/Base",
                "jobs": {"nightly_check": {"cron": "0 8 * * 1-5"}, "unknown": {}},
                "tasks": {"draw_grace_seconds": 0},
            }
        )
    details = "\n".join(caught.value.details)
    assert "Mars/Base" in details
    assert "mon-fri" in details  # numeric weekdays refused: APScheduler 3 counts 0 as Monday
    assert "unknown" in details
    assert "draw_grace_seconds" in details
    bad = tmp_path / "bad.toml"
    bad.write_text("timezone = ", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="TOML"):
        load_config(bad)


def test_seed_entry_rules() -> None:
    now = at("2026-12-01T10:00")
    base = {
        "task_code": "T1",
        "committed_at": at("2026-12-01T09:00"),
        "seed_source": "manual",
        "seed_deadline": at("2026-12-01T12:00"),
        "already_entered": None,
        "now": now,
    }
    check_seed_entry(task_status=TaskStatus.COMMITTED, **base)  # type: ignore[arg-type]
    with pytest.raises(SupervisionError, match="尚未锁定"):
        check_seed_entry(**(base | {"task_status": TaskStatus.DRAFT, "committed_at": None}))  # type: ignore[arg-type]
    with pytest.raises(SupervisionError, match="已于"):
        check_seed_entry(task_status=TaskStatus.COMMITTED, **(base | {"already_entered": now}))  # type: ignore[arg-type]
    with pytest.raises(SupervisionError, match="截止"):
        check_seed_entry(
            task_status=TaskStatus.COMMITTED,
            **(base | {"now": at("2026-12-01T12:01")}),  # type: ignore[arg-type]
        )
    with pytest.raises(SupervisionError, match="不再接受"):
        check_seed_entry(task_status=TaskStatus.DRAWN, **base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- exactly once
def test_a_key_is_claimed_once_and_a_second_run_says_so(db: Database) -> None:
    done: list[str] = []

    def work(session: Any) -> dict[str, Any]:
        done.append("x")
        return {"n": len(done)}

    first = run_once(db, job="nightly_check", period="2026-12-01T01:30", work=work)
    second = run_once(db, job="nightly_check", period="2026-12-01T01:30", work=work)
    assert first.status == "done" and first.result == {"n": 1}
    assert second.status == "already_done"
    assert "已执行过" in second.zh and "already ran" in second.en
    assert done == ["x"]
    assert runs(db) == [("nightly_check", "2026-12-01T01:30", "done")]


def test_a_failed_run_leaves_nothing_but_its_error_and_may_run_again(db: Database) -> None:
    def boom(session: Any) -> dict[str, Any]:
        session.execute(text("UPDATE job_run SET result = '{}'"))  # some work, then failure
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        run_once(db, job="deadline_watch", period="p1", work=boom)
    # The work and the claim rolled back; only the trace of the attempt is left.
    assert runs(db) == [("deadline_watch", "p1", "started")]
    from supervision.scheduling.runs import record_failure

    with db.session() as session:
        record_failure(session, job="deadline_watch", period="p1", error="RuntimeError: disk full")
    assert runs(db) == [("deadline_watch", "p1", "failed")]
    again = run_once(db, job="deadline_watch", period="p1", work=lambda s: {"ok": True})
    assert again.status == "done"
    with db.session() as session:
        row = session.execute(select(JobRun)).scalar_one()
        assert (row.status, row.attempts, row.error) == ("done", 2, None)


def test_concurrent_claims_of_one_key_have_one_winner(db: Database) -> None:
    """Two transactions claim the same key at once: one wins, the other waits and loses."""
    barrier = threading.Barrier(2)
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        with db.session() as session:
            barrier.wait()
            won = claim(session, job="draw", period="T1")
            if won:
                finish(session, job="draw", period="T1", result={})
            with lock:
                results.append(won)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [False, True]
    assert runs(db) == [("draw", "T1", "done")]


# --------------------------------------------------------------------------- lease
def test_a_second_scheduler_refuses_to_start_and_a_stale_lease_is_taken_over(db: Database) -> None:
    with time_machine.travel(at("2026-12-01T00:00"), tick=False) as traveller:
        lease.acquire(db, holder="host-a:1", ttl_seconds=120)
        with pytest.raises(lease.LeaseHeld) as caught:
            lease.acquire(db, holder="host-b:2", ttl_seconds=120)
        assert "另一个调度进程正在运行" in caught.value.zh and "host-a:1" in caught.value.en
        traveller.shift(timedelta(seconds=60))
        assert lease.renew(db, holder="host-a:1", ttl_seconds=120)
        traveller.shift(timedelta(seconds=119))
        with pytest.raises(lease.LeaseHeld):
            lease.acquire(db, holder="host-b:2", ttl_seconds=120)  # renewed 119 s ago: still alive
        traveller.shift(timedelta(seconds=2))
        taken = lease.acquire(db, holder="host-b:2", ttl_seconds=120)  # stale: taken over
        assert taken.holder == "host-b:2"
        assert not lease.renew(
            db, holder="host-a:1", ttl_seconds=120
        )  # the old holder learns it lost
        lease.release(db, holder="host-b:2")
        assert lease.current_lease(db) is None


def test_a_scheduler_that_loses_its_lease_stops_and_alerts(db: Database) -> None:
    cfg = config()
    with time_machine.travel(at("2026-12-01T00:00"), tick=False) as traveller:
        a = service(db, cfg, "host-a:1")
        a.start()
        traveller.shift(timedelta(seconds=cfg.lease_ttl_seconds + 1))  # a hangs past its TTL
        lease.acquire(db, holder="host-b:2", ttl_seconds=cfg.lease_ttl_seconds)  # b takes over
        a.heartbeat()
        assert a.lease_lost
        assert ("lease_lost", "host-a:1") in alerts(db)
        a.stop()
        assert lease.current_lease(db).holder == "host-b:2"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- recurring jobs
def _weekdays(start: datetime, days: int) -> int:
    return sum((start + timedelta(days=d)).weekday() < 5 for d in range(days))


def test_a_month_of_simulated_days_gives_exactly_the_expected_runs(db: Database) -> None:
    start = at("2026-12-01T00:00")
    with time_machine.travel(start, tick=False) as traveller:
        s = service(db, config())
        s.start()
        drive([s], traveller, start + timedelta(days=30))
        s.stop()
    nightly = runs(db, "nightly_check")
    assert [p for _, p, _ in nightly] == [f"2026-12-{d:02d}T01:30" for d in range(1, 31)]
    assert {st for _, _, st in nightly} == {"done"}
    assert len(runs(db, "deadline_watch")) == 30
    published = [p for _, p, _ in runs(db, "publish_results")]
    assert len(published) == _weekdays(start, 30)
    assert all(datetime.fromisoformat(p).weekday() < 5 for p in published)
    with db.engine.connect() as conn:  # the nightly job really ran the check, once a night
        assert conn.execute(text("SELECT count(*) FROM check_run")).scalar() == 30
    assert alerts(db) == []


def test_after_three_days_down_each_job_catches_up_exactly_once(db: Database) -> None:
    start = at("2026-12-01T00:00")  # a Tuesday
    with time_machine.travel(start, tick=False) as traveller:
        s = service(db, config())
        s.start()
        drive([s], traveller, at("2026-12-02T12:00"))
        s.stop()
        before = {
            job: len(runs(db, job))
            for job in ("nightly_check", "deadline_watch", "publish_results")
        }
        assert before == {"nightly_check": 2, "deadline_watch": 2, "publish_results": 2}
        traveller.move_to(at("2026-12-05T12:00"))  # down for 3 days (Wed, Thu, Fri missed)
        s2 = service(db, config(), "test-b")
        s2.start()
        drive([s2], traveller, at("2026-12-05T12:30"))  # before any regular run
        s2.stop()
    after = {job: runs(db, job) for job in before}
    assert {job: len(r) - before[job] for job, r in after.items()} == {
        "nightly_check": 1,
        "deadline_watch": 1,
        "publish_results": 1,
    }
    # The catch-up is the latest missed period, not "now".
    assert after["nightly_check"][-1][1] == "2026-12-05T01:30"
    assert after["publish_results"][-1][1] == "2026-12-04T08:00"  # Friday; Saturday has none


def test_a_run_missed_beyond_its_grace_is_skipped_with_an_alert(db: Database) -> None:
    cfg = config(jobs={"deadline_watch": {"cron": "0 7 * * *", "misfire_grace_seconds": 3600}})
    with time_machine.travel(at("2026-12-01T00:00"), tick=False) as traveller:
        s = service(db, cfg)
        s.start()
        drive([s], traveller, at("2026-12-01T06:00"))
        s.stop()
        traveller.move_to(at("2026-12-01T09:00"))  # 2 h after 07:00, grace 1 h
        s2 = service(db, cfg, "test-b")
        s2.start()
        drive([s2], traveller, at("2026-12-01T09:05"))
        s2.stop()
    assert runs(db, "deadline_watch") == []
    assert ("job_missed", "deadline_watch") in alerts(db)


def test_two_schedulers_on_one_database_run_each_period_once(db: Database) -> None:
    start = at("2026-12-01T00:00")
    with time_machine.travel(start, tick=False) as traveller:
        a = service(db, config(), "host-a:1")
        a.start()
        b = service(db, config(), "host-b:2")
        with pytest.raises(lease.LeaseHeld):
            b.start()  # refused: a live scheduler holds the lease
        # Even if a second one ran anyway (lease bypassed), the keys hold.
        b.scheduler.add_job(b.sync, "interval", seconds=3600, id="sync", jobstore="internal")
        b.scheduler.start()
        b.sync()
        drive([a, b], traveller, start + timedelta(days=5))
        a.stop()
        b.scheduler.shutdown()
    nightly = runs(db, "nightly_check")
    assert [p for _, p, _ in nightly] == [f"2026-12-{d:02d}T01:30" for d in range(1, 6)]
    assert len(runs(db, "deadline_watch")) == 5
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM check_run")).scalar() == 5


# --------------------------------------------------------------------------- task jobs
def _scheduled_task(db: Database, tmp_path: Path, **province: Any) -> str:
    small_province(db, tmp_path, **province)
    code = draft_task(db)
    with db.session() as session:
        set_schedule(
            session,
            task_code=code,
            commit_at=at("2026-12-01T09:00"),
            draw_at=at("2026-12-01T10:00"),
            seed_deadline=at("2026-12-01T12:00"),
        )
    return code


def _task_status(db: Database, code: str) -> str:
    with db.session() as session:
        task = session.get(Task, code)
        assert task is not None
        return task.status


def test_seed_missing_at_draw_time_alerts_then_draws_when_it_arrives(
    db: Database, tmp_path: Path, cli: Any
) -> None:
    with time_machine.travel(at("2026-12-01T08:00"), tick=False) as traveller:
        code = _scheduled_task(db, tmp_path)
        refused = cli(
            "seed", "enter", "--as", "cli-planner", code, "123456", expect=1
        )  # before the commit
        assert "尚未锁定" in refused.stderr and "not committed" in refused.stderr
        s = service(db, config())
        s.start()
        drive([s], traveller, at("2026-12-01T09:30"))
        assert _task_status(db, code) == TaskStatus.COMMITTED
        assert runs(db, "commit") == [("commit", code, "done")]
        drive([s], traveller, at("2026-12-01T10:15"))  # draw time passed, no seed
        assert _task_status(db, code) == TaskStatus.COMMITTED
        assert ("seed_missing", code) in alerts(db)
        status = json.loads(cli("alerts", "--json").stdout)
        assert any(a["kind"] == "seed_missing" and "seed enter" in a["message_en"] for a in status)
        entered = cli(
            "seed", "enter", "--as", "cli-planner", code, "-", input="31415926\n"
        )  # from stdin
        assert "已录入" in entered.stdout
        again = cli("seed", "enter", "--as", "cli-planner", code, "27182818", expect=1)
        assert "不能更改" in again.stderr
        drive([s], traveller, at("2026-12-01T10:45"))  # next retry draws
        s.stop()
    assert _task_status(db, code) == TaskStatus.DRAWN
    with db.session() as session:
        task = session.get(Task, code)
        assert task is not None and task.seed == "31415926"
        schedule = session.get(TaskSchedule, code)
        assert schedule is not None and schedule.state == "drawn"
    assert runs(db, "draw") == [("draw", code, "done")]
    assert ("seed_missing", code) not in alerts(db)  # resolved by the draw
    # Scheduling and entering the seed are on the trail; the seed only as a digest until
    # the draw's own event records it.
    events = json.loads(cli("trail", "show", "--json").stdout)
    mine = [e for e in events if e["object"] == f"task:{code}"]
    actions = [e["action"] for e in mine]
    assert (
        actions.index("task.schedule")
        < actions.index("task.seed_entered")
        < actions.index("task.seed")
    )
    (entered_event,) = [e for e in mine if e["action"] == "task.seed_entered"]
    assert entered_event["actor"] == "console:cli-planner"
    assert entered_event["payload"]["seed_sha256"] == hashlib.sha256(b"31415926").hexdigest()
    assert "31415926" not in json.dumps(entered_event)


def test_no_seed_by_the_deadline_means_no_draw_and_an_alert(db: Database, tmp_path: Path) -> None:
    with time_machine.travel(at("2026-12-01T08:00"), tick=False) as traveller:
        code = _scheduled_task(db, tmp_path)
        s = service(db, config())
        s.start()
        drive([s], traveller, at("2026-12-01T13:00"))
        s.stop()
    assert _task_status(db, code) == TaskStatus.COMMITTED
    assert ("seed_deadline_passed", code) in alerts(db)
    assert ("seed_missing", code) not in alerts(db)
    assert runs(db, "draw") == []


def test_a_draw_missed_beyond_its_grace_alerts_instead_of_drawing_late(
    db: Database, tmp_path: Path
) -> None:
    with time_machine.travel(at("2026-12-01T08:00"), tick=False) as traveller:
        code = _scheduled_task(db, tmp_path)
        s = service(db, config())
        s.start()
        drive([s], traveller, at("2026-12-01T09:30"))  # committed
        s.stop()
        traveller.move_to(at("2026-12-01T09:40"))
        with db.session() as session:
            enter_seed(session, task_code=code, seed="31415926")
        traveller.move_to(at("2026-12-01T11:00"))  # the scheduler was down at 10:00
        s2 = service(db, config(), "test-b")
        s2.start()
        drive([s2], traveller, at("2026-12-01T11:30"))
        s2.stop()
        assert _task_status(db, code) == TaskStatus.COMMITTED  # not drawn silently late
        assert ("draw_missed", code) in alerts(db)
        with db.session() as session:
            assert session.get(TaskSchedule, code).state == "missed"  # type: ignore[union-attr]
        # Rescheduled in public: the entered seed is kept, the alert resolved, drawn on time.
        with db.session() as session:
            set_schedule(
                session,
                task_code=code,
                draw_at=at("2026-12-01T14:00"),
                seed_deadline=at("2026-12-01T14:00"),
            )
        assert ("draw_missed", code) not in alerts(db)
        s3 = service(db, config(), "test-c")
        s3.start()
        drive([s3], traveller, at("2026-12-01T14:05"))
        s3.stop()
    assert _task_status(db, code) == TaskStatus.DRAWN
    with db.session() as session:
        assert session.get(Task, code).seed == "31415926"  # type: ignore[union-attr]


def test_a_draw_job_added_after_its_time_runs_at_once_within_grace(
    db: Database, tmp_path: Path
) -> None:
    with time_machine.travel(at("2026-12-01T09:50"), tick=False) as traveller:
        small_province(db, tmp_path)
        code = draft_task(db)
        with db.session() as session:
            commit_task(session, code=code)
            set_schedule(
                session,
                task_code=code,
                draw_at=at("2026-12-01T10:00"),
                seed_deadline=at("2026-12-01T10:00"),
            )
        traveller.move_to(at("2026-12-01T09:55"))
        with db.session() as session:
            enter_seed(session, task_code=code, seed="2718281828")
        traveller.move_to(at("2026-12-01T10:03"))  # the scheduler starts 3 minutes late
        s = service(db, config())
        s.start()
        s.scheduler._process_jobs()  # sync adds the draw job, due now
        s.scheduler._process_jobs()  # and it runs
        s.stop()
    assert _task_status(db, code) == TaskStatus.DRAWN
    with db.session() as session:
        row = session.execute(select(JobRun).where(JobRun.job == "draw")).scalar_one()  # type: ignore[arg-type]
        assert row.result["late_seconds"] == 180


def test_job_functions_keep_their_names() -> None:
    """APScheduler stores jobs by import path; a renamed function silently deletes its jobs."""
    from supervision.scheduling import jobs
    from supervision.scheduling.service import RECURRING_FUNCS

    for name in (
        "run_task_commit",
        "run_task_draw",
        "run_nightly_check",
        "run_deadline_watch",
        "run_publication",
        "run_trail_checkpoint",
        "run_plan_watch",
    ):
        assert callable(getattr(jobs, name)), name
    assert {f.__name__ for f in RECURRING_FUNCS.values()} == {
        "run_nightly_check",
        "run_deadline_watch",
        "run_publication",
        "run_trail_checkpoint",
        "run_plan_watch",
    }


def test_a_failing_job_records_its_error_alerts_and_the_scheduler_goes_on(
    db: Database, tmp_path: Path
) -> None:
    """No inspector can be matched: the draw fails; the nightly check still runs."""
    with time_machine.travel(at("2026-12-01T08:00"), tick=False) as traveller:
        code = _scheduled_task(db, tmp_path, inspectors=0)
        s = service(db, config())
        s.start()
        drive([s], traveller, at("2026-12-01T09:30"))
        with db.session() as session:
            enter_seed(session, task_code=code, seed="31415926")
        drive([s], traveller, at("2026-12-02T02:00"))
        s.stop()
    assert _task_status(db, code) == TaskStatus.COMMITTED
    with db.session() as session:
        failed = session.execute(select(JobRun).where(JobRun.job == "draw")).scalar_one()  # type: ignore[arg-type]
        assert failed.status == "failed" and failed.error and failed.attempts >= 1
        alert = session.execute(select(Alert).where(Alert.kind == "job_failed")).scalar_one()  # type: ignore[arg-type]
        assert alert.object == f"draw:{code}" and "失败" in alert.message_zh
    assert ("nightly_check", "2026-12-02T01:30", "done") in runs(db)


def test_a_task_committed_by_hand_is_not_committed_again(db: Database, tmp_path: Path) -> None:
    with time_machine.travel(at("2026-12-01T08:00"), tick=False) as traveller:
        code = _scheduled_task(db, tmp_path)
        with db.session() as session:
            commit_task(session, code=code)
        s = service(db, config())
        s.start()
        drive([s], traveller, at("2026-12-01T09:30"))
        s.stop()
    assert runs(db, "commit") == []
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TaskSchedule)).scalar() == 1  # type: ignore[arg-type]


# --------------------------------------------------------------------------- CLI
def test_cli_schedule_status_and_alerts(db_url: str, tmp_path: Path, cli: Any) -> None:
    database = Database(db_url)
    try:
        with time_machine.travel(at("2026-12-01T08:00"), tick=False):
            small_province(database, tmp_path)
            code = draft_task(database)
            past = cli(
                "schedule",
                "set",
                "--as",
                "cli-planner",
                code,
                "--draw-at",
                "2026-11-30T10:00",
                "--commit-at",
                "2026-12-01T11:00",
                expect=1,
            )
            assert "抽取时间应在将来" in past.stderr and "锁定时间应早于抽取时间" in past.stderr
            done = cli(
                "schedule",
                "set",
                "--as",
                "cli-planner",
                code,
                "--commit-at",
                "2026-12-01T09:00",
                "--draw-at",
                "2026-12-01T10:00",
                "--seed-deadline",
                "2026-12-01T12:00",
            )
            assert "已设定" in done.stdout
            listed = json.loads(cli("schedule", "list", "--json").stdout)
            assert listed[0]["draw_at"] == "2026-12-01T10:00:00+08:00"
            assert listed[0]["seed_entered"] is False
            s = service(database, config())
            s.start()
            s.scheduler._process_jobs()
            status = json.loads(cli("scheduler", "status", "--json").stdout)
            assert status["lease"]["holder"] == "test-a" and status["lease"]["alive"]
            ids = {j["id"] for j in status["jobs"]}
            assert {
                "nightly_check",
                "deadline_watch",
                "publish_results",
                f"commit:{code}",
                f"draw:{code}",
            } <= ids
            draw = next(j for j in status["jobs"] if j["id"] == f"draw:{code}")
            assert draw["next_run_time"] == "2026-12-01T10:00:00+08:00"
            assert draw["function"] == "supervision.scheduling.jobs:run_task_draw"
            text_status = cli("scheduler", "status")
            assert "nightly_check" in text_status.stdout
            held = cli("scheduler", "run", expect=3)  # a live scheduler holds the lease
            assert "另一个调度进程正在运行" in held.stderr
            s.stop()
            assert json.loads(cli("alerts", "--json").stdout) == []
    finally:
        database.dispose()


def test_apscheduler_job_table_is_not_in_the_migrations(db: Database) -> None:
    """The job store creates its own table; migrations neither create nor drop it."""
    from sqlalchemy import inspect

    assert "apscheduler_jobs" not in inspect(db.engine).get_table_names()
    with time_machine.travel(at("2026-12-01T00:00"), tick=False):
        s = service(db, config())
        s.start()
        s.scheduler._process_jobs()
        s.stop()
    assert "apscheduler_jobs" in inspect(db.engine).get_table_names()
    reopened = Database(db.url)  # migrations run again: the job table is left alone
    try:
        assert "apscheduler_jobs" in inspect(reopened.engine).get_table_names()
    finally:
        reopened.dispose()


def test_the_documented_configuration_parses_and_names_every_setting() -> None:
    """The TOML example in supervision.scheduling.config's docstring is the reference."""
    import tomllib

    from supervision.scheduling import config as config_module

    doc = config_module.__doc__ or ""
    example = doc.split("```toml", 1)[1].split("```", 1)[0]
    data = tomllib.loads(example)
    parsed = parse_config(data, "(docstring)").to_dict()
    for section, settings in parsed.items():
        if section in ("source", "timezone", "jobs"):
            continue
        assert set(settings) == set(data[section]), f"[{section}] not fully documented"
    assert set(data["jobs"]["nightly_check"]) == {"cron", "misfire_grace_seconds", "enabled"}
