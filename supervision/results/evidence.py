"""Evidence files of a result: stored in the database, content-addressed by SHA-256.

The bytes go into the ``evidence_file`` table — in the database, so a result and its
evidence commit or roll back together and a backup of the database is a backup of the
evidence. A result keeps only the list of {name, sha256, size}. Size limit per file:
``SUPERVISION_EVIDENCE_MAX_BYTES`` (default 20 MB).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlmodel import Session

from supervision import clock
from supervision.errors import SupervisionError
from supervision.models.results import EvidenceFile
from supervision.settings import settings

__all__ = ["DEFAULT_EVIDENCE_MAX", "EVIDENCE_ENV", "evidence_limit", "store_evidence"]

EVIDENCE_ENV = "SUPERVISION_EVIDENCE_MAX_BYTES"
DEFAULT_EVIDENCE_MAX = 20 * 1024 * 1024


def evidence_limit() -> int:
    """The largest evidence file stored, in bytes: ``$SUPERVISION_EVIDENCE_MAX_BYTES``, else
    ``DEFAULT_EVIDENCE_MAX``. A value that is not a whole number is a ``SupervisionError``."""
    return settings().evidence_max_bytes


def store_evidence(session: Session, *, path_text: str, limit: int) -> dict[str, Any]:
    """Store one evidence file (once per content) and return its {name, sha256, size}."""
    path = Path(path_text)
    try:
        size = path.stat().st_size
        if size > limit:
            raise SupervisionError(
                f"证据文件 {path.name} 大小 {size} 字节，超过上限 {limit} 字节",
                f"evidence file {path.name} is {size} bytes, over the limit of {limit} bytes",
                details=[f"调整上限 / raise the limit: {EVIDENCE_ENV}=<bytes>"],
            )
        content = path.read_bytes()
    except OSError as exc:
        raise SupervisionError(
            f"无法读取证据文件 {path}：{exc.strerror}", f"cannot read evidence file {path}: {exc}"
        ) from None
    digest = hashlib.sha256(content).hexdigest()
    if session.get(EvidenceFile, digest) is None:
        session.add(
            EvidenceFile(sha256=digest, size=len(content), content=content, stored_at=clock.now())
        )
    return {"name": path.name, "sha256": digest, "size": len(content)}
