"""Metrics on a known data set: time to acknowledge and to resolve per severity and month, breaches,
post-mortems on time; the console page; few queries."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse

from incidents.response import metrics
from incidents.response.metrics import duration_stats, incident_metrics, last_months, percentile_nearest_rank
from tests.incidents.factories import IncidentFactory, PostMortemFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)


def minutes(*values):
    return [timedelta(minutes=value) for value in values]


def incident(detected, severity="SEV2", ack=None, resolve=None, breached=False):
    return IncidentFactory(
        severity=severity, detected_at=detected, acknowledged_at=detected + timedelta(minutes=ack) if ack else None,
        resolved_at=detected + timedelta(minutes=resolve) if resolve else None, breached=breached,
        status="resolved" if resolve else "triaged",
    )


@pytest.fixture
def known_data():
    november = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)
    for ack, resolve in [(10, 60), (20, 120), (30, 180), (40, 240), (100, 600)]:
        incident(november, "SEV2", ack, resolve)
    incident(november, "SEV2", 300, None, breached=True)
    incident(november, "SEV1", 5, 45)
    incident(november, "SEV1", 25, 90, breached=True)
    # 31 October 23:30 UTC is 1 November 00:30 in Paris: counted in November.
    incident(datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "SEV3", 60, 1440)
    incident(datetime(2026, 10, 31, 22, 30, tzinfo=UTC), "SEV3", 60, 1440)  # 23:30 Paris: October
    incident(datetime(2026, 12, 2, 9, 0, tzinfo=UTC), "SEV2")  # open, not acknowledged


def test_median_is_the_middle_and_p90_the_nearest_rank():
    stats = duration_stats(minutes(10, 20, 30, 40, 100))
    assert (stats.count, stats.median, stats.p90, stats.mean) == (5, *minutes(30, 100, 40))
    assert duration_stats(minutes(10, 20)).median == timedelta(minutes=15)
    assert percentile_nearest_rank(minutes(*range(1, 11)), 0.9) == timedelta(minutes=9)
    assert percentile_nearest_rank(minutes(*range(1, 12)), 0.9) == timedelta(minutes=10)
    assert duration_stats([]).median is None


def test_figures_per_severity_and_month_on_a_known_data_set(known_data):
    metrics = incident_metrics(months=last_months(3, NOW), now=NOW)
    assert metrics.months == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    sev2 = metrics.row(date(2026, 11, 1), "SEV2")
    assert (sev2.incidents, sev2.breaches) == (6, 1)
    assert sev2.acknowledge.count == 6
    assert sev2.acknowledge.median == timedelta(minutes=35)  # 10 20 30 40 100 300
    assert sev2.acknowledge.p90 == timedelta(minutes=300)
    assert sev2.acknowledge.mean == timedelta(minutes=500 / 6)
    assert sev2.resolve.count == 5
    assert (sev2.resolve.median, sev2.resolve.p90) == (timedelta(hours=3), timedelta(hours=10))
    sev1 = metrics.row(date(2026, 11, 1), "SEV1")
    assert (sev1.incidents, sev1.breaches, sev1.acknowledge.median) == (2, 1, timedelta(minutes=15))
    assert metrics.row(date(2026, 11, 1), "SEV3").incidents == 1
    assert metrics.row(date(2026, 10, 1), "SEV3").incidents == 1
    december = metrics.row(date(2026, 12, 1), "SEV2")
    assert (december.incidents, december.acknowledge.count, december.acknowledge.median) == (1, 0, None)
    november = metrics.totals[1]
    assert (november.incidents, november.breaches, november.acknowledge.count) == (9, 2, 9)


def test_post_mortems_on_time_late_overdue_and_pending():
    due = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    PostMortemFactory(due_at=due, state="published", published_at=due - timedelta(days=1))
    PostMortemFactory(due_at=due, state="published", published_at=due + timedelta(days=2))
    PostMortemFactory(due_at=due, state="draft")
    PostMortemFactory(due_at=NOW + timedelta(days=3), state="in_review")
    metrics = incident_metrics(months=last_months(2, NOW), now=NOW)
    november, december = metrics.post_mortems
    assert (november.due, november.on_time, november.late, november.overdue, november.pending) == (3, 1, 1, 1, 0)
    assert (december.due, december.pending) == (1, 1)


def test_metrics_take_a_fixed_number_of_queries_whatever_the_volume(known_data, django_assert_num_queries):
    # PostgreSQL computes the figures in two grouped queries (per severity, per month); SQLite reads the durations.
    with django_assert_num_queries(3 if connection.vendor == "postgresql" else 2):
        incident_metrics(months=last_months(12, NOW), now=NOW)


@pytest.mark.postgres
def test_postgresql_computes_the_figures_the_python_path_computes(known_data, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("compares PostgreSQL's ordered-set aggregates with the Python path")
    for ack in (7, 7, 13, 50, 51, 52, 53, 54, 55, 400):  # an even count, ties: median and p90 must agree
        incident(datetime(2026, 12, 3, 9, 0, tzinfo=UTC), "SEV3", ack, ack * 3)
    in_sql = incident_metrics(months=last_months(3, NOW), now=NOW)
    monkeypatch.setattr(metrics.connection, "vendor", "sqlite")
    in_python = incident_metrics(months=last_months(3, NOW), now=NOW)
    assert in_sql == in_python
    assert in_sql.row(date(2026, 12, 1), "SEV3").acknowledge.median == timedelta(minutes=51.5)
    assert in_sql.row(date(2026, 12, 1), "SEV3").acknowledge.p90 == timedelta(minutes=55)


def test_the_console_page_shows_the_table_and_the_charts(known_data, client, admin_user,
                                                          django_assert_max_num_queries):
    client.force_login(admin_user)
    url = reverse("admin:incidents_incident_metrics")
    with django_assert_max_num_queries(10):
        response = client.get(url + "?months=24")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="metrics-table"' in body and "<svg" in body and "p90" in body
    assert "Incidents per month by severity" in body
    assert client.get(url + "?months=lots").status_code == 200  # bad input: the default range
    assert reverse("admin:incidents_incident_metrics") in client.get(
        reverse("admin:incidents_incident_changelist")).content.decode()


def test_the_metrics_page_is_for_console_users_only(client, make_user):
    client.force_login(make_user("nobody", is_staff=False))
    response = client.get(reverse("admin:incidents_incident_metrics"))
    assert response.status_code == 302
