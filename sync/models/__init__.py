"""The sync app's models: its configuration and the evidence of what it received and did."""

from sync.models.configuration import (
    BaserowConnection,
    DocmostConnection,
    LogicalTable,
    TableMapping,
    _default_silence,
    secret_variable_validator,
)
from sync.models.events import (
    Event,
    EventItem,
    HttpCall,
    LoopAlert,
    PageCreation,
    PageLink,
    PollCursor,
    Reconciliation,
    RejectedCall,
    ServiceCircuit,
    SharedLogin,
)

__all__ = [
    "BaserowConnection", "DocmostConnection", "Event", "EventItem", "HttpCall", "LogicalTable", "LoopAlert",
    "PageCreation", "PageLink", "PollCursor", "Reconciliation", "RejectedCall", "ServiceCircuit", "SharedLogin",
    "TableMapping", "_default_silence", "secret_variable_validator",
]
