"""The core's part of the ops console. Django's admin autodiscovery imports this package; importing the
modules registers their pages: `trail` (audit trail, gates and their decision page, notifications, refused
calls, worker heartbeats, the forge connection) and `people` (people, groups, API tokens, and the
third-party lists whose actions change state). `base` holds the two ModelAdmin bases the apps use."""

from formation_hub.admin import people, trail  # noqa: F401
