"""The API's request bodies, and the answers it types (so /api/openapi.json shows them).

The answers keep exactly the JSON the API has always given: a response model here lists
the same keys, in the same order, with the same values.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from supervision.results.visit import VisitInput

__all__ = [
    "Decision",
    "DirectoryCount",
    "DisabledUser",
    "Entity",
    "Me",
    "NewUser",
    "NewUserDone",
    "QueueEntry",
    "QueuePage",
    "ResultEntry",
    "ResultItem",
    "ResultReview",
    "ResultState",
    "Seed",
    "SessionToken",
    "SignIn",
    "TaskCode",
    "TaskState",
    "UserRow",
    "Username",
    "VisitEntry",
]


# ---------------------------------------------------------------- request bodies
class SignIn(BaseModel):
    username: str
    password: str


class Decision(BaseModel):
    text: str = Field("", description="confirm: the note; dismiss: the reason (required)")


class PlanCode(BaseModel):
    code: str


class TaskCode(BaseModel):
    code: str
    #: "typed" or "beacon" (empty: the kind chosen at creation or by the schedule).
    seed_kind: str = ""
    #: The planned draw time, for a beacon task without a schedule.
    draw_at: str = ""
    #: "pseudonymous" or "full" (empty: the task's choice, pseudonymous by default).
    disclosure: str = ""


class SaltRequest(BaseModel):
    code: str
    uscc: str


class Seed(BaseModel):
    code: str
    seed: str = ""
    #: A beacon task's round as a drand endpoint returns it (empty: fetch it from drand).
    round_json: str = ""


class ResultItem(BaseModel):
    item: str
    # Without a code, the checklist answers propose it.
    code: str | None = None
    sub_code: str | None = None
    finding: str | None = None
    inspected_on: date
    follow_up: str | None = None
    due: date | None = None
    follow_up_note: str | None = None
    follow_up_ref: str | None = None
    # Checklist answers (一细则): {point id: 符合|不符合|不涉及 or {answer, note, evidence}}.
    checklist: dict[str, Any] | None = None


class VisitEntry(VisitInput):
    """一表通查: one joint visit's combined checklist (supervision.results.visit)."""

    task: str
    uscc: str


class ResultEntry(BaseModel):
    task: str
    uscc: str
    items: list[ResultItem]


class ResultReview(BaseModel):
    task: str
    uscc: str
    approve: bool
    reason: str | None = None


class Entity(BaseModel):
    task: str
    uscc: str


class NewUser(BaseModel):
    username: str
    password: str
    role: str
    display_name: str | None = None
    cert_no: str | None = None
    # A reviewer's department: in a joint task they review only its part (一表通查).
    department_code: str | None = None
    # The scope: departments (empty: the admin's) and a GB/T 2260 region prefix (15, 1502…).
    departments: list[str] | None = None
    region: str | None = None


class NewScope(BaseModel):
    username: str
    departments: list[str] | None = None
    region: str | None = None


class ScopeChanged(BaseModel):
    username: str


class Username(BaseModel):
    username: str


class NewRole(BaseModel):
    """Another role for a user (an inspector needs ``cert_no`` unless they have one)."""

    username: str
    role: str
    cert_no: str | None = None


# ---------------------------------------------------------------- answers
class SessionToken(BaseModel):
    """A new session: the bearer token, the CSRF token for cookie callers, who it is."""

    token: str
    csrf_token: str
    username: str
    role: str


class Me(BaseModel):
    """Who is signed in."""

    username: str
    display_name: str
    role: str
    cert_no: str | None
    scope: dict[str, Any] = Field(default_factory=dict, description="region prefix, departments")


class QueueEntry(BaseModel):
    """One open finding in the review queue, with the entity it flags."""

    finding_id: int
    uscc: str
    entity_name: str | None
    region_code: str | None
    rule_id: str
    rule_version: int
    department: str
    severity: str
    result_code: str | None
    opened_at: str = Field(description="ISO 8601 time")
    opened_as_of: str = Field(description="ISO 8601 date")


class QueuePage(BaseModel):
    """One keyset page of the review queue; pass ``next`` back as ``after``."""

    items: list[QueueEntry]
    next: str | None


class TaskState(BaseModel):
    code: str
    status: str


class ResultState(BaseModel):
    task: str
    uscc: str
    state: str


class UserRow(BaseModel):
    """A console user (never the password hash)."""

    username: str
    display_name: str
    role: str
    role_zh: str
    cert_no: str | None
    department: str | None = None
    scope: dict[str, Any] = Field(default_factory=dict, description="region prefix, departments")
    scope_label: str = ""
    active: bool
    created_at: str = Field(description="Beijing time, ISO 8601")


class NewUserDone(BaseModel):
    username: str
    role: str


class DisabledUser(BaseModel):
    username: str
    active: bool


class RoleChanged(BaseModel):
    username: str
    role: str


class DirectoryCount(BaseModel):
    """A directory (一单两库) and its number of rows."""

    kind: str
    zh: str
    en: str
    total: int
