from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from tests.incidents.factories import RotationFactory, RotationMemberFactory


@pytest.fixture
def responder(make_user):
    return make_user("oncall-olga", "oncall", email="olga@formation-hub.test")


@pytest.fixture
def reviewer(make_user):
    """Another on-call person: a post-mortem's review is never its author's."""
    return make_user("oncall-rita", "oncall", email="rita@formation-hub.test")


@pytest.fixture
def rotation(make_user):
    """Weekly Monday 10:00 Paris handoff from Monday 5 January 2026: alice, bruno, carla in turn."""
    rotation = RotationFactory(name="primary")
    for position, name in enumerate(["alice", "bruno", "carla"]):
        RotationMemberFactory(rotation=rotation, user=make_user(name, "oncall"), position=position)
    return rotation


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories hash 'pw-for-tests' for every user; the default hasher makes that the slowest part."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Clock:
    """The current time as the services see it (django.utils.timezone.now), moved by the test."""

    def __init__(self, now):
        self.now = now

    def advance(self, **delta):
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """Starts on Friday 20 November 2026 at 14:00 Paris (13:00 UTC)."""
    clock = Clock(datetime(2026, 11, 20, 13, 0, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


@pytest.fixture
def admin_user(make_user):
    return make_user("root", "admin", is_superuser=True, email="root@formation-hub.test")
