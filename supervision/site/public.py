"""How stored values are shown to the public: times in Beijing time, entities with the
natural person masked (no phone, no ID number), and the marker for messages to translate.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from supervision import clock
from supervision.reference.privacy import mask_name
from supervision.reference.regions import prefecture_of, region_name
from supervision.site import urls


def N_(message: str) -> str:
    """Mark a message for extraction; templates translate it when they show it."""
    return message


@lru_cache(maxsize=8192)
def local_time(moment: datetime | None) -> str:
    """A stored UTC time as Beijing time text (YYYY-MM-DD HH:MM:SS), '' when missing."""
    if moment is None:
        return ""
    return clock.local(moment).strftime("%Y-%m-%d %H:%M:%S")


_region_name = lru_cache(maxsize=4096)(region_name)


def public_entity(row: Any) -> dict[str, Any]:
    """An entity as the public sees it: the natural person masked, no phone, no ID number,
    and no credit risk class (classification results are internal: 不公开)."""
    return {
        "uscc": row.uscc,
        "name": row.name,
        "entity_type": row.entity_type,
        "industry_code": row.industry_code,
        "region_code": row.region_code,
        "region": _region_name(row.region_code),
        "prefecture": prefecture_of(row.region_code),
        "address": row.address,
        "legal_rep_masked": mask_name(row.legal_rep),
        "status": row.status,
        "established_on": row.established_on.isoformat() if row.established_on else "",
        "href": urls.entity_path(row.uscc),
    }
