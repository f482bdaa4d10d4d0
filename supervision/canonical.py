"""Canonical JSON: the one byte form that digests are taken of.

Draw exports (``parameters.json``, ``digests.json``), task commitments and the trail's
hash chain all hash this form, so anyone can recompute a digest from the same data:
keys sorted, no spaces, UTF-8 without escapes, and no NaN or infinity.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["canonical_json"]


def canonical_json(obj: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8 without escapes, no NaN."""
    return json.dumps(
        obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")
