"""The release gate types (registered from ReleasesConfig.ready): who decides, and which step handles the
decision."""

from formation_hub.gates.decisions import GateType
from releases.pipeline.approvals import (
    approver_check,
    on_approval_decided,
    on_staging_decided,
    on_tag_decided,
    tag_subject,
)
from releases.pipeline.prerequisite_reports import on_override_decided, override_current_subject
from releases.pipeline.rollout import on_watch_decided
from releases.pipeline.state import (
    APPROVAL_GATE,
    DECIDE_RELEASE_GATE,
    OVERRIDE_GATE,
    STAGING_GATE,
    TAG_GATE,
    WATCH_GATE,
)

GATE_TYPES = (
    GateType(
        name=STAGING_GATE, label="staging validation", decisions=("ok", "back_to_fix"), permission=DECIDE_RELEASE_GATE,
        current_subject=lambda release: release.sha, on_decided=on_staging_decided,
        reason_required_for=("back_to_fix",),
    ),
    GateType(
        name=TAG_GATE, label="tag", decisions=("release", "abort"), permission=DECIDE_RELEASE_GATE,
        current_subject=tag_subject, on_decided=on_tag_decided, reason_required_for=("abort",),
    ),
    GateType(
        name=APPROVAL_GATE, label="production approval", decisions=("approve", "deny"), permission=DECIDE_RELEASE_GATE,
        current_subject=lambda release: release.sha, check_decider=approver_check,
        on_decided=on_approval_decided, reason_required_for=("deny",),
    ),
    GateType(
        name=WATCH_GATE, label="end of the watch period", decisions=("all_ok", "roll_back"),
        permission=DECIDE_RELEASE_GATE,
        current_subject=lambda release: release.sha, on_decided=on_watch_decided,
        reason_required_for=("roll_back",),
    ),
    GateType(
        name=OVERRIDE_GATE, label="prerequisite override", decisions=("approve", "deny"),
        permission=DECIDE_RELEASE_GATE,
        current_subject=override_current_subject, on_decided=on_override_decided,
    ),
)
