"""Services behind console buttons and on-call pages refuse a person without the permission, whatever
path calls them (issue 17): acknowledging a page, resending a notification, asking for a Friday merge."""

import pytest
from django.utils import timezone

from formation_hub.errors import NotAllowed
from formation_hub.models import Notification
from formation_hub.notifications import notification_resend, notify
from incidents.models import Page
from incidents.oncall.paging import page_acknowledge
from releases.delivery import bump_services


@pytest.fixture
def victor(make_user):
    return make_user("victor", "viewer")


def test_a_viewer_acknowledges_no_page(victor):
    page = Page.objects.create(dedupe_key="hostile-page", subject="db down", paged_at=timezone.now())
    with pytest.raises(NotAllowed):
        page_acknowledge(page=page, user=victor)
    page.refresh_from_db()
    assert page.state == Page.State.PAGED and page.acknowledged_by is None


def test_a_viewer_resends_no_notification(victor):
    notification = notify(kind="k", subject="s", body="b")
    Notification.objects.filter(pk=notification.pk).update(state=Notification.State.DEAD)
    with pytest.raises(NotAllowed):
        notification_resend(notification=notification, user=victor)
    notification.refresh_from_db()
    assert notification.state == Notification.State.DEAD


def test_an_on_call_person_asks_for_no_friday_merge(make_user):
    chloe = make_user("chloe", "release-approver")
    bump = bump_services.bump_create(package="lodash", ecosystem="npm", from_version="4.17.20",
                                     to_version="4.17.21", scope="production", user=chloe).bump
    with pytest.raises(NotAllowed):
        bump_services.bump_request_friday_override(bump=bump, user=make_user("alice", "oncall"), reason="now")
