"""The domain model (SQLModel families: XBase / XCreate / X(table=True) / XPublic).

Importing this package registers every table on ``SQLModel.metadata``.
"""

from supervision.models.credit import (
    ClassSource,
    CreditProposal,
    ProposalStatus,
    Register,
    RegisterEntry,
    RiskClassChange,
)
from supervision.models.directories import (
    Conflict,
    ConflictCreate,
    Department,
    DepartmentCreate,
    Entity,
    EntityCreate,
    EntityPublic,
    Inspector,
    InspectorCreate,
    InspectorPublic,
)
from supervision.models.findings import (
    CheckRun,
    EntityCheckState,
    EntityFacts,
    EntityMark,
    Finding,
    FindingStatus,
)
from supervision.models.items import InspectionItem, InspectionItemCreate
from supervision.models.plans import PlanTarget
from supervision.models.records import PAYLOAD_MODELS, ComplianceRecord, ComplianceRecordCreate
from supervision.models.results import EvidenceFile, InspectionResult, ResultReply
from supervision.models.scheduling import Alert, JobRun, SchedulerLease, TaskSchedule
from supervision.models.tasks import (
    Assignment,
    DrawPick,
    Plan,
    Task,
    TaskEligibility,
    TaskEligibleInspector,
    TaskPopulation,
    TaskStatus,
    TaskStratum,
)
from supervision.models.trail import TrailCheckpoint, TrailEvent
from supervision.models.users import (
    ConsoleSession,
    ConsoleUser,
    LoginFailure,
    Role,
    SignInRefusal,
)

__all__ = [
    "PAYLOAD_MODELS",
    "Alert",
    "Assignment",
    "CheckRun",
    "ClassSource",
    "ComplianceRecord",
    "ComplianceRecordCreate",
    "Conflict",
    "ConflictCreate",
    "ConsoleSession",
    "ConsoleUser",
    "CreditProposal",
    "Department",
    "DepartmentCreate",
    "DrawPick",
    "Entity",
    "EntityCheckState",
    "EntityCreate",
    "EntityFacts",
    "EntityMark",
    "EntityPublic",
    "EvidenceFile",
    "Finding",
    "FindingStatus",
    "InspectionItem",
    "InspectionItemCreate",
    "InspectionResult",
    "Inspector",
    "InspectorCreate",
    "InspectorPublic",
    "JobRun",
    "LoginFailure",
    "Plan",
    "PlanTarget",
    "ProposalStatus",
    "Register",
    "RegisterEntry",
    "ResultReply",
    "RiskClassChange",
    "Role",
    "SchedulerLease",
    "SignInRefusal",
    "Task",
    "TaskEligibility",
    "TaskEligibleInspector",
    "TaskPopulation",
    "TaskSchedule",
    "TaskStatus",
    "TaskStratum",
    "TrailCheckpoint",
    "TrailEvent",
]
