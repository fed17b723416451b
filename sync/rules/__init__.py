"""The rules of SPEC section 1, one handler per (logical table, event type), registered on import
(AppConfig.ready imports this package)."""

from sync.rules import capacity, docmost_changes, formation, projet

__all__ = ["capacity", "docmost_changes", "formation", "projet"]
