"""Export a draw so that outsiders can recompute it (一公开), and check such an export.

An export directory holds exactly:

    seed.txt                 the seed, verbatim, UTF-8, no trailing newline
    parameters.json          canonical JSON: task, algorithm, strata, ratios (stratum →
                             ratio string), plus population_files, population_sizes,
                             sample_sizes added here
    population/<name>.txt    one id per line, sorted by code point, LF, final newline; the
                             ids are pseudonyms SHA-256(salt ":" USCC) when parameters.json
                             says "disclosure": "pseudonymous", else USCCs
    selection.csv            stratum,id,ticket — the drawn entities in draw order, LF; a
                             pseudonymous export: stratum,pseudonym,ticket,uscc,salt,name
                             (USCC, salt and name of the drawn entities only)
    full/population.csv      only in an auditors' export (task export --full): every member's
                             stratum, pseudonym, USCC, salt and risk class
    beacon.json              only when the seed came from the drand beacon: the proof
                             (chain_hash, round, signature), canonical JSON
    README.md                how to recompute (Chinese, then English), with runnable code
    digests.json             SHA-256 of every file above, by relative path

Population file names: a stratum name is kept as is when it only uses
``A-Z a-z 0-9 _ -``; any other character (including ".", "%", "/" and all non-ASCII)
is written as %XX of its UTF-8 bytes, so "信用A" becomes ``%E4%BF%A1%E7%94%A8A.txt``.
The mapping is injective, cannot escape the directory, and is recorded in
``parameters.json`` under ``population_files``; names that would collide on a
case-insensitive file system ("a" and "A") are refused.

Only this module touches the file system; it writes nothing outside ``out_dir``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from supervision.canonical import canonical_json
from supervision.draw import beacon
from supervision.draw.export_readme import readme_text
from supervision.draw.sampling import (
    DrawError,
    Pick,
    draw_entities,
    parse_ratio,
    validate_ids,
    validate_seed,
)

__all__ = [
    "DISCLOSURES",
    "PSEUDONYMOUS",
    "REQUIRED_PARAMETERS",
    "Revealed",
    "population_bytes",
    "population_digest",
    "population_filename",
    "pseudonym",
    "verify_export",
    "write_export",
]

REQUIRED_PARAMETERS = ("task", "algorithm", "strata", "ratios")
"""Keys the caller must put in parameters.json."""

_ADDED_PARAMETERS = ("population_files", "population_sizes", "sample_sizes")
_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SELECTION_HEADER = ["stratum", "id", "ticket"]
_REVEALED_HEADER = ["stratum", "pseudonym", "ticket", "uscc", "salt", "name"]


@dataclass(frozen=True)
class Revealed:
    """What a pseudonymous export reveals of one selected entity."""

    uscc: str
    salt: str
    name: str = ""


PSEUDONYMOUS = "pseudonymous"
FULL = "full"
DISCLOSURES = (PSEUDONYMOUS, FULL)
"""What a task's population files publish: pseudonyms (the default) or the USCCs."""


def pseudonym(salt: str, uscc: str) -> str:
    """An entity's pseudonym in a task: SHA-256 of ``salt ":" uscc`` (UTF-8), lower-case hex."""
    return hashlib.sha256(f"{salt}:{uscc}".encode()).hexdigest()


def population_bytes(ids: Sequence[str]) -> bytes:
    """The canonical population file: ids sorted by code point, one per line, LF-ended."""
    return "".join(f"{i}\n" for i in sorted(ids)).encode("utf-8")


def population_digest(ids: Sequence[str]) -> str:
    """SHA-256 hex of the canonical population file for ``ids``."""
    return hashlib.sha256(population_bytes(ids)).hexdigest()


def population_filename(stratum: str) -> str:
    """Relative path of a stratum's population file (see the module docstring)."""
    encoded = "".join(
        char if char in _SAFE else "".join(f"%{b:02X}" for b in char.encode("utf-8"))
        for char in stratum
    )
    return f"population/{encoded}.txt"


