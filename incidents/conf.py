"""Settings of the incidents app, read from the environment at call time (django-environ)."""

from datetime import timedelta

import environ

env = environ.Env()


def alert_tokens() -> list[str]:
    """ALERT_TOKENS: comma-separated tokens the monitoring webhooks must send (empty: alerts refused)."""
    return [token for token in env.list("ALERT_TOKENS", default=[]) if token]


def alert_max_bytes() -> int:
    """ALERT_MAX_BYTES: the largest alert body accepted (413 above); monitoring alerts are a few hundred bytes."""
    return env.int("ALERT_MAX_BYTES", default=256 * 1024)


def sev1_response() -> timedelta:
    """INCIDENT_SEV1_RESPONSE_MINUTES: SEV1 response target, wall clock (default 15)."""
    return timedelta(minutes=env.int("INCIDENT_SEV1_RESPONSE_MINUTES", default=15))


def sev2_response() -> timedelta:
    """INCIDENT_SEV2_RESPONSE_HOURS: SEV2 response target in business hours (default 4)."""
    return timedelta(hours=env.float("INCIDENT_SEV2_RESPONSE_HOURS", default=4))


def sev3_response() -> timedelta:
    """INCIDENT_SEV3_RESPONSE_HOURS: SEV3 response target in business hours (default 24)."""
    return timedelta(hours=env.float("INCIDENT_SEV3_RESPONSE_HOURS", default=24))


def page_final_escalation_delay() -> timedelta:
    """ONCALL_FINAL_ESCALATION_MINUTES: after the backup was paged, nobody acknowledging for this long pages
    the admins (default 15)."""
    return timedelta(minutes=env.int("ONCALL_FINAL_ESCALATION_MINUTES", default=15))


def page_escalation_delay() -> timedelta:
    """ONCALL_ESCALATION_MINUTES: the backup is paged when the primary has not acknowledged (default 15)."""
    return timedelta(minutes=env.int("ONCALL_ESCALATION_MINUTES", default=15))


def update_interval() -> timedelta:
    """INCIDENT_UPDATE_INTERVAL_MINUTES: an open SEV1/SEV2 gets a status update this often (default 30)."""
    return timedelta(minutes=env.int("INCIDENT_UPDATE_INTERVAL_MINUTES", default=30))


def default_alert_severity() -> str:
    """ALERT_DEFAULT_SEVERITY: severity of an incident opened by a monitor without a setting (default SEV2)."""
    return env.str("ALERT_DEFAULT_SEVERITY", default="SEV2")


def status_email_recipients() -> list[str]:
    """INCIDENT_STATUS_EMAILS: who gets user-facing / data-loss updates by email (default: OPS_ADMIN_EMAILS)."""
    return env.list("INCIDENT_STATUS_EMAILS", default=[])


def product_name() -> str:
    """INCIDENT_PRODUCT_NAME: the name in status update subjects (default formation-hub)."""
    return env.str("INCIDENT_PRODUCT_NAME", default="formation-hub")


def base_url() -> str:
    """OPS_BASE_URL: the console's public address, for links in pages and emails (default http://localhost:8000)."""
    return env.str("OPS_BASE_URL", default="http://localhost:8000").rstrip("/")


def postmortem_due() -> timedelta:
    """POSTMORTEM_DUE_DAYS: a post-mortem is due this many days after the incident is resolved (default 7)."""
    return timedelta(days=env.int("POSTMORTEM_DUE_DAYS", default=7))


def reminder_hour() -> int:
    """OVERDUE_REMINDER_HOUR: local hour of the daily reminder of an overdue action item (default 9)."""
    return min(max(env.int("OVERDUE_REMINDER_HOUR", default=9), 0), 23)


def recurrence_window() -> timedelta:
    """RECURRENCE_WINDOW_DAYS: similar incidents within this many days form a pattern (default 30)."""
    return timedelta(days=env.int("RECURRENCE_WINDOW_DAYS", default=30))


def recurrence_threshold() -> int:
    """RECURRENCE_THRESHOLD: this many similar incidents in the window raise a strategic escalation (default 3)."""
    return max(env.int("RECURRENCE_THRESHOLD", default=3), 2)
