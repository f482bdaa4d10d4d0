"""Verifying a drawn task: recompute the digests, the draw and the matching from what was
stored (the committed population and parameters, the seed, the eligibility) and list every
difference found.
"""

from __future__ import annotations

from sqlmodel import Session, select

from supervision.canonical import canonical_json
from supervision.draw import beacon
from supervision.draw.export import population_digest, pseudonym
from supervision.draw.matching import Assignment as Match
from supervision.draw.population import committed_population, pseudonym_owners
from supervision.draw.publication import stored_proof
from supervision.draw.sampling import DrawError, Pick, draw_entities
from supervision.draw.service import (
    match_inspectors,
    matching_groups,
    owned_picks,
    population_regions,
    stored_eligibility,
    stored_picks,
    stratum_ratios,
)
from supervision.draw.tasks import get_task, sha256_hex
from supervision.errors import SupervisionError
from supervision.models import Assignment, Task, TaskStratum


def verify_task(session: Session, *, code: str) -> list[str]:
    """Recompute a drawn task from its stored commitment, seed and eligibility.

    Returns the differences found, first one first; an empty list means the draw, the
    digests and the matching all recompute exactly.
    """
    task = get_task(session, code=code)
    if task.seed is None or task.drawn_at is None:
        raise SupervisionError(
            f"任务 {code} 尚未抽取，无可核验 / ",
            f"task {code} has not been drawn; nothing to verify",
        )
    population = committed_population(session, code=code)
    problems = _check_digests(session, task, population)
    problems += _check_beacon(task)
    owners = pseudonym_owners(session, code=code)
    problems += _check_pseudonyms(owners)
    expected = owned_picks(
        draw_entities(task.seed, population, stratum_ratios(session, code=code)), owners
    )
    problems += _check_picks(expected, stored_picks(session, code=code))
    problems += _check_matching(session, task, expected)
    return problems


def _check_digests(session: Session, task: Task, population: dict[str, list[str]]) -> list[str]:
    """The committed digests against the stored population and parameters."""
    code = task.code
    problems: list[str] = []
    digests = {
        s.stratum: s.digest
        for s in session.exec(select(TaskStratum).where(TaskStratum.task_code == code))
    }
    for name, ids in population.items():
        actual = population_digest(ids)
        if actual != digests[name]:
            problems.append(
                f"分层 {name} 的名录摘要不符 / population digest of stratum {name} differs: "
                f"committed {digests[name]}, now {actual}"
            )
    committed = (task.parameters_json or "").encode()
    if sha256_hex(committed) != task.parameters_digest:
        problems.append(
            "参数摘要不符 / the parameters digest does not match the committed parameters"
        )
    overall = sha256_hex(canonical_json(digests))
    if overall != task.population_digest:
        problems.append("名录总摘要不符 / the population digest does not match")
    return problems


def _check_pseudonyms(owners: dict[str, tuple[str, str]]) -> list[str]:
    """Every stored pseudonym is SHA-256(salt ":" USCC) of its row."""
    for name, (uscc, salt) in sorted(owners.items()):
        if pseudonym(salt, uscc) != name:
            return [
                f"主体 {uscc} 的化名与盐值不符 / the pseudonym of {uscc} does not match its salt"
            ]
    return []


def _check_beacon(task: Task) -> list[str]:
    """A beacon task's stored signature verifies for the committed round and gives its seed."""
    if task.seed_kind != beacon.KIND_BEACON:
        return []
    proof = stored_proof(task)
    if proof is None:
        return ["没有保存 drand 轮次的签名 / the drand round's signature is not stored"]
    try:
        randomness = beacon.verify(proof, expected_round=task.beacon_round)
    except beacon.BeaconError as exc:
        return [str(exc)]
    if randomness != task.seed:
        return [
            f"种子不是 drand 第 {proof.round} 轮的随机数 / "
            f"the seed is not the randomness of drand round {proof.round}"
        ]
    return []


def _check_picks(expected: list[Pick], picks: list[Pick]) -> list[str]:
    """The recomputed picks against the stored ones: the first difference, and the counts."""
    problems: list[str] = []
    stored = sorted(picks, key=lambda p: (p.stratum, p.rank))
    expected_sorted = sorted(expected, key=lambda p: (p.stratum, p.rank))
    for want, got in zip(expected_sorted, stored, strict=False):
        if want != got:
            problems.append(
                f"抽取结果不符：应为 {want.stratum}#{want.rank} {want.id} {want.ticket}，"
                f"记录为 {got.stratum}#{got.rank} {got.id} {got.ticket} / "
                f"draw differs at {want.stratum} rank {want.rank}: expected {want.id}, stored {got.id}"
            )
            break
    if len(expected_sorted) != len(stored):
        problems.append(
            f"抽取数量不符：应为 {len(expected_sorted)}，记录为 {len(stored)} / "
            f"expected {len(expected_sorted)} picks, stored {len(stored)}"
        )
    return problems


def _check_matching(session: Session, task: Task, expected: list[Pick]) -> list[str]:
    """The inspector matching recomputed from the stored eligibility against the stored one."""
    assert task.seed is not None
    code = task.code
    problems: list[str] = []
    eligible = stored_eligibility(session, code=code)
    slots = [(p.id, d, task.members[d]) for p in expected for d in task.departments]
    stored_matches = sorted(
        Match(entity_id=a.uscc, department=a.department_code, inspector_id=a.cert_no, cost=a.cost)
        for a in session.exec(select(Assignment).where(Assignment.task_code == code))
    )
    try:
        recomputed, _ = match_inspectors(
            task.seed,
            slots,
            eligible,
            matching_groups(task, population_regions(session, code=code)),
            base_slack=task.load_slack,
        )
    except DrawError as exc:
        problems.append(f"无法重新匹配 / the matching cannot be recomputed: {exc}")
        return problems
    for want_match, got_match in zip(recomputed, stored_matches, strict=False):
        if want_match != got_match:
            problems.append(
                f"人员匹配不符：应为 {want_match}，记录为 {got_match} / "
                f"the inspector matching differs: expected {want_match}, stored {got_match}"
            )
            break
    if len(recomputed) != len(stored_matches):
        problems.append(
            f"匹配数量不符：应为 {len(recomputed)}，记录为 {len(stored_matches)} / "
            f"expected {len(recomputed)} assignments, stored {len(stored_matches)}"
        )
    return problems
