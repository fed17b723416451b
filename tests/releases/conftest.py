from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from releases import clock
from tests.releases.factories import SHA, ChangeFactory, SmokeCheckFactory, green_reports


def last_wednesday_morning() -> datetime:
    """The latest Wednesday 10:00 in Paris not after now: a time every calendar rule allows."""
    paris = timezone.now().astimezone(ZoneInfo("Europe/Paris"))
    day = paris.date() - timedelta(days=(paris.weekday() - 2) % 7)
    instant = datetime.combine(day, time(10, 0), tzinfo=ZoneInfo("Europe/Paris"))
    if instant > timezone.now():
        instant -= timedelta(days=7)
    return instant


@pytest.fixture(autouse=True)
def wednesday(monkeypatch):
    """Prerequisites are evaluated on a Wednesday morning, whatever day the tests run."""
    instant = last_wednesday_morning()
    monkeypatch.setattr(clock, "now", lambda: instant)
    return instant


@pytest.fixture
def people(make_user):
    return {
        "author": make_user("ana", "release-approver"),
        "approver": make_user("ben", "release-approver"),
        "coder": make_user("carl", "release-approver"),
        "viewer": make_user("vic", "viewer"),
    }


@pytest.fixture
def green(db):
    green_reports(SHA)


@pytest.fixture
def smoke_ok(http_receiver):
    SmokeCheckFactory(name="home", url=http_receiver.url, expected_text="ok")
    return http_receiver


@pytest.fixture
def some_changes(people):
    return [
        ChangeFactory(type="feature", text="Release console", author=people["coder"]),
        ChangeFactory(type="fix", text="Login works again"),
    ]


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
