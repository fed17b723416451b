"""The audit trail's console list reads no more of the trail than the page shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from formation_hub.audit import audit_record

pytestmark = pytest.mark.django_db


def test_the_audit_list_never_scans_the_whole_trail_for_dates(admin_client):
    for number in range(30):
        audit_record(action=f"release.step_{number % 3}", message=f"entry {number}")
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get("/admin/formation_hub/auditentry/")
    assert response.status_code == 200
    assert "entry 29" in response.content.decode()
    date_scans = [query["sql"] for query in captured.captured_queries
                  if "DISTINCT" in query["sql"] and "time" in query["sql"]]
    assert date_scans == []
