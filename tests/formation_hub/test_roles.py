import pytest
from django.contrib.auth.models import Group

from formation_hub.notifications import notify


@pytest.mark.parametrize("role", ["admin", "oncall", "release-approver", "viewer"])
def test_role_groups_exist_after_migrate(db, role):
    assert Group.objects.filter(name=role).exists()


def test_viewer_can_only_view(db):
    codenames = set(Group.objects.get(name="viewer").permissions.values_list("codename", flat=True))
    assert "view_auditentry" in codenames and "view_notification" in codenames
    assert all(codename.startswith("view_") for codename in codenames)


def test_nobody_may_add_change_or_delete_audit_entries(db):
    for group in Group.objects.all():
        codenames = set(group.permissions.values_list("codename", flat=True))
        assert not codenames & {"add_auditentry", "change_auditentry", "delete_auditentry"}, group.name


def test_oncall_and_release_approvers_change_only_their_own_area(db):
    oncall = Group.objects.get(name="oncall").permissions.exclude(codename__startswith="view_")
    approvers = Group.objects.get(name="release-approver").permissions.exclude(codename__startswith="view_")
    assert set(oncall.values_list("content_type__app_label", flat=True)) <= {"incidents"}
    assert set(approvers.values_list("content_type__app_label", flat=True)) <= {"releases"}


def test_viewer_reads_the_console_but_cannot_resend_a_notification(client, make_user):
    notify(kind="k", subject="s", body="b")
    viewer = make_user("victor", "viewer")
    client.force_login(viewer)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/formation_hub/auditentry/").status_code == 200
    response = client.get("/admin/formation_hub/notification/")
    assert response.status_code == 200
    assert b"resend_notifications" not in response.content


def test_admin_role_sees_the_resend_action(client, make_user):
    notify(kind="k", subject="s", body="b")
    admin = make_user("olga", "admin")
    client.force_login(admin)
    assert b"resend_notifications" in client.get("/admin/formation_hub/notification/").content
