"""One time format in the console, the organisation's zone with its name (issue 16, point 17): the timeline
captions beside their rows, Django's own list and read-only dates, the names of on-call rows."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from formation_hub.audit import audit_record
from formation_hub.models import AuditEntry, WorkerHeartbeat
from incidents.models import TimelineEntry
from sync.models import Reconciliation
from tests.incidents.factories import IncidentFactory, OverrideFactory

pytestmark = pytest.mark.django_db

# 00:32 UTC is 01:32 in Paris (winter): a page that shows "00:32" shows UTC.
NIGHT = datetime(2026, 12, 6, 0, 32, tzinfo=UTC)
DJANGO_DEFAULT = re.compile(r"\b(a\.m\.|p\.m\.|midnight|noon)|Dec\. \d")


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("root", "admin", is_superuser=True))
    return client


def test_the_timeline_captions_show_the_local_time_of_their_rows(admin_client):
    incident = IncidentFactory(title="Wiki down", detected_at=NIGHT, respond_by=NIGHT)
    TimelineEntry.objects.create(incident=incident, time=NIGHT, kind="note", text="Restarted the wiki")
    body = admin_client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert "Sun 06 Dec 2026 01:32 (Europe/Paris) note: Restarted the wiki" in body
    assert "00:32" not in body
    assert not DJANGO_DEFAULT.search(body)


def test_django_lists_and_read_only_dates_use_the_organisation_format(admin_client):
    incident = IncidentFactory(title="Wiki down", detected_at=NIGHT, respond_by=NIGHT)
    audit_record(action="incident.noted", target=incident, actor_label="test")
    audit_list = admin_client.get(reverse("admin:formation_hub_auditentry_changelist")).content.decode()
    assert "(Europe/Paris)" in audit_list and not DJANGO_DEFAULT.search(audit_list)
    change = admin_client.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    assert "Sun 06 Dec 2026 01:32 (Europe/Paris)" in change


def test_an_override_is_named_in_the_organisation_zone(admin_client):
    override = OverrideFactory(starts_at=NIGHT, ends_at=NIGHT.replace(hour=8))
    assert str(override).endswith("Sun 06 Dec 2026 01:32 to Sun 06 Dec 2026 09:32 (Europe/Paris)")
    body = admin_client.get(reverse("admin:incidents_override_change", args=[override.pk])).content.decode()
    assert "Sun 06 Dec 2026 01:32 to Sun 06 Dec 2026 09:32 (Europe/Paris)" in body
    assert "UTC" not in body


def test_audit_entries_heartbeats_and_reconciliations_are_named_in_the_organisation_zone(db):
    entry = AuditEntry.objects.create(time=NIGHT, actor_label="test", action="thing.done", object_repr="thing")
    assert str(entry) == "Sun 06 Dec 2026 01:32:00 (Europe/Paris) test thing.done thing"
    beat = WorkerHeartbeat.objects.create(name="worker", beat_at=NIGHT)
    assert str(beat) == "worker at Sun 06 Dec 2026 01:32:00 (Europe/Paris)"
    run = Reconciliation.objects.create(started_at=NIGHT, dry_run=True, trigger="console", actor_label="ada")
    assert "of Sun 06 Dec 2026 01:32 (Europe/Paris): 0 row(s)" in str(run)
