"""Chart panels, hourly counts and counting-down clocks of the console."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission

from formation_hub.console import dashboard
from formation_hub.console.charts import Bar, grouped_bar_chart
from formation_hub.console.panels import chart_panel, countdown, hourly_counts
from formation_hub.models import AuditEntry

NOW = datetime(2026, 11, 27, 10, 40, tzinfo=UTC)  # 11:40 in Paris


@pytest.mark.parametrize(
    ("left", "text", "level", "css"),
    [
        (timedelta(hours=2, minutes=14, seconds=30), "2 h 14 min left", "ok", ""),
        (timedelta(hours=1), "1 h left", "ok", ""),
        (timedelta(minutes=59), "59 min left", "amber", "ops-amber"),
        (timedelta(minutes=30), "30 min left", "amber", "ops-amber"),
        (timedelta(minutes=29, seconds=59), "29 min left", "red", "ops-red"),
        (timedelta(seconds=30), "0 min left", "red", "ops-red"),
        (timedelta(0), "0 min overdue", "breached", "ops-red"),
        (-timedelta(minutes=5), "5 min overdue", "breached", "ops-red"),
        (-timedelta(hours=3, minutes=1), "3 h 1 min overdue", "breached", "ops-red"),
    ],
)
def test_countdown_text_and_colour(left, text, level, css):
    shown = countdown(NOW + left, now=NOW)
    assert (shown.text, shown.level, shown.css) == (text, level, css)


def test_countdown_gives_the_deadline_in_utc_for_the_script():
    shown = countdown(datetime(2026, 11, 27, 12, 0, tzinfo=UTC), now=NOW, prefix="respond by 13:00, ")
    assert shown.iso == "2026-11-27T12:00:00Z"


def test_countdown_snippet_renders_the_server_text_and_the_data_attributes():
    from django.template.loader import render_to_string

    html = render_to_string(
        "admin/panels/console_countdown.html",
        {"countdown": countdown(NOW + timedelta(minutes=20), now=NOW, prefix="update due, ")},
    )
    assert 'data-deadline="2026-11-27T11:00:00Z"' in html
    assert 'data-deadline-prefix="update due, "' in html
    assert "ops-red" in html and ">update due, 20 min left</span>" in html


def _entry_at(when, result):
    AuditEntry(time=when, actor_label="system", action="test.tick", result=result).save()


def test_hourly_counts_group_per_local_hour_and_segment_with_empty_hours(db, django_assert_num_queries):
    _entry_at(NOW - timedelta(minutes=5), "ok")  # 11:35 Paris
    _entry_at(NOW - timedelta(minutes=39), "ok")  # 11:01 Paris
    _entry_at(NOW - timedelta(minutes=41), "failed")  # 10:59 Paris
    _entry_at(NOW - timedelta(hours=23, minutes=30), "refused")  # 12:10 Paris the day before
    _entry_at(NOW - timedelta(hours=30), "ok")  # outside the 24 hours
    with django_assert_num_queries(1):
        bars = hourly_counts(AuditEntry.objects.all(), time_field="time", segment_field="result", now=NOW)
    assert len(bars) == 24
    assert bars[-1] == Bar("11:00", {"ok": 2})
    assert bars[-2] == Bar("10:00", {"failed": 1})
    assert bars[0] == Bar("12:00", {"refused": 1})
    assert all(bar.values == {} for bar in bars[1:-2])


def test_hourly_counts_across_the_autumn_dst_change_keep_24_distinct_hours(db):
    after_change = datetime(2026, 10, 25, 5, 0, tzinfo=UTC)  # 06:00 Paris, after 03:00 CEST became 02:00 CET
    bars = hourly_counts(AuditEntry.objects.all(), time_field="time", segment_field="result", now=after_change)
    labels = [bar.label for bar in bars]
    assert len(labels) == 24 and labels[-1] == "06:00"
    assert labels.count("02:00") == 2  # the repeated hour is shown twice, not merged


def test_chart_panel_renders_an_svg_its_figures_and_the_zone(admin_client, monkeypatch):
    monkeypatch.setattr(dashboard, "_panels", {})
    dashboard.register_panel(chart_panel(
        name="chart", title="Things per hour", segments=["ok", "failed"],
        bars=lambda request: [Bar("10:00", {"ok": 3, "failed": 1}), Bar("11:00", {})],
        list_url=lambda: "/admin/formation_hub/auditentry/", caption="Last 24 hours.",
    ))
    page = admin_client.get("/admin/").content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'aria-label="Things per hour"' in page
    assert "<figcaption>Last 24 hours. Times in Europe/Paris.</figcaption>" in page
    assert '<tr><th scope="row">10:00</th><td>3</td><td>1</td></tr>' in page
    assert '<a href="/admin/formation_hub/auditentry/">Things per hour</a>' in page


def test_chart_panel_is_hidden_without_the_permission_to_see_its_data(client, make_user, monkeypatch):
    monkeypatch.setattr(dashboard, "_panels", {})
    dashboard.register_panel(chart_panel(
        name="chart", title="Secret chart", segments=["a"], bars=lambda request: [],
        permission="authtoken.view_tokenproxy",
    ))
    client.force_login(make_user("vera", "viewer"))
    assert "Secret chart" not in client.get("/admin/").content.decode()
    admin = make_user("ada", "admin")
    assert Permission.objects.filter(codename="view_tokenproxy", group__name="admin").exists()
    client.force_login(admin)
    assert "Secret chart" in client.get("/admin/").content.decode()


def test_grouped_chart_draws_series_side_by_side_and_skips_missing_values():
    svg = grouped_bar_chart(
        [Bar("2026-10", {"SEV1": 12, "SEV2": 60, "SEV3": None}), Bar("2026-11", {"SEV1": 6})],
        segments=["SEV1", "SEV2", "SEV3"], title="Minutes to acknowledge", unit=" min",
    )
    bar_rect = r'<rect x="([\d.]+)" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill'
    drawn = [(float(x), float(height)) for x, height in re.findall(bar_rect, svg)]
    assert [height for _, height in drawn[:3]] == [27.2, 136.0, 27.2 / 2]
    assert drawn[0][0] < drawn[1][0]  # SEV1 left of SEV2 in the same month
    assert "<title>2026-10: SEV1 12 min, SEV2 60 min, SEV3 -</title>" in svg
