"""Plans, tasks, commitment, the draw, verification and export, through the database.

Every test runs on SQLite and PostgreSQL with a fresh database, and uses the real
import path to build a small province.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import consistent_sampler
import pytest
from factories import (
    make_conflict,
    make_department,
    make_entity,
    make_inspector,
    make_item,
    make_record,
    make_uscc,
    write_json,
)
from sqlalchemy import Connection, func, inspect, select, text, update

from supervision.accounts.users import add_user
from supervision.db import Database
from supervision.directories.importing import import_file
from supervision.draw.commit import commit_task
from supervision.draw.export import verify_export
from supervision.draw.fairness import fairness_report
from supervision.draw.plans import create_plan
from supervision.draw.publication import export_task
from supervision.draw.service import draw_task, stored_eligibility
from supervision.draw.tasks import create_task, parse_task_input
from supervision.draw.verify import verify_task
from supervision.errors import SupervisionError
from supervision.models import (
    Assignment,
    Conflict,
    DrawPick,
    Entity,
    Inspector,
    Task,
    TaskEligibility,
    TaskPopulation,
)

pytestmark = pytest.mark.usefixtures("crew")

HOHHOT, XINGAN = "150102", "152201"
SEED = "31415926535897932384"


def _load(db: Database, tmp_path: Path, kind: str, rows: list[dict[str, Any]]) -> None:
    import_file(db, kind=kind, path=write_json(tmp_path / f"{kind}.json", rows))


@pytest.fixture
def province(db: Database, tmp_path: Path) -> dict[str, Any]:
    """Two departments, two items, 80 entities in two prefectures, enough inspectors."""
    _load(
        db,
        tmp_path,
        "departments",
        [
            make_department(1, code="SJ", name="市场监督管理局"),
            make_department(2, code="SW", name="税务局"),
        ],
    )
    _load(
        db,
        tmp_path,
        "items",
        [
            make_item(1, code="SJ-01", department_code="SJ"),
            make_item(
                2,
                code="SW-01",
                department_code="SW",
                name="发票使用情况检查",
                legal_basis="《中华人民共和国发票管理办法》第三十五条",
            ),
        ],
    )
    entities = []
    for n in range(1, 81):
        region = HOHHOT if n % 3 else XINGAN
        entities.append(
            make_entity(
                n, uscc=make_uscc(n, region=region), region_code=region, risk_class="ABCD"[n % 4]
            )
        )
    entities.append(make_entity(81, uscc=make_uscc(81), status="注销"))
    _load(db, tmp_path, "entities", entities)
    inspectors = []
    for n in range(1, 9):
        inspectors.append(
            make_inspector(
                n,
                cert_no=f"SJ{n:04d}",
                department_code="SJ",
                region_code=HOHHOT if n <= 5 else XINGAN,
                qualifications="SJ-01",
            )
        )
        inspectors.append(
            make_inspector(
                100 + n,
                cert_no=f"SW{n:04d}",
                department_code="SW",
                region_code=HOHHOT if n <= 5 else XINGAN,
                qualifications="SW-01",
            )
        )
    inspectors.append(
        make_inspector(
            200,
            cert_no="SJ9999",
            department_code="SJ",
            region_code=HOHHOT,
            qualifications="SJ-01",
            status="退休",
        )
    )
    inspectors.append(
        make_inspector(
            201, cert_no="SJ8888", department_code="SJ", region_code=HOHHOT, qualifications="其他"
        )
    )
    _load(db, tmp_path, "inspectors", inspectors)
    _load(db, tmp_path, "conflicts", [make_conflict("SJ0001", entities[0]["uscc"])])
    with db.session() as session:
        create_plan(
            session, code="P2026", year=2026, name="2026年度抽查计划", departments=["SJ", "SW"]
        )
    return {"entities": entities}


def _task(db: Database, **overrides: Any) -> str:
    data: dict[str, Any] = {
        "code": "蒙市监抽查〔2026〕1号",
        "plan": "P2026",
        "name": "企业公示信息抽查",
        "departments": ["SJ"],
        "items": ["SJ-01"],
        "ratios": {"A": "0.1", "B": "0.2", "C": "0.3", "D": "0.5"},
        "period_start": "2026-03-01",
        "period_end": "2026-06-30",
    } | overrides
    with db.session() as session:
        task = create_task(session, spec=parse_task_input(data))
        return task.code


def _dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    tables = [
        "task",
        "task_stratum",
        "task_population",
        "draw_pick",
        "task_eligibility",
        "task_eligible_inspector",
        "assignment",
    ]
    with db.engine.connect() as conn:
        return {
            t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}")).all()), key=repr)
            for t in tables
        }


@pytest.mark.parametrize("disclosure", ["pseudonymous", "full"])
def test_commit_then_draw_matches_the_reference_sampler(
    db: Database, province: dict[str, Any], tmp_path: Path, disclosure: str
) -> None:
    """A full task draws over USCCs; a pseudonymous one (the default) over SHA-256(salt:USCC)."""
    code = _task(db)
    with db.session() as session:
        task = commit_task(
            session, code=code, **({"disclosure": "full"} if disclosure == "full" else {})
        )
        assert task.disclosure == disclosure
        assert task.population_size == 80  # the 注销 entity is excluded
        assert task.exclusions == {"status:注销": 1}
    with db.session() as session:
        outcome = draw_task(session, code=code, seed=SEED)
    owner: dict[str, str] = {}
    with db.session() as session:
        strata: dict[str, list[str]] = defaultdict(list)
        for stratum, uscc, salt, pseudonym in session.execute(
            select(
                TaskPopulation.stratum,
                TaskPopulation.uscc,
                TaskPopulation.salt,
                TaskPopulation.pseudonym,
            ).where(TaskPopulation.task_code == code)
        ):
            if disclosure == "full":
                assert salt is None and pseudonym is None
                strata[stratum].append(uscc)
                owner[uscc] = uscc
            else:
                assert len(salt) >= 32  # 128 bits, hex
                assert pseudonym == hashlib.sha256(f"{salt}:{uscc}".encode()).hexdigest()
                strata[stratum].append(pseudonym)
                owner[pseudonym] = uscc
        picks = session.execute(select(DrawPick).where(DrawPick.task_code == code)).scalars().all()
    ratios = {"A": Decimal("0.1"), "B": Decimal("0.2"), "C": Decimal("0.3"), "D": Decimal("0.5")}
    by_stratum: dict[str, list[DrawPick]] = defaultdict(list)
    for pick in picks:
        by_stratum[pick.stratum].append(pick)
    for stratum, ids in strata.items():
        n = math.ceil(ratios[stratum] * len(ids))
        reference = list(
            consistent_sampler.sampler(sorted(ids), SEED, take=n, digits=18, output="tuple")
        )
        ours = sorted(by_stratum[stratum], key=lambda p: p.rank)
        assert [(p.ticket, p.uscc) for p in ours] == [(t, owner[i]) for t, i, _ in reference]
    assert outcome["picked"] == len(picks)
    with db.session() as session:
        assert verify_task(session, code=code) == []


def test_assignments_respect_every_constraint(db: Database, province: dict[str, Any]) -> None:
    code = _task(db)
    with db.session() as session:
        commit_task(session, code=code)
    with db.session() as session:
        draw_task(session, code=code, seed=SEED)
    with db.session() as session:
        inspectors = {i.cert_no: i for i in session.execute(select(Inspector)).scalars()}
        conflicts = {
            (c.inspector_cert_no, c.uscc) for c in session.execute(select(Conflict)).scalars()
        }
        regions = {e.uscc: e.region_code for e in session.execute(select(Entity)).scalars()}
        rows = (
            session.execute(select(Assignment).where(Assignment.task_code == code)).scalars().all()
        )
        drawn = {p.uscc for p in session.execute(select(DrawPick)).scalars()}
    teams: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        inspector = inspectors[row.cert_no]
        assert inspector.status == "在岗"
        assert "SJ-01" in inspector.qualifications
        assert inspector.region_code[:4] == regions[row.uscc][:4]
        assert (row.cert_no, row.uscc) not in conflicts
        teams[row.uscc].append(row.cert_no)
    assert set(teams) == drawn
    assert all(len(set(team)) == len(team) == 2 for team in teams.values())
    # Load limit per prefecture: ceil(seats / its eligible inspectors), no slack needed here.
    loads = Counter(r.cert_no for r in rows)
    seats: Counter[str] = Counter()
    for uscc in drawn:
        seats[regions[uscc][:4]] += 2
    with db.session() as session:
        eligible = {e.cert_no for e in session.execute(select(TaskEligibility)).scalars()}
    for prefix, n in seats.items():
        people = [c for c in eligible if inspectors[c].region_code[:4] == prefix]
        limit = math.ceil(n / len(people))
        assert max(loads[c] for c in people) <= limit


def test_joint_task_sends_one_per_department(db: Database, province: dict[str, Any]) -> None:
    code = _task(db, code="联合〔2026〕2号", departments=["SJ", "SW"], items=["SJ-01", "SW-01"])
    with db.session() as session:
        commit_task(session, code=code)
        assert session.get(Task, code).members == {"SJ": 1, "SW": 1}
    with db.session() as session:
        draw_task(session, code=code, seed="dice 4 2 6")
    with db.session() as session:
        rows = (
            session.execute(select(Assignment).where(Assignment.task_code == code)).scalars().all()
        )
        assert verify_task(session, code=code) == []
    per_entity = defaultdict(Counter)
    for row in rows:
        per_entity[row.uscc][row.department_code] += 1
    assert all(c == Counter({"SJ": 1, "SW": 1}) for c in per_entity.values())


def test_draw_refuses_uncommitted_and_second_draw(db: Database, province: dict[str, Any]) -> None:
    code = _task(db)
    before = _dump(db)
    with db.session() as session, pytest.raises(SupervisionError, match="尚未锁定"):
        draw_task(session, code=code, seed=SEED)
    assert _dump(db) == before
    with db.session() as session:
        commit_task(session, code=code)
    with db.session() as session:
        draw_task(session, code=code, seed=SEED)
    after_first = _dump(db)
    with db.session() as session, pytest.raises(SupervisionError, match="不能再次抽取"):
        draw_task(session, code=code, seed="another seed")
    assert _dump(db) == after_first


@pytest.mark.parametrize(
    ("seed", "reason"),
    [
        ("", "不能为空"),
        ("9" * 101, "最多 100"),
        ("12\n34", "不可打印"),
    ],
)
def test_bad_seed_changes_nothing(
    db: Database, province: dict[str, Any], seed: str, reason: str
) -> None:
    code = _task(db)
    with db.session() as session:
        commit_task(session, code=code)
    before = _dump(db)
    with db.session() as session, pytest.raises(SupervisionError, match=reason):
        draw_task(session, code=code, seed=seed)
    assert _dump(db) == before


def test_seed_is_taken_verbatim(db: Database, province: dict[str, Any]) -> None:
    """'0123' and '123' are different seeds: the draws differ."""
    results = []
    for n, seed in enumerate(["0123", "123"]):
        code = _task(db, code=f"T{n}", exclusion_days=0, exclude_previous_inspector=False)
        with db.session() as session:
            commit_task(session, code=code)
        with db.session() as session:
            draw_task(session, code=code, seed=seed)
            results.append(
                sorted(
                    p.uscc
                    for p in session.execute(
                        select(DrawPick).where(DrawPick.task_code == code)
                    ).scalars()
                )
            )
            assert session.get(Task, code).seed == seed
    assert results[0] != results[1]


def test_directory_changes_after_commit_change_nothing(
    db: Database, province: dict[str, Any], tmp_path: Path
) -> None:
    code = _task(db)
    with db.session() as session:
        commit_task(session, code=code)
    with db.session() as session:
        session.execute(update(Entity).values(risk_class="D"))
    _load(db, tmp_path, "entities", [make_entity(500, uscc=make_uscc(500))])
    with db.session() as session:
        draw_task(session, code=code, seed=SEED)
        assert verify_task(session, code=code) == []
        strata = {p.stratum for p in session.execute(select(DrawPick)).scalars()}
        assert strata != {"D"}  # the committed risk classes were used


def test_infeasible_staffing_names_the_entities_and_records_nothing(
    db: Database, province: dict[str, Any]
) -> None:
    with db.session() as session:  # 兴安盟 loses all but one SJ inspector
        session.execute(
            update(Inspector)
            .where(Inspector.cert_no.in_(["SJ0006", "SJ0007"]))
            .values(status="调离")
        )
    code = _task(db, ratios="1")
    with db.session() as session:
        commit_task(session, code=code)
    before = _dump(db)
    with db.session() as session, pytest.raises(SupervisionError) as caught:
        draw_task(session, code=code, seed=SEED)
    message = str(caught.value)
    assert "兴安盟" in message or "152200" in message
    assert any(e["uscc"] in message for e in province["entities"] if e["region_code"] == XINGAN)
    assert _dump(db) == before


def test_targeted_task_draws_only_matching_entities(db: Database, province: dict[str, Any]) -> None:
    code = _task(db, target={"regions": ["152200"], "risk_classes": ["C", "D"]}, ratios="1")
    with db.session() as session:
        task = commit_task(session, code=code)
        expected = {
            e["uscc"]
            for e in province["entities"]
            if e["region_code"] == XINGAN and e["risk_class"] in "CD" and e["status"] == "存续"
        }
        assert task.population_size == len(expected)
    with db.session() as session:
        draw_task(session, code=code, seed=SEED)
        drawn = {p.uscc for p in session.execute(select(DrawPick)).scalars()}
    assert drawn == expected  # ratio 1 draws the whole (filtered) population


def test_recently_inspected_entities_are_excluded(
    db: Database, province: dict[str, Any], tmp_path: Path
) -> None:
    first = province["entities"][1]["uscc"]
    _load(
        db,
        tmp_path,
        "records",
        [
            make_record(
                "inspection_result",
                1,
                uscc=first,
                payload={
                    "task_code": "OLD",
                    "item_code": "SJ-01",
                    "result_code": "1",
                    "inspected_on": "2026-01-10",
                    "inspectors": ["SJ0002"],
                },
            )
        ],
    )
    code = _task(db, ratios="1")
    with db.session() as session:
        from datetime import date

        task = commit_task(session, code=code, as_of=date(2026, 2, 1))
        assert task.exclusions["recently_inspected"] == 1
        members = set(session.execute(select(TaskPopulation.uscc)).scalars())
        assert first not in members


def test_empty_population_is_refused(db: Database, province: dict[str, Any]) -> None:
    code = _task(db, target={"industries": ["A01"]})
    with db.session() as session, pytest.raises(SupervisionError, match="为空"):
        commit_task(session, code=code)
    with db.session() as session:
        assert session.get(Task, code).status == "draft"
        assert session.execute(select(func.count()).select_from(TaskPopulation)).scalar() == 0


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"ratios": {"A": "0", "B": "0.1", "C": "0.1", "D": "0.1"}}, "ratios"),
        ({"ratios": "1.5"}, "ratios"),
        ({"members": {"SJ": 1}}, "不得少于 2 名"),
        ({"items": ["NO-SUCH"]}, "NO-SUCH"),
        ({"departments": ["XX"], "items": ["SJ-01"]}, "XX"),
    ],
)
def test_bad_task_input_is_a_clear_error(
    db: Database, province: dict[str, Any], overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(SupervisionError) as caught:
        _task(db, **overrides)
    assert reason in str(caught.value) + " ".join(caught.value.details)
    with db.session() as session:
        assert session.execute(select(func.count()).select_from(Task)).scalar() == 0


def _readme_code_says(out: Path) -> str:
    """Run the README's first Python block in the export with a bare interpreter."""
    readme = (out / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.S)
    assert code is not None
    run = subprocess.run(
        [sys.executable, "-I", "-c", code.group(1)],
        cwd=out,
        capture_output=True,
        text=True,
        check=True,
    )
    return run.stdout.strip()


