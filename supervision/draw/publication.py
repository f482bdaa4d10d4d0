"""What a drawn task publishes: the export an outsider recomputes the draw from (with the
auditors' full population), the beacon proof, and an entity's salt issued on request.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from sqlmodel import Session, col, select

from supervision import trail
from supervision.draw import beacon
from supervision.draw.export import Revealed, write_export
from supervision.draw.population import committed_population, pseudonym_owners
from supervision.draw.sampling import Pick
from supervision.draw.service import stored_picks
from supervision.draw.tasks import get_task
from supervision.errors import NotFoundError, SupervisionError
from supervision.models import Entity, Task, TaskPopulation, TaskStatus

__all__ = ["FULL_POPULATION", "export_task", "issue_salt", "stored_proof"]


def export_task(
    session: Session,
    *,
    code: str,
    out_dir: Path,
    full: bool = False,
    actor: str | None = None,
) -> dict[str, str]:
    """Write seed, parameters, populations, selection, digests and a README for outsiders.

    A pseudonymous task's population files list pseudonyms; its selection.csv reveals, for
    each selected entity only, the USCC, the salt and the name. ``full`` (for auditors:
    纪检监察, courts) adds ``full/population.csv`` — every member's stratum, pseudonym,
    USCC, salt and credit risk class — and records a ``task.export_full`` trail event.
    """
    task = get_task(session, code=code)
    if task.seed is None or task.parameters_json is None:
        raise SupervisionError(
            f"任务 {code} 尚未抽取，无可导出", f"task {code} has not been drawn; nothing to export"
        )
    stored = sorted(stored_picks(session, code=code), key=lambda p: (p.stratum, p.rank))
    owners = pseudonym_owners(session, code=code, usccs=[p.id for p in stored])
    pseudonyms = {uscc: pseudonym for pseudonym, (uscc, _) in owners.items()}
    reveal = None
    picks = stored
    if owners:
        picks = [
            Pick(stratum=p.stratum, id=pseudonyms[p.id], ticket=p.ticket, rank=p.rank)
            for p in stored
        ]
        names = dict(
            session.exec(
                select(Entity.uscc, Entity.name).where(col(Entity.uscc).in_(list(pseudonyms)))
            ).all()
        )
        reveal = {
            pseudonym: Revealed(uscc=uscc, salt=salt, name=names.get(uscc, ""))
            for pseudonym, (uscc, salt) in owners.items()
        }
    files = write_export(
        out_dir,
        seed=task.seed,
        parameters=json.loads(task.parameters_json),
        populations=committed_population(session, code=code),
        picks=picks,
        proof=stored_proof(task),
        reveal=reveal,
        extra={FULL_POPULATION: _full_population(session, code=code)} if full else None,
    )
    if full:
        trail.record(
            session,
            action="task.export_full",
            obj=f"task:{code}",
            payload={"files": len(files), "population": files[FULL_POPULATION]},
            actor=actor,
        )
    return files


FULL_POPULATION = "full/population.csv"
"""The auditors' full population in a ``task export --full``."""


def _full_population(session: Session, *, code: str) -> bytes:
    """Every member of a task's population: stratum, pseudonym, USCC, salt, risk class."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["stratum", "pseudonym", "uscc", "salt", "risk_class"])
    rows = session.exec(
        select(TaskPopulation, Entity.risk_class)
        .join(Entity, col(Entity.uscc) == col(TaskPopulation.uscc), isouter=True)
        .where(TaskPopulation.task_code == code)
        .order_by(col(TaskPopulation.stratum), col(TaskPopulation.uscc))
    )
    for member, risk_class in rows:
        writer.writerow(
            [member.stratum, member.pseudonym or "", member.uscc, member.salt or "", risk_class]
        )
    return buffer.getvalue().encode("utf-8")


def issue_salt(
    session: Session, *, code: str, uscc: str, actor: str | None = None
) -> dict[str, str]:
    """An entity's salt and pseudonym in a pseudonymous task, issued on its request so it can
    check its own inclusion (SHA-256(salt ":" USCC) is in a population file); each issue is
    on the trail (``task.salt_issued``)."""
    task = get_task(session, code=code)
    uscc = uscc.strip().upper()
    if task.status == TaskStatus.DRAFT or task.population_digest is None:
        raise SupervisionError(
            f"任务 {code} 尚未锁定，没有名录", f"task {code} is not committed; it has no population"
        )
    member = session.exec(
        select(TaskPopulation).where(TaskPopulation.task_code == code, TaskPopulation.uscc == uscc)
    ).first()
    if member is None:
        raise NotFoundError(
            f"主体 {uscc} 不在任务 {code} 的抽查对象名录中",
            f"entity {uscc} is not in the population of task {code}",
        )
    if member.salt is None or member.pseudonym is None:
        raise SupervisionError(
            f"任务 {code} 的名录公开统一社会信用代码（full），无需盐值：直接在名录文件中查找 {uscc}",
            f"task {code} publishes its population in full (USCCs): look {uscc} up directly",
        )
    trail.record(
        session,
        action="task.salt_issued",
        obj=f"task:{code}",
        payload={"uscc": uscc},
        actor=actor,
    )
    return {
        "task": code,
        "uscc": uscc,
        "salt": member.salt,
        "pseudonym": member.pseudonym,
    }


def stored_proof(task: Task) -> beacon.BeaconRound | None:
    """The beacon proof of a drawn beacon task (None for a typed seed)."""
    if task.beacon_round is None or task.beacon_signature is None:
        return None
    return beacon.BeaconRound(round=task.beacon_round, signature=task.beacon_signature)
