"""A row that failed for good (a 4xx from Docmost) is e-mailed to admins once, with the replay link."""

import pytest

from formation_hub.models import Notification
from sync.models import EventItem
from sync.tasks import alert_dead_items

pytestmark = pytest.mark.django_db(transaction=True)


def test_dead_rows_are_alerted_to_admins_once_per_event(bridge, settings):
    settings.OPS_ADMIN_EMAILS = ["ops@example.org"]
    bridge.docmost.fault(status=400, path_prefix="/api/pages/create")
    bridge.create_row(601, {"nom": "Refusé", "client": [1]})
    bridge.sync()
    item = EventItem.objects.get(event__table_id=601, state="dead")
    assert alert_dead_items() == 1
    assert alert_dead_items() == 1  # the next run finds it again but sends nothing new
    alert = Notification.objects.get(kind="sync.dead")
    assert alert.recipients == ["ops@example.org"]
    assert "400" in alert.body and f"/admin/sync/event/{item.event_id}/change/" in alert.body
