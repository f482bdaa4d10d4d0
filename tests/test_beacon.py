"""Seeds from the drand beacon: round arithmetic, offline verification of recorded rounds,
the HTTP fetch against a local server that replays recorded answers, and the whole path of a
beacon task (commit names a future round, the draw waits for it and uses exactly its
verified randomness, verify and the export carry the proof) at every door.

The recorded rounds in tests/fixtures/beacon/ are public facts (see its README). No test
touches the network.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import consistent_sampler
import drand_verify
import pytest
import time_machine
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st
from scheduler_support import config, draft_task, drive, service, small_province
from sqlalchemy import select, update

from supervision.canonical import canonical_json
from supervision.db import Database
from supervision.draw import beacon
from supervision.draw.beacon_fetch import BeaconUnavailable, fetch_round
from supervision.draw.commit import commit_task
from supervision.draw.export import verify_export
from supervision.draw.population import committed_population, pseudonym_owners
from supervision.draw.publication import export_task
from supervision.draw.service import draw_task
from supervision.draw.verify import verify_task
from supervision.errors import SupervisionError
from supervision.models import DrawPick, Task, TaskStatus
from supervision.models.scheduling import TaskSchedule
from supervision.scheduling.alerts import open_alerts
from supervision.scheduling.schedules import set_schedule
from supervision.scheduling.seeds import enter_seed

pytestmark = pytest.mark.usefixtures("crew")

FIXTURES = Path(__file__).parent / "fixtures" / "beacon"
QUICKNET = FIXTURES / "quicknet-657413.json"
FASTNET = FIXTURES / "fastnet-5713537.json"
DEFAULT = FIXTURES / "default-3311596.json"
ROUND = 657413
SIGNATURE = (
    "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be"
    "41076862b98fad56e91a6b85b89cd97b"
)
RANDOMNESS = "fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587"
ROUND_TIME = datetime(2023, 9, 15, 11, 0, 3, tzinfo=UTC)


def _flip(signature: str, index: int, bit: int) -> str:
    data = bytearray(bytes.fromhex(signature))
    data[index] ^= 1 << bit
    return data.hex()


# --------------------------------------------------------------------------- pure parts
def test_the_recorded_quicknet_round_verifies_with_the_constants_in_the_code() -> None:
    proof = beacon.parse_round(QUICKNET.read_bytes(), source=QUICKNET.name)
    assert proof == beacon.BeaconRound(round=ROUND, signature=SIGNATURE)
    assert beacon.verify(proof, expected_round=ROUND) == RANDOMNESS
    assert beacon.derive_randomness(SIGNATURE) == RANDOMNESS
    # The constants: the round's time follows from genesis and period, and back.
    assert beacon.round_time(ROUND) == ROUND_TIME
    assert beacon.round_at(ROUND_TIME) == ROUND
    assert beacon.round_at(ROUND_TIME + timedelta(seconds=2.999)) == ROUND
    assert beacon.round_at(ROUND_TIME + timedelta(seconds=3)) == ROUND + 1
    assert beacon.round_at(datetime.fromtimestamp(beacon.GENESIS, UTC)) == 1


def test_another_recorded_round_from_drands_documentation() -> None:
    """Round 42 as drand's v2 API gives it (no randomness field): it verifies, and its
    signature is no proof for any other round."""
    path = FIXTURES / "quicknet-42.json"
    proof = beacon.parse_round(path.read_bytes(), source=path.name)
    randomness = beacon.verify(proof, expected_round=42)
    assert randomness == "8ada64bae5c6c0f5540a6a13af56e663240edfbd2c76ac6a8f27671eb7259ce3"
    assert randomness == beacon.derive_randomness(proof.signature)
    assert beacon.round_time(42) == datetime.fromtimestamp(beacon.GENESIS + 41 * 3, UTC)
    for number in (41, 43, ROUND):
        with pytest.raises(beacon.BeaconError, match="验证失败"):
            beacon.verify(beacon.BeaconRound(round=number, signature=proof.signature))


@given(st.integers(min_value=beacon.GENESIS, max_value=beacon.GENESIS + 10**10))
def test_a_time_lies_in_its_round(seconds: int) -> None:
    moment = datetime.fromtimestamp(seconds, UTC)
    number = beacon.round_at(moment)
    assert beacon.round_time(number) <= moment < beacon.round_time(number + 1)


@given(st.integers(min_value=0, max_value=47), st.integers(min_value=0, max_value=7))
def test_every_tampered_signature_is_refused(index: int, bit: int) -> None:
    proof = beacon.BeaconRound(round=ROUND, signature=_flip(SIGNATURE, index, bit))
    with pytest.raises(beacon.BeaconError) as caught:
        beacon.verify(proof, expected_round=ROUND)
    assert "验证失败" in caught.value.zh and "does not verify" in caught.value.en


def test_a_wrong_round_is_refused() -> None:
    proof = beacon.BeaconRound(round=ROUND, signature=SIGNATURE)
    with pytest.raises(beacon.BeaconError, match="早于锁定时公布的轮次 657414"):
        beacon.verify(proof, expected_round=ROUND + 1)  # an earlier round than committed
    with pytest.raises(beacon.BeaconError, match="不是锁定时公布的轮次 657412"):
        beacon.verify(proof, expected_round=ROUND - 1)
    with pytest.raises(beacon.BeaconError, match="验证失败"):  # the signature of another round
        beacon.verify(beacon.BeaconRound(round=ROUND + 1, signature=SIGNATURE))


def test_rounds_of_other_chains_are_refused() -> None:
    fastnet = json.loads(FASTNET.read_text())
    # A genuine fastnet round (it verifies under fastnet's own key) ...
    fastnet_key = (
        "a0b862a7527fee3a731bcb59280ab6abd62d5c0b6ea03dc4ddf6612fdfc9d01f01c31542541771903475eb1ec"
        "6615f8d0df0b8b6dce385811d6dcf8cbefb8759e5e616a3dfd054c928940766d9a5b9db91e3b697e5d70a975"
        "181e007f87fca5e"
    )
    assert (
        drand_verify.verify_bls_unchained_on_g1(fastnet["round"], fastnet["signature"], fastnet_key)
        == fastnet["randomness"]
    )
    # ... has the shape of a quicknet round but not its key.
    proof = beacon.parse_round(FASTNET.read_bytes(), source="fastnet.json")
    with pytest.raises(beacon.BeaconError, match="验证失败"):
        beacon.verify(proof)
    # The default (chained) chain: refused on sight, it carries a previous signature.
    with pytest.raises(beacon.BeaconError, match="previous_signature"):
        beacon.parse_round(DEFAULT.read_bytes(), source="default.json")
    # A round that says which chain it is from, and it is another one.
    other = json.loads(QUICKNET.read_text()) | {"chain_hash": "dbd506d6" + "0" * 56}
    with pytest.raises(beacon.BeaconError, match="不是 drand quicknet 链"):
        beacon.parse_round(json.dumps(other), source="x.json")
    with pytest.raises(beacon.BeaconError, match="另一条链"):
        beacon.verify(beacon.BeaconRound(round=ROUND, signature=SIGNATURE, chain_hash="ab" * 32))


@pytest.mark.parametrize(
    ("text", "zh"),
    [
        ("<html>502 Bad Gateway</html>", "不是有效的 JSON"),
        ("[1, 2]", "应为一个 JSON 对象"),
        (f'{{"signature": "{SIGNATURE}"}}', "字段 round 应为正整数"),
        (f'{{"round": "657413", "signature": "{SIGNATURE}"}}', "字段 round 应为正整数"),
        ('{"round": 657413, "signature": "abc"}', "96 位十六进制"),
        ('{"round": 657413}', "96 位十六进制"),
        (f'{{"round": 657413, "signature": "{SIGNATURE}", "randomness": "00"}}', "SHA-256"),
    ],
)
def test_garbage_round_json_is_named_by_source_and_field(text: str, zh: str) -> None:
    with pytest.raises(beacon.BeaconError) as caught:
        beacon.parse_round(text, source="round.json")
    assert caught.value.zh.startswith("round.json") and zh in caught.value.zh
    assert caught.value.en.startswith("round.json")


# --------------------------------------------------------------------------- CLI, pure
def test_cli_beacon_round_and_verify(cli: Any) -> None:
    out = cli("beacon", "round", "--at", "2023-09-15T19:00:03+08:00")
    assert out.stdout.strip() == str(ROUND)
    assert cli("beacon", "round", "--at", "2023-09-15T19:00:05").stdout.strip() == str(ROUND)
    data = json.loads(cli("beacon", "round", "--at", "2023-09-15T11:00:06Z", "--json").stdout)
    assert data["round"] == ROUND + 1 and data["chain_hash"] == beacon.CHAIN_HASH
    ok = cli("beacon", "verify", "--round", str(ROUND), "--signature", SIGNATURE.upper())
    assert ok.stdout.strip() == RANDOMNESS
    bad = cli(
        "beacon", "verify", "--round", str(ROUND), "--signature", _flip(SIGNATURE, 5, 1), expect=1
    )
    assert bad.stdout == "" and bad.stderr.startswith("错误：") and "does not verify" in bad.stderr
    assert "Traceback" not in bad.stderr
    wrong = cli("beacon", "verify", "--round", str(ROUND + 1), "--signature", SIGNATURE, expect=1)
    assert "验证失败" in wrong.stderr
    short = cli("beacon", "verify", "--round", str(ROUND), "--signature", "xyz", expect=1)
    assert "--signature" in short.stderr and "96" in short.stderr


# --------------------------------------------------------------------------- HTTP fetch
class Replay:
    """A local HTTP server per behaviour, replaying recorded drand answers."""

    def __init__(self) -> None:
        self.servers: list[ThreadingHTTPServer] = []
        self.hits: list[str] = []

    def endpoint(self, behaviour: Callable[[str], tuple[int, bytes] | None]) -> str:
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                answer = behaviour(self.path)
                if answer is None:  # hang longer than any test timeout
                    time.sleep(1.5)
                    answer = (200, QUICKNET.read_bytes())
                status, body = answer
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def replay() -> Iterator[Replay]:
    servers = Replay()
    try:
        yield servers
    finally:
        servers.close()


def recorded(path: str) -> tuple[int, bytes]:
    if path == f"/{beacon.CHAIN_HASH}/public/{ROUND}":
        return 200, QUICKNET.read_bytes()
    return 404, b'{"error": "round not found"}'


def test_fetch_skips_timeouts_garbage_and_missing_rounds(replay: Replay) -> None:
    slow = replay.endpoint(lambda path: None)
    garbage = replay.endpoint(lambda path: (200, b"<html>gateway</html>"))
    tampered = replay.endpoint(
        lambda path: (
            200,
            json.dumps({"round": ROUND, "signature": _flip(SIGNATURE, 0, 0)}).encode(),
        )
    )
    missing = replay.endpoint(lambda path: (404, b"not yet"))
    good = replay.endpoint(recorded)
    started = time.monotonic()
    proof = fetch_round(
        ROUND, endpoints=[slow, garbage, tampered, missing, good], timeout=0.3, attempts=1
    )
    assert proof == beacon.BeaconRound(round=ROUND, signature=SIGNATURE)
    assert time.monotonic() - started < 5
    assert replay.hits.count(f"/{beacon.CHAIN_HASH}/public/{ROUND}") == 5


def test_fetch_gives_up_after_its_retries_naming_every_endpoint(replay: Replay) -> None:
    slow = replay.endpoint(lambda path: None)
    garbage = replay.endpoint(lambda path: (200, b"\x00\xff" * 10))
    wrong_round = replay.endpoint(lambda path: (200, QUICKNET.read_bytes()))  # asked for 657414
    refused = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(BeaconUnavailable) as caught:
        fetch_round(
            ROUND + 1,
            endpoints=[slow, garbage, wrong_round, refused],
            timeout=0.3,
            attempts=2,
            pause=0,
        )
    error = caught.value
    assert "第 657414 轮" in error.zh and "round 657414" in error.en
    assert len(error.details) == 8  # 4 endpoints × 2 attempts
    text = "\n".join(error.details)
    assert "超时" in text and "不是有效的 JSON" in text and "早于锁定时公布的轮次" in text
    assert "连接失败" in text


def test_fetch_reads_its_endpoints_and_timeout_from_the_settings(
    replay: Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = replay.endpoint(recorded)
    monkeypatch.setenv("SUPERVISION_BEACON_URLS", f" http://127.0.0.1:9 , {good}/ ")
    monkeypatch.setenv("SUPERVISION_BEACON_TIMEOUT", "0.5")
    assert fetch_round(ROUND).signature == SIGNATURE
    monkeypatch.setenv("SUPERVISION_BEACON_TIMEOUT", "soon")
    with pytest.raises(SupervisionError, match="SUPERVISION_BEACON_TIMEOUT"):
        fetch_round(ROUND)


# --------------------------------------------------------------------------- a beacon task
BEFORE = ROUND_TIME - timedelta(hours=1)  # the commit
DRAW_AT = ROUND_TIME  # the planned draw time: its round is 657413


@pytest.fixture
def task(db: Database, tmp_path: Path) -> str:
    small_province(db, tmp_path)
    return draft_task(db)


def _state(db: Database, code: str) -> tuple[str, int]:
    with db.session() as session:
        found = session.get(Task, code)
        assert found is not None
        picks = session.execute(select(DrawPick).where(DrawPick.task_code == code)).all()
        return found.status, len(picks)


def test_time_machine_commit_names_a_future_round_and_the_draw_waits_for_it(
    db: Database, task: str, tmp_path: Path
) -> None:
    proof = beacon.parse_round(QUICKNET.read_bytes(), source="round.json")
    with time_machine.travel(BEFORE, tick=False) as traveller:
        with db.session() as session, pytest.raises(SupervisionError, match="至少在锁定后 600 秒"):
            commit_task(session, code=task, seed="beacon", draw_at=BEFORE + timedelta(minutes=5))
        with db.session() as session, pytest.raises(SupervisionError, match="计划抽取时间"):
            commit_task(session, code=task, seed="beacon")  # no draw time, no schedule
        assert _state(db, task) == (TaskStatus.DRAFT, 0)
        with db.session() as session:
            committed = commit_task(session, code=task, seed="beacon", draw_at=DRAW_AT)
            assert committed.beacon_round == ROUND and committed.seed_kind == "beacon"
            parameters = json.loads(committed.parameters_json or "{}")
            digest = committed.parameters_digest
        assert parameters["seed"] == {
            "kind": "beacon",
            "chain_hash": beacon.CHAIN_HASH,
            "round": ROUND,
            "round_time": ROUND_TIME.isoformat(),
        }
        # The round is inside the digested bytes: the commitment digest covers it.
        assert hashlib.sha256(canonical_json(parameters)).hexdigest() == digest

        # A typed seed is refused at every door that takes one.
        with db.session() as session, pytest.raises(SupervisionError, match="不能人工输入"):
            draw_task(session, code=task, seed="31415926")
        # Before the round's time, even the (recorded) round itself is refused.
        traveller.move_to(ROUND_TIME - timedelta(seconds=1))
        with db.session() as session, pytest.raises(beacon.BeaconError, match="此前不能抽取"):
            draw_task(session, code=task, proof=proof)
        assert _state(db, task) == (TaskStatus.COMMITTED, 0)

        traveller.move_to(ROUND_TIME + timedelta(seconds=30))
        for bad, message in [
            (beacon.BeaconRound(round=ROUND, signature=_flip(SIGNATURE, 7, 3)), "验证失败"),
            (beacon.BeaconRound(round=ROUND - 1, signature=SIGNATURE), "早于"),
            (beacon.parse_round(FASTNET.read_bytes(), source="f"), "不是锁定时公布的轮次"),
            (
                beacon.BeaconRound(round=ROUND, signature=SIGNATURE, chain_hash="cd" * 32),
                "另一条链",
            ),
        ]:
            with db.session() as session, pytest.raises(beacon.BeaconError, match=message):
                draw_task(session, code=task, proof=bad)
            assert _state(db, task) == (TaskStatus.COMMITTED, 0)  # nothing written

        with db.session() as session:
            outcome = draw_task(session, code=task, proof=proof)
    assert outcome["seed"] == RANDOMNESS and outcome["beacon"]["round"] == ROUND
    with db.session() as session:
        drawn = session.get(Task, task)
        assert drawn is not None
        assert drawn.seed == RANDOMNESS and drawn.beacon_signature == SIGNATURE
        population = committed_population(session, code=task)  # pseudonyms
        owners = {p: uscc for p, (uscc, _) in pseudonym_owners(session, code=task).items()}
        picks = session.execute(select(DrawPick).where(DrawPick.task_code == task)).scalars().all()
    # Exactly the reference sampler with the verified randomness as the seed.
    for stratum, ids in population.items():
        ours = sorted((p for p in picks if p.stratum == stratum), key=lambda p: p.rank)
        reference = list(
            consistent_sampler.sampler(sorted(ids), RANDOMNESS, take=len(ours), digits=18)
        )
        assert [(p.ticket, p.uscc) for p in ours] == [(t, owners[i]) for t, i, _ in reference]
    with db.session() as session:
        assert verify_task(session, code=task) == []


def _drawn_beacon_task(db: Database, code: str) -> None:
    with time_machine.travel(BEFORE, tick=False) as traveller:
        with db.session() as session:
            commit_task(session, code=code, seed="beacon", draw_at=DRAW_AT)
        traveller.move_to(ROUND_TIME + timedelta(seconds=10))
        with db.session() as session:
            draw_task(
                session,
                code=code,
                proof=beacon.BeaconRound(round=ROUND, signature=SIGNATURE),
            )


def test_export_carries_the_proof_and_its_readme_code_recomputes_the_draw(
    db: Database, task: str, tmp_path: Path
) -> None:
    _drawn_beacon_task(db, task)
    out = tmp_path / "export"
    with db.session() as session:
        files = export_task(session, code=task, out_dir=out)
    assert "beacon.json" in files
    assert json.loads((out / "beacon.json").read_text()) == {
        "chain_hash": beacon.CHAIN_HASH,
        "round": ROUND,
        "signature": SIGNATURE,
    }
    assert (out / "seed.txt").read_text() == RANDOMNESS
    assert verify_export(out) == []
    readme = (out / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert len(blocks) == 2 and "drand_verify.verify_quicknet" in blocks[1]
    ran = subprocess.run(
        [sys.executable, "-c", blocks[1]], cwd=out, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "一致 MATCH"
    # A tampered proof: the README code fails and verify_export names it.
    (out / "beacon.json").write_text(
        json.dumps(
            {"chain_hash": beacon.CHAIN_HASH, "round": ROUND, "signature": _flip(SIGNATURE, 3, 0)}
        )
    )
    ran = subprocess.run(
        [sys.executable, "-c", blocks[1]], cwd=out, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode != 0 and "MATCH" not in ran.stdout
    problems = verify_export(out)
    assert any("beacon.json" in p for p in problems)
    assert any("验证失败" in p for p in problems)


def test_verify_finds_a_stored_signature_that_was_changed(db: Database, task: str) -> None:
    _drawn_beacon_task(db, task)
    with db.engine.begin() as conn:
        conn.execute(
            update(Task).where(Task.code == task).values(beacon_signature=_flip(SIGNATURE, 9, 2))  # type: ignore[arg-type]
        )
    with db.session() as session:
        problems = verify_task(session, code=task)
    assert problems and "验证失败" in problems[0]


# --------------------------------------------------------------------------- CLI doors
def test_cli_commit_with_beacon_then_seed_beacon_from_a_file_and_stdin(
    db: Database, task: str, tmp_path: Path, cli: Any
) -> None:
    db.dispose()
    with time_machine.travel(BEFORE, tick=False) as traveller:
        refused = cli("task", "commit", "--as", "cli-planner", task, "--seed", "beacon", expect=1)
        assert "计划抽取时间" in refused.stderr and "planned draw time" in refused.stderr
        committed = cli(
            "task",
            "commit",
            "--as",
            "cli-planner",
            task,
            "--seed",
            "beacon",
            "--draw-at",
            "2023-09-15T19:00:03",
        )
        assert f"第 {ROUND} 轮" in committed.stdout and "seed beacon" in committed.stdout
        typed = cli("task", "draw", "--as", "cli-planner", task, "--seed", "31415926", expect=1)
        assert "不能人工输入" in typed.stderr and "Traceback" not in typed.stderr
        early = cli(
            "seed", "beacon", "--as", "cli-planner", task, "--from", str(QUICKNET), expect=1
        )
        assert "此前不能抽取" in early.stderr
        traveller.move_to(ROUND_TIME + timedelta(seconds=5))
        garbage = tmp_path / "round.json"
        garbage.write_text("{not json")
        bad = cli("seed", "beacon", "--as", "cli-planner", task, "--from", str(garbage), expect=1)
        assert str(garbage) in bad.stderr and "不是有效的 JSON" in bad.stderr
        other = cli("seed", "beacon", "--as", "cli-planner", task, "--from", str(FASTNET), expect=1)
        assert "不是锁定时公布的轮次" in other.stderr
        missing = cli(
            "seed",
            "beacon",
            "--as",
            "cli-planner",
            task,
            "--from",
            str(tmp_path / "nope.json"),
            expect=1,
        )
        assert "无法读取" in missing.stderr
        assert _state(db, task) == (TaskStatus.COMMITTED, 0)
        drawn = cli(
            "seed", "beacon", "--as", "cli-planner", task, "--from", "-", input=QUICKNET.read_text()
        )
        assert RANDOMNESS in drawn.stdout
        again = cli(
            "seed", "beacon", "--as", "cli-planner", task, "--from", str(QUICKNET), expect=1
        )
        assert "不能再次抽取" in again.stderr
    verified = json.loads(cli("verify", task, "--json").stdout)
    assert verified["match"] is True
    assert verified["beacon"] == {
        "chain_hash": beacon.CHAIN_HASH,
        "round": ROUND,
        "signature": SIGNATURE,
    }
    shown = cli("verify", task)
    assert SIGNATURE in shown.stdout
    described = cli("task", "show", task)
    assert f"第 {ROUND} 轮" in described.stdout and SIGNATURE in described.stdout
    assert json.loads(cli("task", "show", task, "--json").stdout)["beacon_round"] == ROUND


def test_seed_beacon_fetches_the_committed_round(
    db: Database, task: str, cli: Any, replay: Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPERVISION_BEACON_URLS", replay.endpoint(recorded))
    with time_machine.travel(BEFORE, tick=False) as traveller:
        with db.session() as session:
            commit_task(session, code=task, seed="beacon", draw_at=DRAW_AT)
        traveller.move_to(ROUND_TIME + timedelta(seconds=5))
        drawn = json.loads(cli("seed", "beacon", "--as", "cli-planner", task, "--json").stdout)
    assert drawn["seed"] == RANDOMNESS and drawn["seed_kind"] == "beacon"


def test_a_typed_task_takes_no_beacon_and_a_beacon_task_no_entered_seed(
    db: Database, task: str, tmp_path: Path, cli: Any
) -> None:
    proof = beacon.BeaconRound(round=ROUND, signature=SIGNATURE)
    with db.session() as session:
        commit_task(session, code=task)
    with db.session() as session, pytest.raises(SupervisionError, match="人工录入"):
        draw_task(session, code=task, proof=proof)
    refused = cli("seed", "beacon", "--as", "cli-planner", task, expect=1)
    assert "没有锁定 drand 轮次" in refused.stderr
    other = draft_task(db, "T2")
    with time_machine.travel(BEFORE, tick=False):
        with db.session() as session:
            set_schedule(
                session,
                task_code=other,
                draw_at=DRAW_AT,
                seed_deadline=DRAW_AT + timedelta(hours=1),
                source="beacon",
            )
            assert session.get(Task, other).seed_kind == "beacon"  # type: ignore[union-attr]
        with db.session() as session, pytest.raises(SupervisionError, match="改排程"):
            commit_task(session, code=other, seed="typed")  # the schedule expects the beacon
        with db.session() as session:
            commit_task(session, code=other)  # the schedule's draw time names the round
            assert session.get(Task, other).beacon_round == ROUND  # type: ignore[union-attr]
        with db.session() as session, pytest.raises(SupervisionError, match="不能人工录入"):
            enter_seed(session, task_code=other, seed="31415926")
        with db.session() as session, pytest.raises(SupervisionError) as caught:
            set_schedule(
                session,
                task_code=other,
                draw_at=DRAW_AT,
                seed_deadline=DRAW_AT,
                source="manual",
            )
        assert any("应为 beacon" in line for line in caught.value.details)


# --------------------------------------------------------------------------- the scheduler
def test_the_scheduler_fetches_the_round_retries_then_draws(
    db: Database, task: str, replay: Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = threading.Event()

    def drand(path: str) -> tuple[int, bytes]:
        return recorded(path) if published.is_set() else (404, b"not yet")

    monkeypatch.setenv("SUPERVISION_BEACON_URLS", replay.endpoint(drand))
    monkeypatch.setenv("SUPERVISION_BEACON_TIMEOUT", "1")
    with time_machine.travel(BEFORE - timedelta(hours=1), tick=False) as traveller:
        with db.session() as session:
            set_schedule(
                session,
                task_code=task,
                commit_at=BEFORE,
                draw_at=DRAW_AT,
                seed_deadline=DRAW_AT + timedelta(hours=1),
                source="beacon",
            )
        s = service(db, config())
        s.start()
        drive([s], traveller, BEFORE + timedelta(minutes=1))
        with db.session() as session:
            committed = session.get(Task, task)
            assert committed is not None and committed.beacon_round == ROUND
        drive([s], traveller, DRAW_AT + timedelta(minutes=5))  # the endpoint has no round yet
        assert _state(db, task) == (TaskStatus.COMMITTED, 0)
        with db.session() as session:
            waiting = [a for a in open_alerts(session) if a.kind == "seed_missing"]
        assert waiting and "drand 第 657413 轮" in waiting[0].message_zh
        assert "seed beacon --from" in waiting[0].message_en
        published.set()
        drive([s], traveller, DRAW_AT + timedelta(minutes=20))
        s.stop()
    with db.session() as session:
        drawn = session.get(Task, task)
        assert drawn is not None and drawn.status == TaskStatus.DRAWN
        assert drawn.seed == RANDOMNESS and drawn.beacon_signature == SIGNATURE
        schedule = session.get(TaskSchedule, task)
        assert schedule is not None and schedule.state == "drawn"
        assert not [a for a in open_alerts(session) if a.kind == "seed_missing"]


def test_the_scheduler_gives_up_at_the_deadline_with_an_alert(
    db: Database, task: str, replay: Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPERVISION_BEACON_URLS", replay.endpoint(lambda p: (200, b"garbage")))
    with time_machine.travel(BEFORE - timedelta(hours=1), tick=False) as traveller:
        with db.session() as session:
            set_schedule(
                session,
                task_code=task,
                commit_at=BEFORE,
                draw_at=DRAW_AT,
                seed_deadline=DRAW_AT + timedelta(minutes=30),
                source="beacon",
            )
        s = service(db, config())
        s.start()
        drive([s], traveller, DRAW_AT + timedelta(hours=2))
        s.stop()
    assert _state(db, task) == (TaskStatus.COMMITTED, 0)
    with db.session() as session:
        kinds = {a.kind for a in open_alerts(session)}
    assert "seed_deadline_passed" in kinds


# --------------------------------------------------------------------------- the notice
def test_the_notice_publishes_the_round_before_it_exists_and_says_which_seed(
    db: Database, task: str, tmp_path: Path
) -> None:
    from supervision.site import publish_site, urls

    typed = draft_task(db, "T-typed")
    with db.session() as session:
        commit_task(session, code=typed)
    with time_machine.travel(BEFORE, tick=False):
        with db.session() as session:
            commit_task(session, code=task, seed="beacon", draw_at=DRAW_AT)
        publish_site(db, out_dir=tmp_path / "site", languages="all", strict=True)

    def page(code: str, lang: str = "") -> BeautifulSoup:
        path = tmp_path / "site" / lang / urls.task_path(code)
        return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")

    notice = page(task)
    assert "drand" in notice.select_one("dd.seed-kind").get_text()  # type: ignore[union-attr]
    assert notice.select_one("dd.beacon-round").get_text() == str(ROUND)  # type: ignore[union-attr]
    assert notice.select_one("code.beacon-signature") is None  # not drawn yet
    assert "人工录入" in page(typed).select_one("dd.seed-kind").get_text()  # type: ignore[union-attr]
    assert page(typed).select_one("dd.beacon-round") is None
    english = page(task, "en").select_one("dd.seed-kind").get_text()  # type: ignore[union-attr]
    assert "drand public randomness beacon" in english

    with time_machine.travel(ROUND_TIME + timedelta(seconds=10), tick=False):
        with db.session() as session:
            draw_task(
                session, code=task, proof=beacon.BeaconRound(round=ROUND, signature=SIGNATURE)
            )
        publish_site(db, out_dir=tmp_path / "site", languages="all", strict=True)
    drawn = page(task)
    assert drawn.select_one("code.beacon-signature").get_text() == SIGNATURE  # type: ignore[union-attr]
    download = tmp_path / "site" / urls.export_dir(task) / "beacon.json"
    assert json.loads(download.read_text())["signature"] == SIGNATURE
    records = json.loads((tmp_path / "site" / "data" / "tasks.json").read_text())["records"]
    by_code = {r["task_code"]: r for r in records}
    assert by_code[task]["seed_kind"] == "beacon" and by_code[task]["beacon_round"] == ROUND
    assert by_code[task]["beacon_signature"] == SIGNATURE
    assert by_code[typed]["seed_kind"] == "typed" and by_code[typed]["beacon_round"] == ""


# --------------------------------------------------------------------------- the console
def test_console_pages_and_api_commit_and_draw_a_beacon_task(
    db: Database, task: str, replay: Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx
    from test_console_support import PASSWORD, ConsoleServer, csrf_of, sign_in, soup

    from supervision.accounts.users import add_user

    monkeypatch.setenv("SUPERVISION_BEACON_URLS", replay.endpoint(recorded))
    other = draft_task(db, "T2")
    with db.session() as session:
        add_user(
            session, username="planner", password=PASSWORD, role="planner", display_name="计划"
        )
    with time_machine.travel(BEFORE, tick=True) as traveller, ConsoleServer(db) as url:
        api = httpx.Client(base_url=url, timeout=30)
        token = api.post("/api/session", json={"username": "planner", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        committed = api.post(
            "/api/tasks/commit",
            json={"code": task, "seed_kind": "beacon", "draw_at": "2023-09-15T19:00:03"},
            headers=headers,
        )
        assert committed.is_success, committed.text
        typed = api.post("/api/tasks/draw", json={"code": task, "seed": "1234"}, headers=headers)
        assert typed.status_code == 400 and "不能人工输入" in typed.json()["error"]["zh"]
        early = api.post(
            "/api/tasks/draw",
            json={"code": task, "round_json": QUICKNET.read_text()},
            headers=headers,
        )
        assert early.status_code == 400 and "此前不能抽取" in early.json()["error"]["zh"]

        # The page door: commit T2 with the beacon, see the round, paste a round too early.
        page = httpx.Client(base_url=url, timeout=30)
        sign_in(page, "planner")
        form = page.get("/task", params={"code": other})
        page.post(
            "/task/commit",
            data={
                "code": other,
                "seed_kind": "beacon",
                "draw_at": "2023-09-15T20:00:00",
                "csrf_token": csrf_of(form),
            },
        )
        shown = soup(page.get("/task", params={"code": other}))
        number = beacon.round_at(datetime(2023, 9, 15, 12, tzinfo=UTC))
        assert shown.select_one("span.beacon-round").get_text() == str(number)  # type: ignore[union-attr]
        assert shown.select_one("textarea#round_json") is not None
        refused = page.post(
            "/task/draw",
            data={"code": other, "round_json": "{oops", "csrf_token": csrf_of(form)},
        )
        assert refused.status_code == 400 and "round_json" in refused.text

        traveller.move_to(ROUND_TIME + timedelta(seconds=5))
        garbage = api.post(
            "/api/tasks/draw", json={"code": task, "round_json": "[]"}, headers=headers
        )
        assert garbage.status_code == 400 and "round_json" in garbage.json()["error"]["zh"]
        drawn = api.post("/api/tasks/draw", json={"code": task}, headers=headers)  # fetched
        assert drawn.status_code == 200, drawn.text
        assert drawn.json()["seed"] == RANDOMNESS
        api.close()
        page.close()
    assert _state(db, other) == (TaskStatus.COMMITTED, 0)


# --------------------------------------------------------------------------- the migration
def test_migration_0016_gives_old_tasks_a_typed_seed_and_goes_back_down(
    db: Database, task: str, db_url: str
) -> None:
    """Tasks from before 0016 are typed; downgrading drops the columns, upgrading restores."""
    from alembic import command
    from sqlalchemy import inspect, text

    from supervision.db import alembic_config, make_engine

    with db.session() as session:
        commit_task(session, code=task)
    db.dispose()
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0016-1")  # the revision before 0016
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("task")}
        assert not {"seed_kind", "beacon_round", "beacon_signature"} & columns
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT seed_kind, beacon_round, beacon_signature FROM task")
            ).one()
        assert tuple(row) == ("typed", None, None)
    finally:
        engine.dispose()


def test_a_task_file_may_choose_the_beacon(db: Database, task: str) -> None:
    from supervision.draw.tasks import create_task, parse_task_input

    spec = parse_task_input(
        {
            "code": "T-file",
            "plan": "P2026",
            "name": "信标抽查",
            "departments": ["SJ"],
            "items": ["SJ-01"],
            "ratios": "0.25",
            "period_start": "2026-03-01",
            "period_end": "2026-06-30",
            "seed": "beacon",
        }
    )
    with db.session() as session:
        assert create_task(session, spec=spec).seed_kind == "beacon"
    with time_machine.travel(BEFORE, tick=False):
        with db.session() as session, pytest.raises(SupervisionError, match="计划抽取时间"):
            commit_task(session, code="T-file")
        with db.session() as session:
            assert commit_task(session, code="T-file", draw_at=DRAW_AT).beacon_round == ROUND
    with pytest.raises(SupervisionError) as caught:
        parse_task_input({"seed": "dice"}, source="task.yaml")
    assert any(line.startswith("task.yaml: seed:") for line in caught.value.details)
