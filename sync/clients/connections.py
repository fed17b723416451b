"""Changing where the bridge connects (and which secret variable it sends there), audited."""

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record


def connection_save(*, connection, user, changed: list[str]) -> None:
    """Save a Baserow or Docmost connection row edited in the console, with the fields that changed."""
    opts = connection._meta
    require(user, f"{opts.app_label}.change_{opts.model_name}", doing="change a connection")
    connection.save()
    audit_record(action="sync.connection_changed", target=connection, actor=user,
                 changes={name: str(getattr(connection, name)) for name in changed})