def test_export_recomputes_outside(db: Database, province: dict[str, Any], tmp_path: Path) -> None:
    """A pseudonymous export (the default): the population files hold pseudonyms only; the
    selection reveals USCC, salt and name of each drawn entity; the README code (only
    consistent_sampler and hashlib) recomputes it and notices a wrong salt."""
    code = _task(db, strata="risk_class,region")
    with db.session() as session:
        commit_task(session, code=code)
    with db.session() as session:
        draw_task(session, code=code, seed=SEED)
    out = tmp_path / "export"
    with db.session() as session:
        export_task(session, code=code, out_dir=out)
        drawn = set(session.execute(select(DrawPick.uscc)).scalars())
        everyone = set(session.execute(select(TaskPopulation.uscc)).scalars())
        names = dict(session.execute(select(Entity.uscc, Entity.name)).all())
    assert verify_export(out) == []
    assert (out / "seed.txt").read_bytes() == SEED.encode()
    parameters = json.loads((out / "parameters.json").read_text(encoding="utf-8"))
    assert parameters["task"] == code
    assert parameters["disclosure"] == "pseudonymous"
    assert set(parameters["ratios"]) == {
        p.name.removesuffix(".txt") for p in (out / "population").iterdir()
    }
    published = set()
    for path in (out / "population").iterdir():
        lines = path.read_text(encoding="utf-8").split("\n")[:-1]
        assert lines == sorted(lines)
        assert all(re.fullmatch(r"[0-9a-f]{64}", line) for line in lines)
        published.update(lines)
    rows = list(csv.DictReader(io.StringIO((out / "selection.csv").read_text(encoding="utf-8"))))
    assert list(rows[0])[:5] == ["stratum", "pseudonym", "ticket", "uscc", "salt"]
    assert {r["uscc"] for r in rows} == drawn
    for row in rows:
        assert (
            hashlib.sha256(f"{row['salt']}:{row['uscc']}".encode()).hexdigest() == row["pseudonym"]
        )
        assert row["pseudonym"] in published
        assert row["name"] == names[row["uscc"]]
    # No unselected USCC anywhere in the pack.
    text_of_pack = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file())
    assert not [u for u in everyone - drawn if u in text_of_pack]
    assert _readme_code_says(out) == "一致 MATCH"
    # A revealed salt that does not give the pseudonym is caught by the code and the verifier.
    selection = out / "selection.csv"
    salt = rows[0]["salt"]
    selection.write_text(
        selection.read_text(encoding="utf-8").replace(salt, salt[::-1], 1), encoding="utf-8"
    )
    assert _readme_code_says(out) == "不一致 MISMATCH"
    assert any("is not the pseudonym" in p for p in verify_export(out))


