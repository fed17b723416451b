"""Settings of the sync app, read from the environment (django-environ) at call time.

Secrets never live in the database: a connection row names the environment variable that holds
its token or password. In DEBUG only, the demo values of the local stand-ins fill in for unset
variables so `make run` works from a fresh clone.
"""

import os
import re

import environ
from django.conf import settings

env = environ.Env()

DEMO_WEBHOOK_SECRET = "demo-webhook-secret-0123456789abcdef0123456789abcdef"
DEMO_SECRETS = {
    "BASEROW_DATABASE_TOKEN": "demo-baserow-token",
    "BASEROW_ADMIN_PASSWORD": "demo-baserow-admin",
    "DOCMOST_BOT_PASSWORD": "demo-docmost-password",
}


def webhook_secrets() -> list[str]:
    """Every secret currently accepted in the webhook header (several during a rotation)."""
    # Read as is: django-environ would take a value starting with '$' for a reference to another variable.
    raw = os.environ.get("BASEROW_WEBHOOK_SECRETS", "")
    secrets = [secret.strip() for secret in raw.split(",") if secret.strip()]
    if not secrets and settings.DEBUG:
        return [DEMO_WEBHOOK_SECRET]
    return secrets


def webhook_secret_header() -> str:
    return env.str("SYNC_WEBHOOK_SECRET_HEADER", default="X-Formation-Hub-Secret")


def webhook_max_bytes() -> int:
    return env.int("SYNC_WEBHOOK_MAX_BYTES", default=2 * 1024 * 1024)


def webhook_max_rows() -> int:
    """Rows accepted in one delivery: Baserow sends at most 200 a call (a batch, or a page of a paginated event)."""
    return env.int("SYNC_WEBHOOK_MAX_ROWS", default=1000)


def config_cache_seconds() -> float:
    """How long a process keeps the table mappings and connection rows before reading them again
    (a save empties the cache of the process that saved at once)."""
    return env.float("SYNC_CONFIG_CACHE_SECONDS", default=10.0)


def template_cache_seconds() -> float:
    """How long a process reuses a template page's body before reading the page again."""
    return env.float("SYNC_TEMPLATE_CACHE_SECONDS", default=60.0)


# The environment variables a connection field may name: a console edit must not make the app send
# another secret of the process (the Dependabot secret, the Django key) to a URL it also chose.
SECRET_VARIABLE_PATTERNS = {
    "baserow_token": r"BASEROW_[A-Z0-9_]*TOKEN",
    "baserow_password": r"BASEROW_[A-Z0-9_]*PASSWORD",
    "docmost_api_key": r"DOCMOST_[A-Z0-9_]*API_KEY",
    "docmost_password": r"DOCMOST_[A-Z0-9_]*PASSWORD",
}


def secret_from_env(variable: str, *, kind: str) -> str:
    """The value of the environment variable a connection row names ('' when unset or not allowed)."""
    if not variable or not re.fullmatch(SECRET_VARIABLE_PATTERNS[kind], variable):
        return ""
    value = env.str(variable, default="")
    if not value and settings.DEBUG:
        return DEMO_SECRETS.get(variable, "")
    return value


def stuck_after_seconds() -> int:
    """An event queued or claimed longer than this is enqueued again by the sweeper."""
    return env.int("SYNC_STUCK_AFTER_SECONDS", default=300)


def webhook_db_retry_seconds() -> float:
    """How long the webhook endpoint keeps retrying to store a delivery while the database is unreachable
    (Baserow gives up on a call after 5 s) before it answers 503."""
    return env.float("SYNC_WEBHOOK_DB_RETRY_SECONDS", default=3.0)


def sweep_minutes() -> int:
    return env.int("SYNC_SWEEP_MINUTES", default=1)


def table_silence_hours() -> int:
    """Default for a mapped table: flag it when no delivery arrived for this long."""
    return env.int("SYNC_TABLE_SILENCE_HOURS", default=24)


def health_timeout_seconds() -> float:
    return env.float("SYNC_HEALTH_TIMEOUT_SECONDS", default=3.0)


def http_timeout_seconds() -> float:
    return env.float("SYNC_HTTP_TIMEOUT_SECONDS", default=10.0)


def standin_baserow_port() -> int:
    return env.int("SYNC_STANDIN_BASEROW_PORT", default=8010)


def standin_docmost_port() -> int:
    return env.int("SYNC_STANDIN_DOCMOST_PORT", default=8020)


def dev_app_url() -> str:
    """Where the local Baserow stand-in sends its webhooks in `make run`."""
    return env.str("SYNC_DEV_APP_URL", default="http://127.0.0.1:8000").rstrip("/")


def item_max_age_hours() -> float:
    """An item still not done this long after it arrived goes dead (only a permanent error does sooner)."""
    return env.float("SYNC_ITEM_MAX_AGE_HOURS", default=24.0)


def quick_retries() -> int:
    """Retries inside one client call on 5xx, timeouts and 429, before the item waits."""
    return env.int("SYNC_QUICK_RETRIES", default=3)


def retry_base_seconds() -> float:
    """First backoff step of those quick retries (doubling, capped at 4 s, with jitter)."""
    return env.float("SYNC_RETRY_BASE_SECONDS", default=0.25)


def circuit_probe_seconds() -> int:
    """While a service is down, how often a probe checks whether it is back."""
    return env.int("SYNC_CIRCUIT_PROBE_SECONDS", default=30)


def row_missing_retries() -> int:
    """A row not found right after its webhook is read again this many times..."""
    return env.int("SYNC_ROW_MISSING_RETRIES", default=2)


def row_missing_delay_seconds() -> float:
    """... this far apart, then the item ends 'skipped: row missing'."""
    return env.float("SYNC_ROW_MISSING_DELAY_SECONDS", default=0.2)


def coalesce_window_seconds() -> int:
    """Updates of one row received within this window are synced once, with the row's latest state."""
    return env.int("SYNC_COALESCE_SECONDS", default=300)


def loop_alert_threshold() -> int:
    """More events than this on one row within a minute raise a loop alert."""
    return env.int("SYNC_LOOP_ALERT_EVENTS", default=10)


def docmost_poll_minutes() -> int:
    return env.int("SYNC_DOCMOST_POLL_MINUTES", default=1)


def docmost_poll_max_items() -> int:
    """Most pages or shares read in one poll (the next poll goes on from the cursor)."""
    return env.int("SYNC_DOCMOST_POLL_MAX_ITEMS", default=500)


def watchdog_minutes() -> int:
    return env.int("SYNC_WATCHDOG_MINUTES", default=5)


def webhook_url_marker() -> str:
    """The watchdog re-enables only Baserow webhooks whose URL contains this (ours)."""
    return env.str("SYNC_WEBHOOK_URL_MARKER", default="/api/webhooks/baserow/")
