"""Settings rows edited in the console leave an audit entry naming who did it and what changed."""

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin

from formation_hub.admin.base import AuditedSettingsAdmin, ReadOnlyEvidenceAdmin
from formation_hub.models import AuditEntry
from incidents.models import MonitorSetting
from releases.models import FreezeWindow, SmokeCheck

pytestmark = pytest.mark.django_db


def _entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def test_a_freeze_window_added_changed_and_deleted_in_the_console_is_audited(make_user, client):
    chloe = make_user("chloe", "release-approver")
    client.force_login(chloe)
    form = {"name": "Exams", "kind": "maintenance", "start_date": "2026-12-14", "start_time": "08:00",
            "end_date": "2026-12-18", "end_time": "18:00", "time_zone": "Europe/Paris", "note": ""}
    assert client.post("/admin/releases/freezewindow/add/", form).status_code == 302
    window = FreezeWindow.objects.get()
    [created] = _entries("setting.freezewindow.created")
    assert (created.actor_label, created.object_id) == ("chloe", str(window.pk))
    assert created.changes["name"] == "Exams"

    client.post(f"/admin/releases/freezewindow/{window.pk}/change/", {**form, "end_date": "2026-12-19"})
    [changed] = _entries("setting.freezewindow.changed")
    assert changed.changes["end_date"] == "2026-12-19" and "name" not in changed.changes

    admin_user = make_user("ana", "admin")
    client.force_login(admin_user)
    client.post(f"/admin/releases/freezewindow/{window.pk}/delete/", {"post": "yes"})
    assert not FreezeWindow.objects.exists()
    [deleted] = _entries("setting.freezewindow.deleted")
    assert deleted.actor_label == "ana" and "Exams" in deleted.changes["was"]


def test_a_bulk_delete_from_the_list_audits_each_row(make_user, client):
    client.force_login(make_user("ana", "admin"))
    checks = [SmokeCheck.objects.create(name=f"check {n}", url=f"https://app.example.org/{n}") for n in range(2)]
    response = client.post("/admin/releases/smokecheck/", {
        "action": "delete_selected", "_selected_action": [check.pk for check in checks], "post": "yes",
    })
    assert response.status_code == 302
    assert not SmokeCheck.objects.exists()
    assert {entry.object_id for entry in _entries("setting.smokecheck.deleted")} == {str(c.pk) for c in checks}


def test_a_viewer_cannot_change_a_setting_and_nothing_is_written(make_user, client):
    setting = MonitorSetting.objects.create(monitor="db-disk", severity="SEV2")
    client.force_login(make_user("victor", "viewer"))
    response = client.post(f"/admin/incidents/monitorsetting/{setting.pk}/change/",
                           {"monitor": "db-disk", "severity": "SEV1", "service": "", "category": "down"})
    assert response.status_code == 403
    setting.refresh_from_db()
    assert setting.severity == "SEV2"
    assert not _entries("setting.monitorsetting.changed")


def _saves_with_djangos_default(model_admin) -> bool:
    for klass in type(model_admin).__mro__:
        if "save_model" in klass.__dict__:
            return klass is ModelAdmin
    return True


def _editable_fields(model_admin, request) -> set[str]:
    return set(model_admin.get_fields(request)) - set(model_admin.get_readonly_fields(request))


def test_every_console_page_that_writes_rows_writes_them_through_a_service(rf, admin_user):
    """A new console page that saves rows with Django's default save_model leaves no audit entry:
    subclass AuditedSettingsAdmin or call the app's service."""
    third_party = {"axes", "django_q"}
    request = rf.get("/admin/")
    request.user = admin_user
    unaudited = [
        model._meta.label for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, (ReadOnlyEvidenceAdmin, AuditedSettingsAdmin))
        and model._meta.app_label not in third_party
        and _saves_with_djangos_default(model_admin) and _editable_fields(model_admin, request)
    ]
    assert unaudited == []