def test_full_disclosure_export_keeps_the_old_layout(
    db: Database, province: dict[str, Any], tmp_path: Path
) -> None:
    """A full-disclosure task (chosen in the task file) and every task committed before
    pseudonyms existed publish USCCs, as before; verify and the README still work."""
    code = _task(db, disclosure="full")
    with db.session() as session:
        task = commit_task(session, code=code)
        assert task.disclosure == "full"
        assert "disclosure" not in json.loads(task.parameters_json or "")
    with db.session() as session:
        draw_task(session, code=code, seed=SEED)
    with db.session() as session:
        assert verify_task(session, code=code) == []
    out = tmp_path / "export"
    with db.session() as session:
        export_task(session, code=code, out_dir=out)
    assert verify_export(out) == []
    header = (out / "selection.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "stratum,id,ticket"
    assert _readme_code_says(out) == "一致 MATCH"


def test_pseudonymous_task_verifies_and_catches_a_changed_salt(
    db: Database, province: dict[str, Any]
) -> None:
    code = _task(db)
    with db.session() as session:
        commit_task(session, code=code)
    with db.session() as session:
        draw_task(session, code=code, seed=SEED)
    with db.session() as session:
        assert verify_task(session, code=code) == []
        row = session.execute(select(TaskPopulation)).scalars().first()
        session.execute(
            update(TaskPopulation).where(TaskPopulation.uscc == row.uscc).values(salt="0" * 32)
        )
    with db.session() as session:
        problems = verify_task(session, code=code)
    assert problems and "does not match its salt" in problems[0]


def test_tampered_record_is_caught_by_verify(db: Database, province: dict[str, Any]) -> None:
    code = _task(db)
    with db.session() as session:
        commit_task(session, code=code)
    with db.session() as session:
        draw_task(session, code=code, seed=SEED)
    with db.session() as session:
        row = session.execute(select(Assignment)).scalars().first()
        session.execute(
            update(Assignment)
            .where(Assignment.uscc == row.uscc, Assignment.cert_no == row.cert_no)
            .values(cost=row.cost + 1)
        )
    with db.session() as session:
        problems = verify_task(session, code=code)
    assert problems and "人员匹配不符" in problems[0]
    with db.session() as session:
        pick = session.execute(select(DrawPick)).scalars().first()
        session.execute(
            update(DrawPick).where(DrawPick.uscc == pick.uscc).values(ticket="0.000000000000000001")
        )
    with db.session() as session:
        problems = verify_task(session, code=code)
    assert problems and "抽取结果不符" in problems[0]


def test_fairness_report(db: Database, province: dict[str, Any]) -> None:
    code = _task(db)
    with db.session() as session:
        commit_task(session, code=code)
    with db.session() as session:
        draw_task(session, code=code, seed=SEED)
        report = fairness_report(session, code=code)
    assert sum(s["size"] for s in report["strata"]) == 80
    for s in report["strata"]:
        assert s["picked"] == math.ceil(Decimal(s["ratio"]) * s["size"])
        eligible = stored_eligibility(session, code=code)
    hist = report["load_histogram"]["SJ"]
    assert sum(int(load) * count for load, count in hist.items()) == 2 * report["picked"]
    # Every inspector eligible for some entity is counted once, the idle ones under "0".
    inspectors = {cert for (_, dept), certs in eligible.items() if dept == "SJ" for cert in certs}
    assert sum(hist.values()) == len(inspectors) and inspectors
    assert report["exclusions"] == {"status:注销": 1}


def _down_and_up_again(
    db_url: str, revision: str, while_down: Callable[[Connection], None]
) -> Database:
    """Downgrade the (disposed) database to ``revision``, run ``while_down`` on it, upgrade
    it to the head again and open it."""
    from alembic import command

    from supervision.db import alembic_config, make_engine

    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), revision)
        with engine.connect() as conn:
            while_down(conn)
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
    finally:
        engine.dispose()
    return Database(db_url)


