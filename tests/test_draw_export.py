"""The public export: exact file formats, a README whose code really recomputes the draw,
and a verifier that catches tampering."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervision.canonical import canonical_json
from supervision.draw.export import (
    population_digest,
    population_filename,
    verify_export,
    write_export,
)
from supervision.draw.sampling import DrawError, Pick, draw_entities

SEED = "20261126 骰子 3 5"
POPULATIONS = {
    "A": [f"91152200{i:09d}X" for i in range(40, 0, -1)],
    "信用 C/D": [f"92150100{i:09d}K" for i in range(25)],
    "a.b": ["91110000000000001X", "中文标识", "with,comma", 'with"quote'],
}
RATIOS = {"A": "0.05", "信用 C/D": "0.2", "a.b": "0.5"}


def parameters() -> dict[str, Any]:
    return {
        "task": "2026 年度企业公示信息抽查 第 1 批",
        "algorithm": "consistent-sampler 1.0.10, first-generation tickets, take=ceil(r*N), digits=18",
        "strata": {"A": "信用风险 A 类", "信用 C/D": "信用风险 C、D 类", "a.b": "测试"},
        "ratios": dict(RATIOS),
    }


def picks() -> list[Pick]:
    return draw_entities(SEED, POPULATIONS, {k: Decimal(v) for k, v in RATIOS.items()})


@pytest.fixture
def export(tmp_path: Path) -> Path:
    out = tmp_path / "export"
    write_export(out, seed=SEED, parameters=parameters(), populations=POPULATIONS, picks=picks())
    return out


def test_files_and_formats(export: Path) -> None:
    files = sorted(p.relative_to(export).as_posix() for p in export.rglob("*") if p.is_file())
    assert files == sorted(
        [
            "README.md",
            "digests.json",
            "parameters.json",
            "population/A.txt",
            "population/%E4%BF%A1%E7%94%A8%20C%2FD.txt",
            "population/a%2Eb.txt",
            "seed.txt",
            "selection.csv",
        ]
    )
    assert (export / "seed.txt").read_bytes() == SEED.encode("utf-8")
    params = json.loads((export / "parameters.json").read_bytes())
    assert (export / "parameters.json").read_bytes() == canonical_json(params)
    assert params["ratios"] == RATIOS
    assert params["population_files"]["信用 C/D"] == "population/%E4%BF%A1%E7%94%A8%20C%2FD.txt"
    assert params["population_sizes"] == {"A": 40, "信用 C/D": 25, "a.b": 4}
    assert params["sample_sizes"] == {"A": 2, "信用 C/D": 5, "a.b": 2}
    population = (export / "population/A.txt").read_bytes()
    assert population == "".join(f"{i}\n" for i in sorted(POPULATIONS["A"])).encode()
    assert hashlib.sha256(population).hexdigest() == population_digest(POPULATIONS["A"])
    selection = (export / "selection.csv").read_bytes().decode()
    assert "\r" not in selection and selection.endswith("\n")
    lines = selection.split("\n")[:-1]
    assert lines[0] == "stratum,id,ticket"
    assert len(lines) == 1 + len(picks())
    digests = json.loads((export / "digests.json").read_bytes())
    assert (export / "digests.json").read_bytes() == canonical_json(digests)
    for path, digest in digests.items():
        assert hashlib.sha256((export / path).read_bytes()).hexdigest() == digest
    assert set(digests) == set(files) - {"digests.json"}


def test_canonical_json() -> None:
    assert canonical_json({"b": 1, "a": ["甲", 0.5]}) == '{"a":["甲",0.5],"b":1}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_population_filename_is_safe_and_injective() -> None:
    names = ["A", "a-b_c", "a.b", "a%2Eb", "..", "../etc", "信用", "C/D", "x y"]
    files = [population_filename(n) for n in names]
    assert len(set(files)) == len(files)
    for f in files:
        stem = f.removeprefix("population/").removesuffix(".txt")
        assert re.fullmatch(r"[A-Za-z0-9_%-]+", stem)
    assert population_filename("A") == "population/A.txt"


def test_readme_code_recomputes_the_draw(export: Path) -> None:
    readme = (export / "README.md").read_text(encoding="utf-8")
    assert readme.index("复核") < readme.index("How to check")  # Chinese first
    code = re.search(r"```python\n(.*?)```", readme, re.S)
    assert code is not None
    run = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        cwd=export,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "一致 MATCH"
    # The same code must notice a tampered selection.
    selection = export / "selection.csv"
    selection.write_bytes(selection.read_bytes().replace(b"X,0.", b"Y,0.", 1))
    run = subprocess.run(
        [sys.executable, "-c", code.group(1)],
        cwd=export,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "不一致 MISMATCH"


def test_verify_export_accepts_a_good_export(export: Path) -> None:
    assert verify_export(export) == []


@pytest.mark.parametrize(
    ("path", "change", "needle"),
    [
        ("seed.txt", lambda b: b + b"\n", "digest mismatch: seed.txt"),
        ("population/A.txt", lambda b: b.replace(b"91152200000000001X\n", b""), "digest mismatch"),
        ("selection.csv", lambda b: b[:-2] + b"9\n", "differs from the recomputed"),
        ("parameters.json", lambda b: b.replace(b'"0.05"', b'"0.10"'), "digest mismatch"),
    ],
)
def test_verify_export_catches_tampering(export: Path, path: str, change: Any, needle: str) -> None:
    target = export / path
    target.write_bytes(change(target.read_bytes()))
    problems = verify_export(export)
    assert any(needle in p for p in problems), problems


def test_verify_export_recomputes_even_with_matching_digests(export: Path) -> None:
    # Someone rewrites both the selection and its digest: the recomputation still catches it.
    selection = export / "selection.csv"
    lines = selection.read_bytes().split(b"\n")
    lines[1], lines[2] = lines[2], lines[1]
    selection.write_bytes(b"\n".join(lines))
    digests = json.loads((export / "digests.json").read_bytes())
    digests["selection.csv"] = hashlib.sha256(selection.read_bytes()).hexdigest()
    (export / "digests.json").write_bytes(canonical_json(digests))
    assert verify_export(export) == [
        "selection.csv 与重算结果不一致 / selection.csv differs from the recomputed draw"
    ]


def test_verify_export_flags_extra_and_missing_files(export: Path) -> None:
    (export / "notes.txt").write_text("x")
    (export / "README.md").unlink()
    problems = verify_export(export)
    assert any("unlisted file: notes.txt" in p for p in problems)
    assert any("missing file: README.md" in p for p in problems)


def test_refuses_picks_that_do_not_reproduce(tmp_path: Path) -> None:
    wrong = picks()
    drawn = {p.id for p in wrong}
    other = next(i for i in POPULATIONS[wrong[0].stratum] if i not in drawn)
    wrong[0] = Pick(wrong[0].stratum, other, wrong[0].ticket, 1)
    with pytest.raises(DrawError) as caught:
        write_export(
            tmp_path / "x", seed=SEED, parameters=parameters(), populations=POPULATIONS, picks=wrong
        )
    assert "do not match" in caught.value.en
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda p: p.pop("task"), "lacks: task"),
        (lambda p: p.pop("algorithm"), "lacks: algorithm"),
        (lambda p: p["ratios"].pop("A"), "'ratios' must map"),
        (lambda p: p["ratios"].update(A=0.05), "must be a string"),
        (lambda p: p["ratios"].update(A="0"), "greater than 0"),
        (lambda p: p.update(strata=["A"]), "'strata' must list"),
        (lambda p: p.update(population_files={}), "generated by the export"),
    ],
)
def test_parameters_are_validated(tmp_path: Path, edit: Any, needle: str) -> None:
    params = parameters()
    edit(params)
    with pytest.raises(DrawError) as caught:
        write_export(
            tmp_path / "x", seed=SEED, parameters=params, populations=POPULATIONS, picks=picks()
        )
    assert needle in caught.value.en


def test_refuses_non_empty_directory_and_case_clash(tmp_path: Path, export: Path) -> None:
    with pytest.raises(DrawError, match="not empty"):
        write_export(
            export, seed=SEED, parameters=parameters(), populations=POPULATIONS, picks=picks()
        )
    populations = {"a": ["X1"], "A": ["X2"]}
    params = {"task": "t", "algorithm": "a", "strata": ["a", "A"], "ratios": {"a": "1", "A": "1"}}
    drawn = draw_entities("s", populations, {"a": Decimal(1), "A": Decimal(1)})
    with pytest.raises(DrawError, match="differ only in case"):
        write_export(
            tmp_path / "y", seed="s", parameters=params, populations=populations, picks=drawn
        )


# --------------------------------------------------------------------------- pseudonyms
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.integers(min_value=1, max_value=40),
    ratio=st.sampled_from(["0.05", "0.3", "1"]),
    seed=st.text(alphabet="0123456789", min_size=1, max_size=20),
)
def test_pseudonymous_export_reveals_exactly_the_drawn(
    tmp_path_factory: pytest.TempPathFactory, size: int, ratio: str, seed: str
) -> None:
    """Any pseudonymous export verifies, and no USCC or salt of an undrawn entity is in it."""
    from supervision.draw.export import Revealed, pseudonym

    usccs = [f"91150100{i:09d}X" for i in range(size)]
    salts = {u: hashlib.sha256(f"salt{u}{seed}".encode()).hexdigest()[:32] for u in usccs}
    owner = {pseudonym(salts[u], u): u for u in usccs}
    populations = {"A": sorted(owner)}
    drawn = draw_entities(seed, populations, {"A": Decimal(ratio)})
    reveal = {p.id: Revealed(uscc=owner[p.id], salt=salts[owner[p.id]]) for p in drawn}
    out = tmp_path_factory.mktemp("pseudo") / "export"
    params = {"task": "T", "algorithm": "x", "strata": ["A"], "ratios": {"A": ratio}}
    params["disclosure"] = "pseudonymous"
    write_export(out, seed=seed, parameters=params, populations=populations, picks=drawn,
                 reveal=reveal)  # fmt: skip
    assert verify_export(out) == []
    text = "".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file())
    undrawn = set(usccs) - {owner[p.id] for p in drawn}
    assert not [u for u in undrawn if u in text or salts[u] in text]
    with pytest.raises(DrawError, match="exactly the drawn"):
        write_export(tmp_path_factory.mktemp("bad") / "x", seed=seed, parameters=params,
                     populations=populations, picks=drawn,
                     reveal={**reveal, **{pseudonym(salts[u], u): Revealed(u, salts[u])
                                          for u in undrawn}} if undrawn else {})  # fmt: skip
