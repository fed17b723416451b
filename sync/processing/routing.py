"""Which handler runs for an item: a registry keyed by (logical table, event type).

The rules (sync/rules/) register one handler per pair from AppConfig.ready with `@rule(table, event,
services=...)`. A handler takes the item and the table mapping, does its work, and returns a short note
for the audit trail. It raises `IgnoreItem` when the item needs nothing, `PermanentFailure` (or a client's
PermanentError; both in sync/clients/errors.py) when retrying cannot help (the item goes dead at once); a
client's RetryableError makes the item wait for the service; any other exception is a failure that will
be retried. `services` names the services the handler calls: while one of their circuits is open the
item waits without a call.
"""

from collections.abc import Callable

ROW_EVENT_TYPES = frozenset({"rows.created", "rows.updated", "rows.deleted"})
KNOWN_EVENT_TYPES = ROW_EVENT_TYPES | {
    "field.created", "field.updated", "field.deleted",
    "view.created", "view.updated", "view.deleted", "view.rows_entered",
}
DOCMOST_TABLE = "docmost"
DOCMOST_EVENT_TYPES = frozenset({"page.created", "share.created"})

Handler = Callable[..., str | None]
_handlers: dict[tuple[str, str], Handler] = {}


class IgnoreItem(Exception):  # noqa: N818 - an outcome, not an error
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# Fields only the bridge writes (logical names): a change touching only these is the bridge's own echo.
BRIDGE_OWNED = ("docmost_page_id",)


def bridge_owned_fields(mapping) -> set[str]:
    """The Baserow names of the bridge-owned fields of a mapped table."""
    return {mapping.field_name(name) for name in BRIDGE_OWNED}


def register_handler(logical_table: str, event_type: str, handler: Handler) -> None:
    _handlers[(logical_table, event_type)] = handler


def rule(logical_table: str, event_type: str, *, services: tuple[str, ...] = ("baserow", "docmost")):
    """Register the decorated function as the handler of (logical table, event type)."""

    def register(handler: Handler) -> Handler:
        handler.services = services
        register_handler(logical_table, event_type, handler)
        return handler

    return register


def unregister_handler(logical_table: str, event_type: str) -> None:
    _handlers.pop((logical_table, event_type), None)


def handler_for(logical_table: str, event_type: str) -> Handler | None:
    return _handlers.get((logical_table, event_type))


def handled_event_types(logical_table: str) -> list[str]:
    """The Baserow events a rule handles for the table: what its webhook should subscribe to (any other
    delivery is stored as ignored, a request and a row for nothing)."""
    return sorted(event for table, event in _handlers if table == logical_table and event in ROW_EVENT_TYPES)
