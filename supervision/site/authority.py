"""Who publishes the site: the deployment's publishing authority, or one authority's own site.

A province's deployment publishes the whole province's site under
``$SUPERVISION_PUBLISHING_AUTHORITY``; ``publish --authority CODE`` publishes one authority's
site (its tasks, their results, its name), and for the length of that publication every
page, open-data file and feed names that authority (``publishing_for``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["publishing_authority", "publishing_for"]

_NAME: ContextVar[str | None] = ContextVar("publishing_authority", default=None)


def publishing_authority() -> str:
    """The publishing authority: the one being published for, else
    $SUPERVISION_PUBLISHING_AUTHORITY (empty when unset)."""
    name = _NAME.get()
    if name is not None:
        return name
    from supervision.settings import settings

    return settings().publishing_authority.strip()


@contextmanager
def publishing_for(name: str | None) -> Iterator[None]:
    """Name ``name`` as the publishing authority within the block (None: the setting)."""
    token = _NAME.set(name)
    try:
        yield
    finally:
        _NAME.reset(token)
