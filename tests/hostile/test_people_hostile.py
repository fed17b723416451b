"""An admin-group member may not grow their own powers, act as another person, or change people; a
superuser's changes of people are audited."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django_q.models import Schedule

from formation_hub.models import AuditEntry


@pytest.fixture
def olga(make_user):
    return make_user("olga", "admin", is_staff=True)


def _change_user(client, person, **fields):
    page = {"username": person.username, "is_active": "on", "is_staff": "on", "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00", "groups": [str(group.pk) for group in person.groups.all()], **fields}
    return client.post(reverse("admin:auth_user_change", args=[person.pk]), page)


@pytest.fixture
def root(make_user):
    return make_user("root", is_superuser=True, is_staff=True)


def test_an_admin_cannot_make_themself_superuser_or_change_anyone(client, olga, make_user):
    bruno = make_user("bruno", "release-approver")
    client.force_login(olga)
    assert _change_user(client, olga, is_superuser="on", first_name="Olga").status_code == 403
    assert client.post(reverse("admin:auth_user_password_change", args=[bruno.pk]),
                       {"password1": "Pwned-12345!", "password2": "Pwned-12345!"}).status_code == 403
    olga.refresh_from_db()
    bruno.refresh_from_db()
    assert not olga.is_superuser and olga.first_name == "" and not bruno.check_password("Pwned-12345!")


def test_an_admin_cannot_make_a_second_account_in_a_deciding_role(client, olga):
    client.force_login(olga)
    response = client.post(reverse("admin:auth_user_add"), {"username": "olga2", "password1": "Sock-Puppet-991!",
                                                            "password2": "Sock-Puppet-991!", "usable_password": "true"})
    assert response.status_code == 403
    assert not get_user_model().objects.filter(username="olga2").exists()
    approvers = Group.objects.get(name="release-approver")
    assert client.post(reverse("admin:auth_group_change", args=[approvers.pk]),
                       {"name": "approvers-renamed"}).status_code == 403


def test_a_superusers_change_of_a_person_is_audited(client, root):
    client.force_login(root)
    assert _change_user(client, root, first_name="Root").status_code == 302
    entry = AuditEntry.objects.get(action="person.changed")
    assert entry.actor == root and entry.changes["first_name"] == "Root"


def test_adding_a_group_to_a_person_is_audited(client, root, make_user):
    chloe = make_user("chloe", is_staff=True)
    client.force_login(root)
    approvers = Group.objects.get(name="release-approver")
    _change_user(client, chloe, groups=[str(approvers.pk)])
    entry = AuditEntry.objects.get(action="person.groups_changed")
    assert entry.changes == {"added": ["release-approver"], "removed": []}


def test_an_admin_cannot_change_a_superuser(client, olga, root):
    client.force_login(olga)
    assert _change_user(client, root, first_name="x").status_code == 403
    assert client.post(reverse("admin:auth_user_password_change", args=[root.pk]),
                       {"password1": "Pwned-12345!", "password2": "Pwned-12345!"}).status_code == 403
    root.refresh_from_db()
    assert root.check_password("x") is False and root.first_name == ""


def test_an_admin_cannot_edit_a_schedule(client, olga):
    schedule = Schedule.objects.first()
    client.force_login(olga)
    response = client.post(reverse("admin:django_q_schedule_change", args=[schedule.pk]),
                           {"func": "django.core.management.call_command", "args": "'shell'"})
    assert response.status_code == 403
    schedule.refresh_from_db()
    assert schedule.func != "django.core.management.call_command"


def test_a_callers_request_id_never_becomes_the_audit_correlation_id(client, olga):
    client.force_login(olga)
    response = client.post(reverse("admin:formation_hub_apitoken_add"), headers={"X-Request-ID": "forged-id-123"})
    entry = AuditEntry.objects.get(action="token.created")
    assert entry.correlation_id and entry.correlation_id != "forged-id-123"
    assert response["X-Request-ID"] == entry.correlation_id
