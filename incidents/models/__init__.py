"""The incidents app's models, one module per area; Django loads them from here."""

from incidents.models.alerts import (
    Alert,
    MonitorSetting,
)
from incidents.models.incidents import (
    GDPR_NOTIFICATION_WINDOW,
    OPEN_STATUSES,
    SEVERITY_HELP,
    SEVERITY_HELP_TEXT,
    TEXT_LIMIT,
    BreachAssessment,
    Incident,
    RecurrenceEscalation,
    Severity,
    Source,
    Status,
    StatusUpdate,
    TimelineEntry,
)
from incidents.models.oncall import (
    CalendarFeed,
    HandoffRecap,
    Override,
    Page,
    Rotation,
    RotationMember,
)
from incidents.models.postmortems import (
    ActionItem,
    BackupRestore,
    PostMortem,
    Runbook,
)

__all__ = [
    "TEXT_LIMIT",
    "Severity",
    "SEVERITY_HELP",
    "SEVERITY_HELP_TEXT",
    "Status",
    "OPEN_STATUSES",
    "Source",
    "Incident",
    "TimelineEntry",
    "StatusUpdate",
    "GDPR_NOTIFICATION_WINDOW",
    "BreachAssessment",
    "RecurrenceEscalation",
    "MonitorSetting",
    "Alert",
    "Page",
    "Rotation",
    "RotationMember",
    "Override",
    "HandoffRecap",
    "CalendarFeed",
    "Runbook",
    "PostMortem",
    "ActionItem",
    "BackupRestore",
]
