"""Settings of the sync app, read from the environment (django-environ) at call time.

Secrets never live in the database: a connection row names the environment variable that holds
its token or password. In DEBUG only, the demo values of the local stand-ins fill in for unset
variables so `make run` works from a fresh clone.
"""

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
    secrets = [secret.strip() for secret in env.list("BASEROW_WEBHOOK_SECRETS", default=[]) if secret.strip()]
    if not secrets and settings.DEBUG:
        return [DEMO_WEBHOOK_SECRET]
    return secrets


def webhook_secret_header() -> str:
    return env.str("SYNC_WEBHOOK_SECRET_HEADER", default="X-Formation-Hub-Secret")


def webhook_max_bytes() -> int:
    return env.int("SYNC_WEBHOOK_MAX_BYTES", default=2 * 1024 * 1024)


def secret_from_env(variable: str) -> str:
    """The value of the environment variable a connection row names ('' when unset)."""
    if not variable:
        return ""
    value = env.str(variable, default="")
    if not value and settings.DEBUG:
        return DEMO_SECRETS.get(variable, "")
    return value


def stuck_after_seconds() -> int:
    """An event queued or claimed longer than this is enqueued again by the sweeper."""
    return env.int("SYNC_STUCK_AFTER_SECONDS", default=300)


def sweep_minutes() -> int:
    return env.int("SYNC_SWEEP_MINUTES", default=1)


def item_max_attempts() -> int:
    return env.int("SYNC_ITEM_MAX_ATTEMPTS", default=5)


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
