from datetime import timedelta

import factory
from django.utils import timezone

from releases import clock
from releases.models import Change, CheckRun, FreezeWindow, PrerequisiteReport, Release, SmokeCheck

SHA = "0123456789abcdef0123456789abcdef01234567"
NEW_SHA = "89abcdef0123456789abcdef0123456789abcdef"


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release

    version = factory.Sequence(lambda n: f"0.{n + 1}.0")
    sha = SHA


class StableReleaseFactory(ReleaseFactory):
    status = Release.Status.RELEASED
    released_on = factory.LazyFunction(timezone.localdate)
    released_at = factory.LazyFunction(timezone.now)


class ChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Change

    type = Change.Type.FIX
    text = factory.Sequence(lambda n: f"Change number {n}")


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PrerequisiteReport

    kind = PrerequisiteReport.Kind.CI
    outcome = PrerequisiteReport.Outcome.SUCCESS
    sha = SHA
    observed_at = factory.LazyFunction(lambda: clock.now() - timedelta(minutes=5))


class FreezeWindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FreezeWindow

    name = "Maintenance"


class SmokeCheckFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SmokeCheck

    name = factory.Sequence(lambda n: f"check {n}")
    expected_status = 200


def green_reports(sha=SHA):
    """CI and E2E green for sha, and a fresh verified backup."""
    ReportFactory(kind="ci", sha=sha)
    ReportFactory(kind="e2e", sha=sha)
    ReportFactory(kind="backup", sha="")


def watched_for(release, minutes: int, *, ok: bool = True):
    """Move the watch start back `minutes` and record one health check per minute since (no sleeping).

    The minutes are whole clock minutes before the current one, so a check recorded now always falls in a
    minute of its own (from hh:mm:59 the last one would otherwise share the current minute)."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=minutes)
    Release.objects.filter(pk=release.pk).update(watch_started_at=start)
    CheckRun.objects.bulk_create(
        CheckRun(release=release, phase=CheckRun.Phase.WATCH, name="home", url="http://127.0.0.1/", ok=ok,
                 status_code=200 if ok else 500, ran_at=start + timedelta(minutes=minute, seconds=1))
        for minute in range(minutes)
    )
