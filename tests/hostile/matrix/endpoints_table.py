# ruff: noqa: E501 - one row per URL reads as a matrix
"""Every URL the project serves, as each demo role: the answer to a GET and to a POST of a broken JSON
body (which a form sees as an empty form), and who may change state through it.

Columns: anonymous victor alice chloe bruno ops admin (tests.hostile.matrix.conftest.ROLES).
"a|b" accepts either: /healthz answers 503 while the demo's Baserow and Docmost stand-ins are not running.
A URL added to the project without a row here fails the matrix.
"""

from tests.hostile.matrix.roles_table import ADMINS, APPROVERS, NOBODY, ONCALL, SIGNED_IN

# A page that only reads: it may answer a POST as a GET, as long as nothing changes.
READ_ONLY = None
# The demo's pending post-mortem review, requested by alice: the other holders of "respond to incidents"
# decide it (never its requester).
DECIDERS = frozenset({"bruno", "ops", "admin"})

# name: (GET answers, POST answers, who may change state through it: anyone else is refused)
ENDPOINTS = {
    "admin:formation_hub_gate_decide": ("302 200 200 200 200 200 200", "302 200 200 200 200 200 200", DECIDERS),
    "admin:incidents_incident_metrics": ("302 200 200 200 200 200 200", "302 200 200 200 200 200 200", READ_ONLY),
    "admin:incidents_postmortem_markdown": ("302 200 200 200 200 200 200", "302 200 200 200 200 200 200", READ_ONLY),
    "admin:releases_dependencybump_again": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_dependencybump_close": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_dependencybump_friday": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_dependencybump_merge": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_dependencybump_note": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_dependencybump_review_queue": ("302 200 200 200 200 200 200", "302 200 200 200 200 200 200", READ_ONLY),
    "admin:releases_dependencybump_severity": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_release_abort": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_release_changelog": ("302 200 200 200 200 200 200", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_release_changelog_download": ("302 200 200 200 200 200 200", "302 200 200 200 200 200 200", READ_ONLY),
    "admin:releases_release_check": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_release_deploy": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_release_fetch": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_release_override": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_release_rollback": ("302 302 302 302 302 302 302", "302 403 302 302 302 302 302", ONCALL | APPROVERS),
    "admin:releases_release_sha": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_release_smoke": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_story_advance": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:releases_story_board": ("302 200 200 200 200 200 200", "302 200 200 200 200 200 200", READ_ONLY),
    "admin:releases_story_build_state": ("302 200 200 200 200 200 200", "302 200 200 200 200 200 200", READ_ONLY),
    "admin:releases_story_export": ("302 200 200 200 200 200 200", "302 200 200 200 200 200 200", READ_ONLY),
    "admin:releases_story_import": ("302 403 403 200 200 200 200", "302 403 403 200 200 200 200", APPROVERS),
    "admin:releases_story_return": ("302 302 302 302 302 302 302", "302 403 403 302 302 302 302", APPROVERS),
    "admin:sync_event_replay": ("302 405 405 405 405 405 405", "302 403 403 403 403 302 302", ADMINS),
    "admin:sync_event_trace": ("302 200 200 200 200 200 200", "302 200 200 200 200 200 200", READ_ONLY),
    "api-gate-decide": ("403 405 405 405 405 405 405", "403 400 400 400 400 400 400", DECIDERS),
    "api-gates": ("403 200 200 200 200 200 200", "403 405 405 405 405 405 405", READ_ONLY),
    "api-schema": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405", READ_ONLY),
    "favicon": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405", READ_ONLY),
    "healthz": ("200|503 200|503 200|503 200|503 200|503 200|503 200|503", "405 405 405 405 405 405 405", READ_ONLY),
    "home": ("302 302 302 302 302 302 302", "405 405 405 405 405 405 405", READ_ONLY),
    "incidents:ack": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:action_item_add": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:action_item_reschedule": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:action_item_status": ("405 405 405 405 405 405 405", "302 302 302 302 302 302 302", ONCALL),
    "incidents:alert_generic": ("405 405 405 405 405 405 405", "403 403 403 403 403 403 403", NOBODY),
    "incidents:alert_uptimerobot": ("405 405 405 405 405 405 405", "403 403 403 403 403 403 403", NOBODY),
    "incidents:api_ack": ("403 405 405 405 405 405 405", "403 403 200 403 200 200 200", ONCALL),
    "incidents:api_detail": ("403 200 200 200 200 200 200", "403 405 405 405 405 405 405", READ_ONLY),
    "incidents:api_list": ("403 200 200 200 200 200 200", "403 403 400 403 400 400 400", ONCALL),
    "incidents:calendar": ("302 200 200 200 200 200 200", "302 405 405 405 405 405 405", READ_ONLY),
    "incidents:calendar_feed": ("404 404 404 404 404 404 404", "405 405 405 405 405 405 405", READ_ONLY),
    "incidents:calendar_reset": ("302 405 405 405 405 405 405", "302 302 302 302 302 302 302", SIGNED_IN),  # each resets their own link
    "incidents:detail": ("302 200 200 200 200 200 200", "302 405 405 405 405 405 405", READ_ONLY),
    "incidents:flags": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:gdpr": ("405 405 405 405 405 405 405", "302 403 404 403 404 404 404", ONCALL),
    "incidents:home": ("302 200 200 200 200 200 200", "302 405 405 405 405 405 405", READ_ONLY),
    "incidents:move": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:new": ("302 403 200 403 200 200 200", "302 403 200 403 200 200 200", ONCALL),
    "incidents:note": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:page": ("302 200 200 200 200 200 200", "302 403 302 403 302 302 302", ONCALL),
    "incidents:postmortem": ("302 200 200 200 200 200 200", "302 302 302 302 302 302 302", ONCALL),
    "incidents:postmortem_markdown": ("302 200 200 200 200 200 200", "302 405 405 405 405 405 405", READ_ONLY),
    "incidents:postmortem_publish": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:postmortem_return": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:postmortem_start": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:postmortem_submit": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:postmortems": ("302 200 200 200 200 200 200", "302 405 405 405 405 405 405", READ_ONLY),
    "incidents:report": ("302 200 200 200 200 200 200", "302 200 200 200 200 200 200", SIGNED_IN),
    "incidents:restore": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:runbook": ("302 200 200 200 200 200 200", "302 405 405 405 405 405 405", READ_ONLY),
    "incidents:runbook_set": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:runbooks": ("302 200 200 200 200 200 200", "302 405 405 405 405 405 405", READ_ONLY),
    "incidents:severity": ("405 405 405 405 405 405 405", "302 403 302 403 302 302 302", ONCALL),
    "incidents:status_json": ("200 200 200 200 200 200 200", "405 405 405 405 405 405 405", READ_ONLY),
    "incidents:status_update": ("302 403 200 403 200 200 200", "302 403 200 403 200 200 200", ONCALL),
    "login": ("200 200 200 200 200 200 200", "200 200 200 200 200 200 200", READ_ONLY),
    "logout": ("405 405 405 405 405 405 405", "302 302 302 302 302 302 302", READ_ONLY),
    "releases:api-bump-ci": ("405 405 405 405 405 405 405", "403 403 403 403 403 403 403", NOBODY),
    "releases:api-bumps": ("403 403 403 405 405 405 405", "403 403 403 400 400 400 400", APPROVERS),
    "releases:api-checks": ("405 405 405 405 405 405 405", "403 403 403 403 403 403 403", NOBODY),
    "releases:api-dependabot-webhook": ("405 405 405 405 405 405 405", "401 401 401 401 401 401 401", NOBODY),
    "releases:api-story-ci": ("405 405 405 405 405 405 405", "403 403 403 403 403 403 403", NOBODY),
    "sync:baserow-webhook": ("405 405 405 405 405 405 405", "401 401 401 401 401 401 401", NOBODY),
}
