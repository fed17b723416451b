"""Who may do what in the console, written out per model and per action (the matrix's expected answers).

A model or an action registered on the console without an entry here fails the matrix: decide who may
use it and write it down.
"""

NOBODY = frozenset()
SUPERUSER = frozenset({"admin"})
ADMINS = frozenset({"ops", "admin"})
ONCALL = frozenset({"alice", "bruno"}) | ADMINS
APPROVERS = frozenset({"chloe", "bruno"}) | ADMINS
SIGNED_IN = frozenset({"victor"}) | ONCALL | APPROVERS

# model label -> (who adds, who changes, who deletes) rows on its console pages; the delete column is
# also who is offered the site-wide "delete selected" action.
EDITORS = {
    "auth.Group": (SUPERUSER, SUPERUSER, SUPERUSER),
    "auth.User": (SUPERUSER, SUPERUSER, SUPERUSER),
    "axes.AccessAttempt": (NOBODY, ADMINS, ADMINS),
    "axes.AccessFailureLog": (NOBODY, ADMINS, ADMINS),
    "axes.AccessLog": (NOBODY, ADMINS, ADMINS),
    "django_q.Failure": (NOBODY, SUPERUSER, SUPERUSER),
    "django_q.OrmQ": (NOBODY, SUPERUSER, SUPERUSER),
    "django_q.Schedule": (SUPERUSER, SUPERUSER, SUPERUSER),
    "django_q.Success": (NOBODY, SUPERUSER, SUPERUSER),
    "formation_hub.ApiToken": (SIGNED_IN, NOBODY, NOBODY),  # each person makes their own; revoked, never edited
    "formation_hub.AuditEntry": (NOBODY, NOBODY, NOBODY),
    "formation_hub.ForgeConnection": (ADMINS, ADMINS, ADMINS),
    "formation_hub.Gate": (NOBODY, NOBODY, NOBODY),
    "formation_hub.Notification": (NOBODY, NOBODY, NOBODY),
    "formation_hub.RefusedCall": (NOBODY, NOBODY, NOBODY),
    "formation_hub.WorkerHeartbeat": (NOBODY, NOBODY, NOBODY),
    "incidents.ActionItem": (NOBODY, ONCALL, NOBODY),
    "incidents.Alert": (NOBODY, NOBODY, NOBODY),
    "incidents.BackupRestore": (NOBODY, ONCALL, NOBODY),
    "incidents.BreachAssessment": (NOBODY, NOBODY, NOBODY),
    "incidents.HandoffRecap": (NOBODY, NOBODY, NOBODY),
    "incidents.Incident": (NOBODY, ONCALL, NOBODY),
    "incidents.MonitorSetting": (ONCALL, ONCALL, ADMINS),
    "incidents.Override": (ONCALL, ONCALL, ADMINS),
    "incidents.Page": (NOBODY, NOBODY, NOBODY),
    "incidents.PostMortem": (NOBODY, ONCALL, NOBODY),
    "incidents.RecurrenceEscalation": (NOBODY, ADMINS, NOBODY),
    "incidents.Rotation": (ONCALL, ONCALL, ADMINS),
    "incidents.Runbook": (ONCALL, ONCALL, ADMINS),
    "releases.BumpWebhookDelivery": (NOBODY, NOBODY, NOBODY),
    "releases.Change": (APPROVERS, APPROVERS, ADMINS),  # unreleased changes only
    "releases.CheckRun": (NOBODY, NOBODY, NOBODY),
    "releases.DependencyBump": (APPROVERS, APPROVERS, NOBODY),
    "releases.Deployment": (NOBODY, NOBODY, NOBODY),
    "releases.FreezeWindow": (APPROVERS, APPROVERS, ADMINS),
    "releases.PrerequisiteOverride": (NOBODY, NOBODY, NOBODY),
    "releases.PrerequisiteReport": (NOBODY, NOBODY, NOBODY),
    "releases.Release": (APPROVERS, APPROVERS, NOBODY),
    "releases.SmokeCheck": (APPROVERS, APPROVERS, ADMINS),
    "releases.Story": (APPROVERS, APPROVERS, NOBODY),
    "sync.BaserowConnection": (ADMINS, ADMINS, ADMINS),
    "sync.DocmostConnection": (ADMINS, ADMINS, ADMINS),
    "sync.Event": (NOBODY, NOBODY, NOBODY),
    "sync.EventItem": (NOBODY, NOBODY, NOBODY),
    "sync.LoopAlert": (NOBODY, NOBODY, NOBODY),
    "sync.PageLink": (NOBODY, NOBODY, NOBODY),
    "sync.Reconciliation": (NOBODY, NOBODY, NOBODY),
    "sync.RejectedCall": (NOBODY, NOBODY, NOBODY),
    "sync.ServiceCircuit": (NOBODY, NOBODY, NOBODY),
    "sync.TableMapping": (ADMINS, ADMINS, ADMINS),
}

# (model label, action name) -> who is offered the changelist action and may run it ("delete selected"
# follows EDITORS).
ACTIONS = {
    ("axes.AccessAttempt", "cleanup_expired_attempts"): ADMINS,
    ("django_q.Failure", "resubmit_task"): SUPERUSER,
    ("django_q.Success", "resubmit_task"): SUPERUSER,
    ("formation_hub.ApiToken", "revoke_tokens"): SIGNED_IN,  # their own tokens; the admin role revokes anyone's
    ("formation_hub.Notification", "resend_notifications"): ADMINS,
    ("incidents.ActionItem", "drop_items"): ONCALL,
    ("incidents.ActionItem", "mark_items_done"): ONCALL,
    ("incidents.ActionItem", "mark_items_in_progress"): ONCALL,
    ("incidents.Incident", "acknowledge_incidents"): ONCALL,
    ("incidents.Runbook", "mark_runbooks_reviewed"): ONCALL,
    ("releases.DependencyBump", "ask_again"): APPROVERS,
    ("releases.DependencyBump", "merge_bumps"): APPROVERS,
    ("releases.Story", "advance_stories"): APPROVERS,
    ("releases.Story", "export_stories"): SIGNED_IN,
    ("sync.Event", "replay_events"): ADMINS,
    ("sync.LoopAlert", "resolve_loop_alerts"): ADMINS,
    ("sync.ServiceCircuit", "probe_now"): ADMINS,
    ("sync.TableMapping", "reconcile_dry_run"): ADMINS,
    ("sync.TableMapping", "reconcile_for_real"): ADMINS,
}

# Actions that only read (a download, a dry run): they may do without a declared permission.
READ_ONLY_ACTIONS = {
    ("releases.Story", "export_stories"),  # a JSON download of what the list already shows
}


def action_roles(label: str, name: str) -> frozenset:
    return EDITORS[label][2] if name == "delete_selected" else ACTIONS[(label, name)]
