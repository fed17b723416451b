"""Pages also go to a pager webhook (a local receiver shaped as ntfy or a PagerDuty events API), and past
the backup to the admins when nobody acknowledges."""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from formation_hub.models import Notification
from formation_hub.notifications import notification_send
from incidents.models import Page
from incidents.oncall.paging import page_acknowledge
from incidents.services import incident_open
from incidents.sweeps import incidents_sweep

pytestmark = pytest.mark.django_db


def sev1():
    return incident_open(title="Docmost down", severity="SEV1", source="alert", service="docmost",
                         category="down")


def send_pager_calls():
    for notification in Notification.objects.filter(channel="pager").order_by("pk"):
        if notification.state == "pending":
            notification_send(notification_id=notification.pk)


@pytest.fixture
def pager(settings, http_receiver):
    settings.PAGER_WEBHOOK_URL = http_receiver.url
    settings.OPS_ADMIN_EMAILS = ["ops@example.org"]
    return http_receiver


def test_ntfy_gets_the_primary_page_then_the_backup_then_the_admins(rotation, pager, settings):
    settings.PAGER_FLAVOUR = "ntfy"
    sev1()
    page = Page.objects.get()
    incidents_sweep(page.paged_at + timedelta(minutes=15))
    incidents_sweep(page.paged_at + timedelta(minutes=29))
    page.refresh_from_db()
    assert page.state == Page.State.ESCALATED
    incidents_sweep(page.paged_at + timedelta(minutes=30))
    page.refresh_from_db()
    assert page.state == Page.State.ESCALATED_ADMINS
    send_pager_calls()
    titles = [parse_qs(urlsplit(request["path"]).query)["title"][0] for request in pager.requests]
    assert titles[0].startswith("[PAGE] ") and titles[1].startswith("[PAGE - ESCALATED] ")
    assert titles[2].startswith("[PAGE - NOBODY ANSWERED] ") and len(titles) == 3
    assert parse_qs(urlsplit(pager.requests[0]["path"]).query)["priority"] == ["urgent"]
    assert b"Acknowledge: http" in pager.requests[0]["body"]
    admins = Notification.objects.get(channel="email", subject__startswith="[PAGE - NOBODY ANSWERED]")
    assert admins.recipients == ["ops@example.org"]
    assert page.incident.timeline.filter(text__contains="paged the admins").count() == 1


def test_pagerduty_gets_a_trigger_then_an_acknowledge_on_the_same_alert(rotation, pager, settings, responder):
    settings.PAGER_FLAVOUR, settings.PAGER_ROUTING_KEY = "pagerduty", "R0UTINGKEY"
    sev1()
    page_acknowledge(page=Page.objects.get(), user=responder)
    send_pager_calls()
    trigger, ack = (json.loads(request["body"]) for request in pager.requests)
    assert (trigger["event_action"], ack["event_action"]) == ("trigger", "acknowledge")
    assert trigger["routing_key"] == "R0UTINGKEY" and trigger["dedup_key"] == ack["dedup_key"]
    assert trigger["payload"]["severity"] == "critical" and "Docmost down" in trigger["payload"]["summary"]
    acknowledged = Notification.objects.get(kind="incident.page.pager.ack")
    assert acknowledged.body.endswith("(Europe/Paris).") and "UTC" not in acknowledged.body


def test_a_pager_that_fails_is_retried_like_any_notification(rotation, pager):
    pager.status = 503
    sev1()
    send_pager_calls()
    call = Notification.objects.get(channel="pager")
    assert call.state == "failed" and "503" in call.last_error


def test_without_a_pager_url_the_call_is_stored_as_skipped(rotation, settings):
    settings.PAGER_WEBHOOK_URL = ""
    sev1()
    assert Notification.objects.get(channel="pager").state == "skipped"
