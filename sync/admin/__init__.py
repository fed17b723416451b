"""The sync console: importing the area modules registers their model admins."""

from sync.admin import events  # noqa: F401
