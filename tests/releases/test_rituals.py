"""The delivery rituals on the calendar: monthly dependency review, quarterly majors, release reminder."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django_q.models import Schedule

from formation_hub.models import Notification
from formation_hub.schedules import ensure_schedules, first_of_next_month
from releases.delivery.bump_services import bump_create
from releases.rituals import (
    monthly_bump_review,
    monthly_release_reminder,
    quarterly_majors_review,
)
from tests.releases.factories import ChangeFactory, StableReleaseFactory

PARIS = ZoneInfo("Europe/Paris")


def bump(package, old, new, **fields):
    return bump_create(package=package, ecosystem="npm", from_version=old, to_version=new, **fields).bump


def test_the_rituals_are_monthly_and_quarterly_schedules(db):
    ensure_schedules()
    types = dict(Schedule.objects.filter(name__startswith="ritual:").values_list("name", "schedule_type"))
    assert types["ritual: monthly dependency review"] == Schedule.MONTHLY
    assert types["ritual: monthly release reminder"] == Schedule.MONTHLY
    assert types["ritual: quarterly majors review"] == Schedule.QUARTERLY
    first = Schedule.objects.get(name="ritual: quarterly majors review").next_run.astimezone(PARIS)
    assert (first.day, first.hour, first.month in (1, 4, 7, 10)) == (1, 8, True)


def test_first_runs_fall_on_the_first_at_eight_in_paris():
    assert first_of_next_month(at=datetime(2026, 12, 6, 12, tzinfo=UTC)) == datetime(2027, 1, 1, 8, tzinfo=PARIS)
    assert first_of_next_month(months=(1, 4, 7, 10), at=datetime(2026, 4, 1, 9, tzinfo=UTC)) == datetime(
        2026, 7, 1, 8, tzinfo=PARIS)


def test_the_monthly_review_lists_security_first_and_is_sent_once_a_month(people):
    bump("lodash", "4.17.20", "4.17.21", severity="critical", advisories=["GHSA-35jh-r3h4-6jhm"])
    bump("react", "18.2.0", "18.3.0")
    monthly_bump_review()
    monthly_bump_review()
    review = Notification.objects.get(kind="ritual.bump_review")
    assert review.body.index("lodash") < review.body.index("react") and "GHSA-35JH-R3H4-6JHM" in review.body
    assert sorted(review.recipients) == sorted(u.email for u in people.values() if u.username != "vic")


def test_the_quarterly_review_lists_the_open_majors(people):
    bump("lodash", "4.17.21", "5.0.0")
    bump("react", "18.2.0", "18.3.0")
    quarterly_majors_review()
    review = Notification.objects.get(kind="ritual.majors_review")
    assert "lodash 4.17.21 -> 5.0.0" in review.body and "react" not in review.body


def test_the_release_reminder_comes_only_when_nothing_shipped_for_a_month(db):
    ChangeFactory()
    StableReleaseFactory(released_at=timezone.now() - timedelta(days=10))
    assert "no reminder" in monthly_release_reminder()
    monthly_release_reminder(now=timezone.now() + timedelta(days=40))
    reminder = Notification.objects.get(kind="ritual.release_reminder")
    assert "1 change(s) wait under Unreleased" in reminder.body
