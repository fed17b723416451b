"""Rewriting the audit trail by every path below the console (issue 17, point 5)."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from formation_hub.audit import audit_chain_breaks, audit_record
from formation_hub.errors import DomainError
from formation_hub.models import AuditEntry


def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")


@pytest.fixture
def entries(db):
    return [audit_record(action="release.approved", message=f"entry {index}") for index in range(3)]


def test_bulk_orm_paths_refuse_to_rewrite_the_trail(entries):
    with pytest.raises(DomainError):
        AuditEntry.objects.filter(pk=entries[0].pk).update(message="forged")
    with pytest.raises(DomainError):
        AuditEntry.objects.filter(pk=entries[0].pk).delete()
    with pytest.raises(DomainError):
        AuditEntry.objects.all().delete()
    with pytest.raises(DomainError):
        AuditEntry.objects.bulk_create([AuditEntry(action="forged")])
    entries[0].message = "forged"
    with pytest.raises(DomainError):
        AuditEntry.objects.bulk_update([entries[0]], ["message"])
    assert AuditEntry.objects.filter(message="forged").count() == 0


def test_the_chain_links_every_entry_to_the_one_before(entries):
    assert entries[1].previous_hash == entries[0].entry_hash and len(entries[0].entry_hash) == 64
    assert audit_chain_breaks() == []
    call_command("audit_verify")


@pytest.mark.skipif("connection.vendor == 'postgresql'", reason="raw SQL is refused there: see below")
def test_a_raw_sql_rewrite_or_removal_breaks_the_chain(entries):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE formation_hub_auditentry SET message = 'forged' WHERE id = %s", [entries[0].pk])
        cursor.execute("DELETE FROM formation_hub_auditentry WHERE id = %s", [entries[1].pk])
    reasons = {found.entry_id: found.reason for found in audit_chain_breaks()}
    assert "rewritten" in reasons[entries[0].pk] and "removed" in reasons[entries[2].pk]
    with pytest.raises(CommandError, match="broken"):
        call_command("audit_verify")


@pytest.mark.postgres
@pytest.mark.parametrize("statement", [
    "UPDATE formation_hub_auditentry SET message = 'forged' WHERE id = %s",
    "DELETE FROM formation_hub_auditentry WHERE id = %s",
])
def test_postgresql_refuses_update_and_delete_below_the_orm(entries, statement):
    _needs_postgresql()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [entries[0].pk])
    assert AuditEntry.objects.get(pk=entries[0].pk).message == "entry 0"


@pytest.mark.postgres
def test_postgresql_lets_a_deleted_user_leave_their_name_on_the_trail(make_user):
    _needs_postgresql()
    person = make_user("leaver")
    entry = audit_record(action="thing.done", actor=person)
    person.delete()
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor_id is None and entry.actor_label == "leaver"
    assert audit_chain_breaks() == []