def _selection_bytes(picks: Sequence[Pick], reveal: Mapping[str, Revealed] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_SELECTION_HEADER if reveal is None else _REVEALED_HEADER)
    for pick in picks:
        if reveal is None:
            writer.writerow([pick.stratum, pick.id, pick.ticket])
        else:
            who = reveal[pick.id]
            writer.writerow([pick.stratum, pick.id, pick.ticket, who.uscc, who.salt, who.name])
    return buffer.getvalue().encode("utf-8")


def _check_parameters(
    parameters: Mapping[str, Any], populations: Mapping[str, Sequence[str]]
) -> None:
    missing = [key for key in REQUIRED_PARAMETERS if key not in parameters]
    if missing:
        raise DrawError(
            f"parameters.json 缺少字段：{', '.join(missing)}",
            f"parameters.json lacks: {', '.join(missing)}",
        )
    ratios = parameters["ratios"]
    if not isinstance(ratios, Mapping) or set(ratios) != set(populations):
        raise DrawError(
            "parameters.json 的 ratios 必须是 分层 → 比例字符串，且分层与名录一致",
            "parameters.json 'ratios' must map each stratum of the populations to a ratio string",
        )
    for name, ratio in ratios.items():
        if not isinstance(ratio, str):
            raise DrawError(
                f'分层 {name!r} 的比例须写成字符串（如 "0.05"）以保持精确',
                f'the ratio of stratum {name!r} must be a string (e.g. "0.05") to stay exact',
            )
        parse_ratio(ratio, name)
    strata = parameters["strata"]
    if not isinstance(strata, (Mapping, list)) or set(strata) != set(populations):
        raise DrawError(
            "parameters.json 的 strata 必须列出（或以对象描述）每个分层，且与名录一致",
            "parameters.json 'strata' must list (or describe, as an object) exactly the strata",
        )
    clash = [key for key in _ADDED_PARAMETERS if key in parameters]
    if clash:
        raise DrawError(
            f"parameters.json 字段 {', '.join(clash)} 由导出程序生成，调用方不应提供",
            f"parameters.json fields {', '.join(clash)} are generated by the export",
        )


def _file_names(populations: Mapping[str, Sequence[str]]) -> dict[str, str]:
    names = {stratum: population_filename(stratum) for stratum in sorted(populations)}
    folded: dict[str, str] = {}
    for stratum, name in names.items():
        other = folded.setdefault(name.casefold(), stratum)
        if other != stratum:
            raise DrawError(
                f"分层 {other!r} 与 {stratum!r} 的文件名只差大小写，在部分系统上会冲突",
                f"strata {other!r} and {stratum!r} differ only in case; their files would clash",
            )
    return names


def write_export(
    out_dir: str | Path,
    *,
    seed: str,
    parameters: Mapping[str, Any],
    populations: Mapping[str, Sequence[str]],
    picks: Sequence[Pick],
    proof: beacon.BeaconRound | None = None,
    reveal: Mapping[str, Revealed] | None = None,
    extra: Mapping[str, bytes] | None = None,
) -> dict[str, str]:
    """Write the public export of a draw into ``out_dir`` (created; must be new or empty).

    With ``reveal`` (a pseudonymous task: the populations and picks hold pseudonyms) each
    selected pseudonym's USCC, salt and name go into selection.csv; every revealed salt must
    give its pseudonym, and only selected pseudonyms may be revealed. ``extra`` (relative
    path → bytes) adds files, listed in digests.json (the auditors' full export).

    With ``proof`` (the seed came from the drand beacon) the round is verified, its
    randomness must be ``seed`` and its round the one in ``parameters["seed"]``; the
    export then holds ``beacon.json`` and its README the code that checks it.

    ``parameters`` must hold ``task``, ``algorithm``, ``strata`` and ``ratios`` (stratum →
    ratio string).  The picks are recomputed from seed, populations and ratios before
    anything is written, so an export that does not reproduce is never published.
    Returns the SHA-256 of every written file by relative path.
    """
    validate_seed(seed)
    _check_parameters(parameters, populations)
    if proof is not None:
        _check_beacon(proof, seed, parameters)
    validate_ids(populations)
    if reveal is not None:
        _check_reveal(reveal, picks)
    files = _file_names(populations)
    _check_reproduces(seed, parameters, populations, picks)
    root = Path(out_dir)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise DrawError(
            f"导出目录 {root} 已存在且不为空", f"export directory {root} exists and is not empty"
        )
    contents = _export_contents(seed, parameters, populations, picks, files, proof, reveal)
    contents.update(extra or {})
    digests = {path: hashlib.sha256(data).hexdigest() for path, data in contents.items()}
    contents["digests.json"] = canonical_json(digests)
    for path, data in contents.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return {path: hashlib.sha256(data).hexdigest() for path, data in contents.items()}


