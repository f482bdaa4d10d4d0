"""The trail (全程留痕): one append-only, hash-chained row per event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class TrailEvent(SQLModel, table=True):
    """An event. ``hash`` = SHA-256(prev_hash + canonical fields); see supervision.trail."""

    __tablename__ = "trail_event"
    __table_args__ = (Index("ix_trail_object", "object"),)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64)
    object: str = Field(max_length=300)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    payload_digest: str = Field(max_length=64)
    # Unique: two writers can never both extend the same head (no fork of the chain).
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64, unique=True)


class TrailCheckpoint(SQLModel, table=True):
    """An anchor of the chain: its head (``seq``, ``hash``) at a moment, taken at least
    daily and with every publication, and published on the public site and in the open
    data, so that anyone holding one can later prove the chain still extends it
    (``supervision trail verify --checkpoint SEQ:HASH``)."""

    __tablename__ = "trail_checkpoint"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    hash: str = Field(max_length=64)
    at: datetime
    reason: str = Field(max_length=20)  # "daily", "publish", "manual"
