"""The releases models. Django loads an app's models from here, and the migrations name the validators by
this path, so this module imports them from the model modules."""

from releases.models.delivery import BumpWebhookDelivery, DependencyBump, Story, StoryEvent
from releases.models.release import (
    SHA_PATTERN,
    SHA_RULE,
    Change,
    CheckRun,
    Deployment,
    FreezeWindow,
    PrerequisiteOverride,
    PrerequisiteReport,
    Release,
    SmokeCheck,
    organisation_time_zone,
    sha_validator,
    validate_time_zone,
    validate_version,
)

__all__ = [
    "SHA_PATTERN",
    "SHA_RULE",
    "sha_validator",
    "validate_version",
    "organisation_time_zone",
    "validate_time_zone",
    "Release",
    "Change",
    "PrerequisiteReport",
    "FreezeWindow",
    "PrerequisiteOverride",
    "Deployment",
    "SmokeCheck",
    "CheckRun",
    "Story",
    "StoryEvent",
    "DependencyBump",
    "BumpWebhookDelivery",
]
