"""Demo data for `make run`: people in each role, then whatever each app registers.

Every loader is idempotent: running `manage.py demo_data` twice changes nothing the second time.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from formation_hub.access.roles import ADMIN, ONCALL, RELEASE_APPROVER, VIEWER

DEMO_PASSWORD = "demo-password"
DEMO_USERS = (
    # username, groups, superuser, e-mail
    ("admin", (ADMIN,), True, "admin@formation-hub.local"),
    ("alice", (ONCALL,), False, "alice@formation-hub.local"),
    ("bruno", (ONCALL, RELEASE_APPROVER), False, "bruno@formation-hub.local"),
    ("chloe", (RELEASE_APPROVER,), False, "chloe@formation-hub.local"),
    ("victor", (VIEWER,), False, "victor@formation-hub.local"),
)

# The secrets the demo's HTTP callers need (CI reports, monitoring alerts, Dependabot deliveries), so the
# README's curl commands work in `make run`. `manage.py devserver` gives them to its children in DEBUG only,
# and only where the environment does not set them already; production mode never gets them.
DEMO_SECRETS = {
    "RELEASE_CHECKS_TOKEN": "demo-release-checks-token",
    "ALERT_TOKENS": "demo-alert-token",
    "DEPENDABOT_WEBHOOK_SECRET": "demo-dependabot-secret",
}


def demo_secrets_missing_from(environ) -> dict[str, str]:
    """The demo secrets the environment leaves unset or empty."""
    return {name: value for name, value in DEMO_SECRETS.items() if not environ.get(name)}


_loaders: list[tuple[str, Callable[[], str]]] = []


def register_demo_loader(name: str, loader: Callable[[], str]) -> None:
    """loader() creates its demo rows if missing and returns a one-line summary."""
    _loaders.append((name, loader))


def load_demo_users() -> str:
    User = get_user_model()
    for username, groups, superuser, email in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": email, "is_staff": True, "is_superuser": superuser}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(*Group.objects.filter(name__in=groups))
    return f"{len(DEMO_USERS)} demo users (password '{DEMO_PASSWORD}')"


def load_demo_data() -> list[str]:
    return [f"{name}: {loader()}" for name, loader in [("users", load_demo_users), *_loaders]]
