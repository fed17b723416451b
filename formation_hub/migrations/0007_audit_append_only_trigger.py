"""On PostgreSQL the database itself refuses to rewrite the audit trail: raw SQL, a shell or a job
that bypasses the ORM gets an error. The only UPDATE allowed is the one Django's ON DELETE SET NULL
makes when a user or a content type is deleted (the entry keeps the name and its hash). SQLite has
no such guard (the embedded mode is a single-machine demo): there, the ORM and the hash chain do it.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION formation_hub_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (to_jsonb(NEW) - 'actor_id' - 'content_type_id') = (to_jsonb(OLD) - 'actor_id' - 'content_type_id')
       AND (NEW.actor_id IS NULL OR NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id)
       AND (NEW.content_type_id IS NULL OR NEW.content_type_id IS NOT DISTINCT FROM OLD.content_type_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'formation_hub_auditentry is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER formation_hub_audit_append_only
    BEFORE UPDATE OR DELETE ON formation_hub_auditentry
    FOR EACH ROW EXECUTE FUNCTION formation_hub_audit_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS formation_hub_audit_append_only ON formation_hub_auditentry;
DROP FUNCTION IF EXISTS formation_hub_audit_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("formation_hub", "0006_audit_hash_chain")]

    operations = [migrations.RunPython(forward, backward)]