def _check_reproduces(
    seed: str,
    parameters: Mapping[str, Any],
    populations: Mapping[str, Sequence[str]],
    picks: Sequence[Pick],
) -> None:
    ratios = {name: parse_ratio(r, name) for name, r in parameters["ratios"].items()}
    expected = draw_entities(seed, populations, ratios)
    if list(picks) != expected:
        raise DrawError(
            "给出的抽取结果与种子、名录和比例重算的结果不一致，拒绝导出",
            "the picks do not match a recomputation from seed, populations and ratios; "
            "nothing exported",
        )


def _export_contents(
    seed: str,
    parameters: Mapping[str, Any],
    populations: Mapping[str, Sequence[str]],
    picks: Sequence[Pick],
    files: Mapping[str, str],
    proof: beacon.BeaconRound | None,
    reveal: Mapping[str, Revealed] | None,
) -> dict[str, bytes]:
    """Every published file but digests.json, by relative path, in publication order."""
    full_parameters = dict(parameters)
    full_parameters["population_files"] = files
    full_parameters["population_sizes"] = {name: len(ids) for name, ids in populations.items()}
    full_parameters["sample_sizes"] = {
        name: sum(1 for p in picks if p.stratum == name) for name in populations
    }
    contents: dict[str, bytes] = {
        "seed.txt": seed.encode("utf-8"),
        "parameters.json": canonical_json(full_parameters),
    }
    for name in sorted(populations):
        contents[files[name]] = population_bytes(populations[name])
    contents["selection.csv"] = _selection_bytes(picks, reveal)
    task = str(parameters["task"]).replace("\n", " ")
    if proof is not None:
        contents["beacon.json"] = canonical_json(proof.to_dict())
    readme = readme_text(task, pseudonymous=reveal is not None, proof=proof)
    contents["README.md"] = readme.encode("utf-8")
    return contents


def _check_reveal(reveal: Mapping[str, Revealed], picks: Sequence[Pick]) -> None:
    """Every pick is revealed, nothing else is, and every salt gives its pseudonym."""
    drawn = {p.id for p in picks}
    if set(reveal) != drawn:
        raise DrawError(
            "化名公开只能且必须公开抽中的主体，拒绝导出",
            "a pseudonymous export reveals exactly the drawn entities; nothing exported",
        )
    for name, who in sorted(reveal.items()):
        if pseudonym(who.salt, who.uscc) != name:
            raise DrawError(
                f"主体 {who.uscc} 的盐值算不出其化名，拒绝导出",
                f"the salt of {who.uscc} does not give its pseudonym; nothing exported",
            )


def _read_revealed(data: bytes, problems: list[str]) -> dict[str, Revealed]:
    """The revealed entities of a pseudonymous selection.csv; a wrong salt is a problem."""
    revealed: dict[str, Revealed] = {}
    rows = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    for line, row in enumerate(rows, start=2):
        who = Revealed(uscc=row["uscc"], salt=row["salt"], name=row.get("name") or "")
        if pseudonym(who.salt, who.uscc) != row["pseudonym"]:
            problems.append(
                f'selection.csv 第 {line} 行：SHA-256(salt ":" uscc) 不等于化名 / '
                f'selection.csv row {line}: SHA-256(salt ":" uscc) is not the pseudonym'
            )
        revealed[row["pseudonym"]] = who
    return revealed