def _eligible_inspectors(conn: Any, code: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(what the draw summed up, what the eligibility itself says) for one task."""
    kept = conn.execute(
        text("SELECT department_code, cert_no FROM task_eligible_inspector WHERE task_code = :c"),
        {"c": code},
    ).all()
    derived = conn.execute(
        text("SELECT DISTINCT department_code, cert_no FROM task_eligibility WHERE task_code = :c"),
        {"c": code},
    ).all()
    assert len(kept) == len(set(kept))
    return set(map(tuple, kept)), set(map(tuple, derived))


def test_eligible_inspectors_are_the_eligibility_summed_up(
    db: Database, province: dict[str, Any], db_url: str
) -> None:
    """The fairness report reads each department's eligible inspectors from what the draw
    wrote beside the eligibility (a DISTINCT over the eligibility took 10 s at a province's
    size). Both must name the same inspectors, for a joint task too, and migration 0026 must
    fill them in for tasks drawn before it."""
    single = _task(db)
    joint = _task(db, code="联合〔2026〕2号", departments=["SJ", "SW"], items=["SJ-01", "SW-01"])
    for code in (single, joint):
        with db.session() as session:
            commit_task(session, code=code)
        with db.session() as session:
            draw_task(session, code=code, seed=SEED)
    with db.engine.connect() as conn:
        for code in (single, joint):
            kept, derived = _eligible_inspectors(conn, code)
            assert kept == derived and kept
        joint_inspectors = _eligible_inspectors(conn, joint)[1]
    assert {d for d, _ in joint_inspectors} == {"SJ", "SW"}
    with db.session() as session:
        report = fairness_report(session, code=joint)
    for dept in ("SJ", "SW"):  # every eligible inspector counted once, idle ones under "0"
        assert sum(report["load_histogram"][dept].values()) == len(
            {c for d, c in joint_inspectors if d == dept}
        )
    before = _dump(db)
    db.dispose()

    def while_down(conn: Connection) -> None:
        assert "task_eligible_inspector" not in inspect(conn).get_table_names()

    upgraded = _down_and_up_again(db_url, "0025", while_down)
    try:
        assert _dump(upgraded) == before  # the backfill wrote exactly what the draws had
    finally:
        upgraded.dispose()


def test_cli_walkthrough(cli: Any, db_url: str, province_cli: None, tmp_path: Path) -> None:
    database = Database(db_url)
    try:  # --by, the older name of --as, names a console user: the trail says console:张科长
        with database.session() as session:
            add_user(session, username="张科长", password="a planner's password", role="planner")
    finally:
        database.dispose()
    task_file = tmp_path / "task.yaml"
    task_file.write_text(
        "code: 蒙市监抽查〔2026〕7号\nplan: P2026\nname: 年报公示抽查\n"
        "departments: [SJ]\nitems: [SJ-01]\n"
        "ratios: {A: '0.05', B: '0.1', C: '0.2', D: '0.5'}\n"
        "period_start: 2026-03-01\nperiod_end: 2026-06-30\n",
        encoding="utf-8",
    )
    cli("task", "create", "--as", "cli-planner", "--from", task_file)
    listed = json.loads(cli("task", "list", "--json").stdout)
    assert [t["code"] for t in listed] == ["蒙市监抽查〔2026〕7号"]
    refused = cli(
        "task", "draw", "--as", "cli-planner", "蒙市监抽查〔2026〕7号", "--seed", "1", expect=1
    )
    assert "尚未锁定" in refused.stderr and "not committed" in refused.stderr
    committed = cli("task", "commit", "蒙市监抽查〔2026〕7号", "--by", "张科长")
    assert "SHA-256" in committed.stdout
    events = json.loads(
        cli("trail", "show", "--object", "task:蒙市监抽查〔2026〕7号", "--json").stdout
    )
    assert [(e["action"], e["actor"]) for e in events if e["action"] == "task.commit"] == [
        ("task.commit", "console:张科长")
    ]
    drawn = json.loads(
        cli(
            "task",
            "draw",
            "--as",
            "cli-planner",
            "蒙市监抽查〔2026〕7号",
            "--seed",
            "0123",
            "--json",
        ).stdout
    )
    assert drawn["seed"] == "0123" and drawn["picked"] > 0
    assert "一致" in cli("verify", "蒙市监抽查〔2026〕7号").stdout
    shown = json.loads(cli("task", "show", "蒙市监抽查〔2026〕7号", "--json").stdout)
    assert shown["status"] == "drawn" and shown["seed"] == "0123"
    report = json.loads(cli("task", "report", "蒙市监抽查〔2026〕7号", "--json").stdout)
    assert report["picked"] == drawn["picked"]
    cli("task", "export", "蒙市监抽查〔2026〕7号", tmp_path / "out")
    assert verify_export(tmp_path / "out") == []
    cancelled = cli("task", "cancel", "--as", "cli-planner", "蒙市监抽查〔2026〕7号", expect=2)
    assert "--reason" in cancelled.stderr
    cli("task", "cancel", "--as", "cli-planner", "蒙市监抽查〔2026〕7号", "--reason", "演示撤销")
    again = cli(
        "task", "draw", "--as", "cli-planner", "蒙市监抽查〔2026〕7号", "--seed", "1", expect=1
    )
    assert "不能再次抽取" in again.stderr


@pytest.fixture
def province_cli(db_url: str, tmp_path: Path) -> None:
    database = Database(db_url)
    try:
        province.__wrapped__(database, tmp_path)  # type: ignore[attr-defined]
    finally:
        database.dispose()


def test_migration_0018_keeps_old_tasks_in_the_full_layout(
    db: Database, province: dict[str, Any], db_url: str, tmp_path: Path
) -> None:
    """A task drawn before 0018 (USCC population files) is "full" after the upgrade and
    verifies exactly as committed; 0018 downgrades cleanly."""
    code = _task(db, disclosure="full")
    with db.session() as session:
        commit_task(session, code=code)
    with db.session() as session:
        draw_task(session, code=code, seed=SEED)
    before = _dump(db)
    db.dispose()

    def while_down(conn: Connection) -> None:
        assert "disclosure" not in {c["name"] for c in inspect(conn).get_columns("task")}
        columns = {c["name"] for c in inspect(conn).get_columns("task_population")}
        assert not {"salt", "pseudonym"} & columns

    upgraded = _down_and_up_again(db_url, "0018-1", while_down)  # the revision before 0018
    try:
        assert _dump(upgraded) == before
        with upgraded.session() as session:
            assert session.get(Task, code).disclosure == "full"  # type: ignore[union-attr]
            assert verify_task(session, code=code) == []
            export_task(session, code=code, out_dir=tmp_path / "export")
        assert verify_export(tmp_path / "export") == []
        assert _readme_code_says(tmp_path / "export") == "一致 MATCH"
    finally:
        upgraded.dispose()


def test_cli_salt_full_export_and_disclosure(
    cli: Any, db_url: str, province_cli: None, tmp_path: Path
) -> None:
    """The CLI doors: --disclosure at create and commit, `task salt` (an entity checks its
    own inclusion), `task export --full` for auditors, each issue/export on the trail."""
    database = Database(db_url)
    try:  # the salt desk and the auditors act as named console users
        with database.session() as session:
            add_user(session, username="窗口", password="the desk's password", role="planner")
            add_user(session, username="纪检组", password="the auditors' password", role="admin")
    finally:
        database.dispose()
    planner = ("--as", "cli-planner")  # the crew's planner (conftest.CREW)
    code = "蒙市监抽查〔2026〕8号"
    cli(
        "task", "create", "--code", code, "--plan", "P2026", "--name", "按区划抽查",
        "--department", "SJ", "--item", "SJ-01", "--ratio", "0.2",
        "--start", "2026-03-01", "--end", "2026-06-30", "--disclosure", "full", *planner,
    )  # fmt: skip
    committed = cli("task", "commit", code, "--disclosure", "pseudonymous", *planner)
    assert "化名 pseudonymous" in committed.stdout
    refused = cli("task", "commit", "nope", "--disclosure", "public", *planner, expect=2)
    assert "public" in refused.stderr
    cli("task", "draw", code, "--seed", "0123", *planner)
    db = Database(db_url)
    try:
        with db.session() as session:
            members = (
                session.execute(select(TaskPopulation).where(TaskPopulation.task_code == code))
                .scalars()
                .all()
            )
            drawn = set(session.execute(select(DrawPick.uscc)).scalars())
    finally:
        db.dispose()
    outsider = next(m for m in members if m.uscc not in drawn)
    issued = json.loads(cli("task", "salt", code, outsider.uscc, "--by", "窗口", "--json").stdout)
    assert issued == {
        "task": code,
        "uscc": outsider.uscc,
        "salt": outsider.salt,
        "pseudonym": outsider.pseudonym,
    }
    # The entity checks itself against the public pack with hashlib alone.
    cli("task", "export", code, tmp_path / "public")
    mine = hashlib.sha256(f"{issued['salt']}:{issued['uscc']}".encode()).hexdigest()
    files = [p.read_text(encoding="utf-8") for p in (tmp_path / "public/population").iterdir()]
    assert sum(mine in text.split("\n") for text in files) == 1
    assert not (tmp_path / "public/full").exists()
    unknown = cli("task", "salt", code, "91150000000000000X", *planner, expect=1)
    assert "不在任务" in unknown.stderr and "not in the population" in unknown.stderr
    full = cli("task", "export", code, tmp_path / "audit", "--full", "--by", "纪检组")
    assert "不得公开" in full.stdout
    assert verify_export(tmp_path / "audit") == []
    rows = list(csv.DictReader(io.StringIO((tmp_path / "audit/full/population.csv").read_text())))
    assert {r["uscc"] for r in rows} == {m.uscc for m in members}
    assert all(r["risk_class"] in "ABCD" and r["salt"] for r in rows)
    events = json.loads(cli("trail", "show", "--object", f"task:{code}", "--json").stdout)
    actions = [(e["action"], e["actor"]) for e in events]
    assert ("task.salt_issued", "console:窗口") in actions
    assert ("task.export_full", "console:纪检组") in actions
    assert sum(a == "task.export_full" for a, _ in actions) == 1  # the public export is not
