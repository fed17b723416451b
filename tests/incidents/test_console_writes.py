"""What the console changes goes through the services: each edit is audited with who made it, and a
person without the model permission is refused by the service itself, not only by the console."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from formation_hub.audit import audit_entries_for
from formation_hub.errors import NotAllowed
from incidents.models import HandoffRecap, Override, Rotation, Runbook
from incidents.oncall.schedule_edits import override_save, rotation_save, schedule_records_delete
from incidents.postmortems.runbooks import runbook_save
from incidents.services import incident_edit
from tests.incidents.factories import IncidentFactory, OverrideFactory, RunbookFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(make_user):
    return make_user("root", "admin", is_superuser=True)


@pytest.fixture
def viewer(make_user):
    return make_user("vic", "viewer")


def _actors(record, action):
    return [entry.actor.username for entry in audit_entries_for(record) if entry.action == action]


def test_a_viewer_may_not_edit_an_incident(viewer):
    incident = IncidentFactory(title="Docmost down")
    with pytest.raises(NotAllowed):
        incident_edit(incident=incident, user=viewer, changes={"title": "Renamed"})
    incident.refresh_from_db()
    assert incident.title == "Docmost down" and not _actors(incident, "incident.edited")


def test_a_rotation_saved_in_the_console_is_audited_and_its_unsent_recaps_dropped(client, root, rotation):
    HandoffRecap.objects.create(rotation=rotation, handoff_at=timezone.now() + timedelta(days=2),
                                incoming=rotation.members.first().user)
    client.force_login(root)
    members = list(rotation.members.order_by("position"))
    data = {
        "name": "primary", "active": "on", "priority": "0", "time_zone": "Europe/Paris", "handoff_weekday": "0",
        "handoff_time": "10:00", "start_date": "2026-01-05",
        "members-TOTAL_FORMS": str(len(members)), "members-INITIAL_FORMS": str(len(members)),
        "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
    }
    for index, member in enumerate(members):
        data |= {f"members-{index}-id": member.pk, f"members-{index}-rotation": rotation.pk,
                 f"members-{index}-user": member.user.pk, f"members-{index}-position": member.position}
    response = client.post(reverse("admin:incidents_rotation_change", args=[rotation.pk]), data)
    assert response.status_code == 302
    assert _actors(rotation, "oncall.rotation_saved") == ["root"]
    assert not HandoffRecap.objects.filter(rotation=rotation, sent_at__isnull=True).exists()


def test_a_viewer_may_not_change_a_rotation(viewer, rotation):
    rotation.name = "mine now"
    with pytest.raises(NotAllowed):
        rotation_save(rotation=rotation, user=viewer)
    assert Rotation.objects.get(pk=rotation.pk).name == "primary"


def test_an_override_saved_in_the_console_is_audited(client, root, rotation):
    client.force_login(root)
    now, bruno = timezone.now(), rotation.members.get(position=1).user
    response = client.post(reverse("admin:incidents_override_add"), {
        "rotation": rotation.pk, "role": "backup", "user": bruno.pk,
        "starts_at_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"), "starts_at_1": "00:00:00",
        "ends_at_0": (now + timedelta(days=1)).strftime("%Y-%m-%d"), "ends_at_1": "23:00:00", "reason": "swap",
    })
    assert response.status_code == 302
    assert _actors(Override.objects.get(), "oncall.override_saved") == ["root"]


def test_a_viewer_may_not_add_an_override(viewer, rotation):
    override = Override(rotation=rotation, user=viewer, role=Override.Role.PRIMARY, reason="me",
                        starts_at=timezone.now(), ends_at=timezone.now() + timedelta(hours=2))
    with pytest.raises(NotAllowed):
        override_save(override=override, user=viewer)
    assert not Override.objects.exists()


def test_a_runbook_saved_in_the_console_is_audited(client, root):
    runbook = RunbookFactory()
    client.force_login(root)
    change_url = reverse("admin:incidents_runbook_change", args=[runbook.pk])
    form = client.get(change_url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    response = client.post(change_url, data | {"symptoms": "The service answers 504."})
    assert response.status_code == 302
    assert _actors(runbook, "runbook.saved") == ["root"]


def test_a_viewer_may_not_write_a_runbook(viewer):
    runbook = Runbook(slug="mine", title="Mine")
    with pytest.raises(NotAllowed):
        runbook_save(runbook=runbook, user=viewer, sections=["title"])
    assert not Runbook.objects.filter(slug="mine").exists()


def test_deleting_an_override_in_the_console_is_audited(client, root, rotation):
    override = OverrideFactory(rotation=rotation, starts_at=timezone.now(), ends_at=timezone.now() + timedelta(hours=2))
    client.force_login(root)
    response = client.post(reverse("admin:incidents_override_delete", args=[override.pk]), {"post": "yes"})
    assert response.status_code == 302 and not Override.objects.exists()
    assert _actors(override, "oncall.override_deleted") == ["root"]


def test_a_viewer_may_not_delete_a_rotation(viewer, rotation):
    with pytest.raises(NotAllowed):
        schedule_records_delete(records=Rotation.objects.all(), user=viewer)
    assert Rotation.objects.filter(pk=rotation.pk).exists()
