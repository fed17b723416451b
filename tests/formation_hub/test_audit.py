import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from formation_hub.audit import audit_batch, audit_entries_for, audit_record
from formation_hub.errors import DomainError
from formation_hub.models import AuditEntry
from formation_hub.observability.correlation import correlation


@pytest.fixture
def target(db):
    return Group.objects.create(name="audited-thing")


def test_record_names_actor_action_object_changes_and_correlation(make_user, target):
    alice = make_user("alice")
    with correlation("req-123"):
        entry = audit_record(action="thing.renamed", target=target, actor=alice, changes={"name": ["a", "b"]})
    entry.refresh_from_db()
    assert (entry.actor_label, entry.action, entry.object_repr) == ("alice", "thing.renamed", "audited-thing")
    assert entry.changes == {"name": ["a", "b"]}
    assert entry.correlation_id == "req-123"
    assert list(audit_entries_for(target)) == [entry]


def test_system_actions_name_the_system_part(target):
    entry = audit_record(action="sync.step", target=target, actor_label="sync-worker")
    assert entry.actor is None and entry.actor_label == "sync-worker"


def test_entries_cannot_be_changed_or_deleted(target):
    entry = audit_record(action="thing.created", target=target)
    entry.message = "rewritten history"
    with pytest.raises(DomainError, match="append-only"):
        entry.save()
    with pytest.raises(DomainError, match="append-only"):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).message == ""


def test_superuser_can_read_but_not_add_edit_or_delete_in_the_console(admin_client, target):
    entry = audit_record(action="thing.created", target=target, message="kept")
    changelist = reverse("admin:formation_hub_auditentry_changelist")
    response = admin_client.get(changelist, {"q": "thing.created"})
    assert response.status_code == 200 and b"thing.created" in response.content
    assert admin_client.get(reverse("admin:formation_hub_auditentry_add")).status_code == 403
    change = admin_client.post(reverse("admin:formation_hub_auditentry_change", args=[entry.pk]), {"message": "x"})
    assert change.status_code == 403
    delete = admin_client.post(reverse("admin:formation_hub_auditentry_delete", args=[entry.pk]), {"post": "yes"})
    assert delete.status_code == 403
    bulk = admin_client.post(changelist, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    assert bulk.status_code in (200, 302)
    assert AuditEntry.objects.filter(pk=entry.pk, message="kept").exists()


def test_audit_list_filters_by_object(admin_client, target):
    other = Group.objects.create(name="other-thing")
    audit_record(action="thing.touched", target=target)
    audit_record(action="thing.touched", target=other)
    content_type = ContentType.objects.get_for_model(Group)
    response = admin_client.get(
        reverse("admin:formation_hub_auditentry_changelist"),
        {"content_type__id__exact": content_type.pk, "object_id": other.pk},
    )
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_every_change_page_links_to_its_audit_trail(admin_client, admin_user):
    response = admin_client.get(reverse("admin:auth_user_change", args=[admin_user.pk]))
    assert response.status_code == 200
    assert b"Audit trail" in response.content
    assert f"object_id={admin_user.pk}".encode() in response.content


def test_audit_list_query_count_does_not_grow_with_rows(admin_client, target, django_assert_max_num_queries):
    for number in range(60):
        audit_record(action=f"thing.step{number % 3}", target=target)
    with django_assert_max_num_queries(12):
        response = admin_client.get(reverse("admin:formation_hub_auditentry_changelist"))
    assert response.status_code == 200


def test_entries_recorded_in_a_batch_are_written_together_when_it_ends(target):
    ContentType.objects.get_for_model(target)  # cached, as it is in a running process
    with CaptureQueriesContext(connection) as queries, audit_batch():
        audit_record(action="thing.one", target=target, actor_label="sync-worker")
        audit_record(action="thing.two", target=target, actor_label="sync-worker", message="second")
    inserts = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    entries = list(audit_entries_for(target).order_by("pk"))
    assert [entry.action for entry in entries] == ["thing.one", "thing.two"]
    assert entries[1].previous_hash == entries[0].entry_hash == entries[0].content_hash(entries[0].previous_hash)


def test_a_batch_left_by_an_error_writes_nothing(target):
    with pytest.raises(RuntimeError), audit_batch():
        audit_record(action="thing.lost", target=target)
        raise RuntimeError("the work failed")
    assert not AuditEntry.objects.filter(action="thing.lost").exists()
