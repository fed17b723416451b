"""The sync console: importing the area modules registers their model admins."""

from sync.admin import connections, events, health  # noqa: F401
