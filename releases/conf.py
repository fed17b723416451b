"""Settings of the releases app, read from the environment at call time (so tests can change them)."""

import os
from datetime import time, timedelta
from decimal import Decimal

import environ
from django.conf import settings

env = environ.Env()


def checks_token() -> str:
    """The token CI sends to POST /api/releases/{id}/checks/ (empty: the endpoint refuses everything)."""
    return env.str("RELEASE_CHECKS_TOKEN", default="")


def deploy_hook_url() -> str:
    return env.str("RELEASE_DEPLOY_HOOK_URL", default="")


def deploy_hook_token() -> str:
    return env.str("RELEASE_DEPLOY_HOOK_TOKEN", default="")


def friday_cutoff() -> time:
    return time.fromisoformat(env.str("RELEASE_FRIDAY_CUTOFF", default="16:00"))


def deploy_duration() -> timedelta:
    return timedelta(minutes=env.int("RELEASE_DEPLOY_MINUTES", default=15))


def watch_duration() -> timedelta:
    # The playbook's watch is 30 minutes; a shorter setting is raised to it.
    return timedelta(minutes=max(30, env.int("RELEASE_WATCH_MINUTES", default=30)))


def approval_validity() -> timedelta:
    return timedelta(hours=env.float("RELEASE_APPROVAL_HOURS", default=4.0))


def backup_max_age() -> timedelta:
    return timedelta(hours=env.float("RELEASE_BACKUP_MAX_AGE_HOURS", default=24.0))


def organisation_time_zone() -> str:
    return settings.ORGANISATION_TIME_ZONE


def http_timeout() -> tuple[float, float]:
    return (3.05, env.float("RELEASE_HTTP_TIMEOUT", default=10.0))


def commit_status_url() -> str:
    """A Forgejo/Gitea or GitHub combined-status URL with {sha}, e.g.
    https://forgejo.example/api/v1/repos/org/app/commits/{sha}/statuses (empty: CI reports through the API)."""
    return env.str("RELEASE_COMMIT_STATUS_URL", default="")


def commit_status_token() -> str:
    return env.str("RELEASE_COMMIT_STATUS_TOKEN", default="")


def ci_context() -> str:
    return env.str("RELEASE_CI_CONTEXT", default="ci")


def e2e_context() -> str:
    return env.str("RELEASE_E2E_CONTEXT", default="e2e")


def base_url() -> str:
    """OPS_BASE_URL: the console's public address, for links in emails (shared with the incidents app)."""
    return env.str("OPS_BASE_URL", default="http://localhost:8000").rstrip("/")


def story_coverage_target() -> Decimal:
    """The playbook's coverage target (80 %): more than 10 points under it leaves an alert in the story's history."""
    return Decimal(env.str("STORY_COVERAGE_TARGET", default="80"))


def dependabot_webhook_secrets() -> list[str]:
    """The secrets of the pull-request webhook (GitHub / Forgejo HMAC-SHA256), comma-separated while one is
    rotated; empty: every call is refused."""
    # Read as is: django-environ would take a value starting with '$' for a reference to another variable.
    raw = os.environ.get("DEPENDABOT_WEBHOOK_SECRET", "")
    return [secret.strip() for secret in raw.split(",") if secret.strip()]


def bump_open_limit() -> int:
    """Open bumps per ecosystem (the playbook's Dependabot limit); further ones wait in a queue."""
    return max(1, env.int("BUMP_OPEN_LIMIT", default=10))


def bump_friday_cutoff() -> time:
    """From when on Friday no production bump merges (until Monday 00:00); 00:00 is the playbook's whole Friday."""
    return time.fromisoformat(env.str("BUMP_FRIDAY_CUTOFF", default="00:00"))


def bump_webhook_max_bytes() -> int:
    return env.int("BUMP_WEBHOOK_MAX_BYTES", default=1_000_000)


def upstream_watch() -> dict[str, str]:
    """UPSTREAM_WATCH: image=releases-API-URL pairs, comma-separated. The URL answers the latest release as
    GitHub does (`{"tag_name": ...}`) or a list of releases, newest first, as GitLab does."""
    default = ("docmost/docmost=https://api.github.com/repos/docmost/docmost/releases/latest,"
               "baserow/baserow=https://gitlab.com/api/v4/projects/baserow%2Fbaserow/releases")
    pairs = [item.strip() for item in env.str("UPSTREAM_WATCH", default=default).split(",") if "=" in item]
    return dict(pair.split("=", 1) for pair in pairs)


def upstream_running_versions() -> dict[str, str]:
    """UPSTREAM_RUNNING_VERSIONS: image=version pairs of what runs now, used until a bump of the image merged."""
    default = "docmost/docmost=0.95.0,baserow/baserow=1.35.3"
    pairs = [item.strip() for item in env.str("UPSTREAM_RUNNING_VERSIONS", default=default).split(",")
             if "=" in item]
    return dict(pair.split("=", 1) for pair in pairs)


def story_branch_max_days() -> int:
    """STORY_BRANCH_MAX_DAYS: a story's branch older than this, not merged, is flagged (the playbook: 1-3 days)."""
    return env.int("STORY_BRANCH_MAX_DAYS", default=3)


def smoke_check_hosts() -> list[str]:
    """SMOKE_CHECK_HOSTS: the production host names smoke checks may call (comma-separated). Default: the
    local console in the embedded mode (DJANGO_DEBUG), none in production (every check is refused)."""
    debug = env.bool("DJANGO_DEBUG", default=True)
    default = "127.0.0.1,localhost" if debug else ""
    return [host.strip().lower() for host in env.str("SMOKE_CHECK_HOSTS", default=default).split(",") if host.strip()]


def smoke_check_allow_private() -> bool:
    """SMOKE_CHECK_ALLOW_PRIVATE: whether a smoke check may reach loopback and private addresses (default
    only in the embedded mode, whose console is on 127.0.0.1)."""
    return env.bool("SMOKE_CHECK_ALLOW_PRIVATE", default=env.bool("DJANGO_DEBUG", default=True))
