"""The releases part of the console, by area: the release pipeline and delivery (stories, bumps)."""

from releases.admin import delivery, release  # noqa: F401 - each module registers its ModelAdmins