def _check_beacon(proof: beacon.BeaconRound, seed: str, parameters: Mapping[str, Any]) -> None:
    """The proof verifies, names the committed round and gives exactly ``seed``."""
    committed = parameters.get("seed")
    if not isinstance(committed, Mapping) or committed.get("kind") != beacon.KIND_BEACON:
        raise DrawError(
            "parameters.json 没有锁定 drand 轮次（seed），信标证明无从核对",
            "parameters.json commits to no drand round ('seed'); the beacon proof cannot be checked",
        )
    try:
        randomness = beacon.verify(proof, expected_round=committed.get("round"))
    except beacon.BeaconError as exc:
        raise DrawError(exc.zh, exc.en) from None
    if randomness != seed:
        raise DrawError(
            "种子不是 drand 轮次的随机数", "the seed is not the randomness of the drand round"
        )


def _read_population(data: bytes, name: str, problems: list[str]) -> list[str]:
    text = data.decode("utf-8")
    if text and not text.endswith("\n"):
        problems.append(f"{name} 缺少末尾换行 / {name} lacks the final newline")
    ids = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    if ids != sorted(ids) or len(set(ids)) != len(ids):
        problems.append(f"{name} 未排序或有重复 / {name} is not sorted or has duplicates")
    return ids


def verify_export(directory: str | Path) -> list[str]:
    """Check an export; return the problems found (empty list: the export reproduces).

    Checks every digest, that no file is missing or extra, the seed, the parameters,
    the population files' canonical form, and recomputes the selection.
    """
    root = Path(directory)
    problems: list[str] = []
    try:
        digests = json.loads((root / "digests.json").read_bytes())
        parameters = json.loads((root / "parameters.json").read_bytes())
        seed = (root / "seed.txt").read_bytes().decode("utf-8")
    except (OSError, ValueError) as exc:
        return [f"无法读取导出文件 / cannot read the export: {exc}"]
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {
        "digests.json"
    }
    if not isinstance(digests, dict):
        return ["digests.json 格式错误 / digests.json is malformed"]
    for path in sorted(present - set(digests)):
        problems.append(f"多余的文件 / unlisted file: {path}")
    for path, digest in sorted(digests.items()):
        if path not in present:
            problems.append(f"缺少文件 / missing file: {path}")
        elif hashlib.sha256((root / path).read_bytes()).hexdigest() != digest:
            problems.append(f"摘要不符 / digest mismatch: {path}")
    try:
        validate_seed(seed)
        files = parameters["population_files"]
        ratio_texts = parameters["ratios"]
        if set(files) != set(ratio_texts):
            raise DrawError("分层不一致", "strata in population_files and ratios differ")
        populations: dict[str, list[str]] = {}
        for name, path in sorted(files.items()):
            if path != population_filename(name):
                problems.append(
                    f"分层 {name!r} 的文件名应为 {population_filename(name)} / "
                    f"stratum {name!r} should be in {population_filename(name)}"
                )
            populations[name] = _read_population((root / path).read_bytes(), path, problems)
        ratios = {name: parse_ratio(text, name) for name, text in ratio_texts.items()}
        if (root / "beacon.json").exists() or isinstance(parameters.get("seed"), dict):
            proof = beacon.parse_round((root / "beacon.json").read_bytes(), source="beacon.json")
            _check_beacon(proof, seed, parameters)
        published = (
            (root / "selection.csv").read_bytes() if (root / "selection.csv").exists() else b""
        )
        reveal = None
        if parameters.get("disclosure") == PSEUDONYMOUS:
            reveal = _read_revealed(published, problems)
        recomputed = draw_entities(seed, populations, ratios)
        if reveal is not None and {p.id for p in recomputed} != set(reveal):
            problems.append(
                "selection.csv 公开的主体与重算的抽取不一致 / selection.csv reveals other "
                "entities than the recomputed draw"
            )
            return problems
        expected = _selection_bytes(recomputed, reveal)
    except (
        DrawError,
        beacon.BeaconError,
        OSError,
        KeyError,
        TypeError,
        AttributeError,
        UnicodeDecodeError,
        ValueError,
    ) as exc:
        problems.append(f"无法重算 / cannot recompute: {exc!s}")
        return problems
    if published != expected:
        problems.append(
            "selection.csv 与重算结果不一致 / selection.csv differs from the recomputed draw"
        )
    return problems
