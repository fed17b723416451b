"""While a user-facing incident is open, every page shows the status banner (and /status.json says it);
resolving takes it down."""

import pytest

from incidents.services import incident_open, incident_transition
from incidents.status.updates import status_update_post

pytestmark = pytest.mark.django_db


def open_incident(user_facing: bool):
    return incident_open(title="Docmost down", severity="SEV1", source="oncall_form", service="docmost",
                         category="down", user_facing=user_facing)


def test_a_user_facing_incident_shows_the_banner_until_it_is_resolved(client, responder, admin_user):
    incident = open_incident(user_facing=True)
    status_update_post(incident=incident, user=responder, kind="in_progress",
                       subject="[SEV1] formation-hub - investigating, ETA 14:30", body="Restarting Docmost")
    client.force_login(responder)
    page = client.get("/oncall/").content.decode()
    assert 'class="status-banner"' in page and "[SEV1] formation-hub - docmost" in page
    assert "investigating, ETA 14:30" in page
    client.force_login(admin_user)
    assert 'class="status-banner"' in client.get("/admin/").content.decode()
    client.logout()
    [line] = client.get("/status.json").json()["incidents"]
    assert line["severity"] == "SEV1" and "ETA 14:30" in line["latest_update"]
    for status in ("triaged", "investigating", "mitigated", "resolved"):
        incident = incident_transition(incident=incident, to_status=status, user=responder)
    assert client.get("/status.json").json() == {"incidents": []}
    client.force_login(responder)
    assert 'class="status-banner"' not in client.get("/oncall/").content.decode()


def test_an_internal_incident_shows_no_banner(client, responder):
    open_incident(user_facing=False)
    client.force_login(responder)
    assert 'class="status-banner"' not in client.get("/oncall/").content.decode()
    assert client.get("/status.json").json() == {"incidents": []}
