from django.db import migrations

from formation_hub.access.roles import grant_role_permissions

# Who may do this app's own actions (Meta.permissions): replaying events, probing services and
# reconciling rows are the admin's.
GRANTS = {"admin": ("replay_event",)}


def grant(apps, schema_editor):
    grant_role_permissions(apps, "sync", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("formation_hub", "0002_role_groups"), ("sync", "0005_shared_login")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
