"""API tokens stored as digests (issue 17). DRF's tokens kept their key in clear as the primary key:
each is moved here as the SHA-256 of that key (so a token already handed out keeps working, and its
key can no longer be read back), then DRF's table is emptied. `rest_framework.authtoken` stays
installed only for its migration history; no code uses its Token.
"""

import hashlib

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


from formation_hub.access.roles import grant_role_permissions

# Who may do this app's own actions (Meta.permissions): revoking anyone's token is the admin's (revoking
# only takes a power away); each person revokes their own without it.
GRANTS = {"admin": ("revoke_apitoken",)}


def tokens_to_digests(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("formation_hub", "ApiToken")
    for token in Token.objects.order_by("created"):
        ApiToken.objects.create(user_id=token.user_id, key_prefix=token.key[:8], created_at=token.created,
                                key_digest=hashlib.sha256(token.key.encode()).hexdigest())
    Token.objects.all().delete()


def grant(apps, schema_editor):
    grant_role_permissions(apps, "formation_hub", GRANTS)


class Migration(migrations.Migration):

    dependencies = [
        ('formation_hub', '0007_audit_append_only_trigger'),
        ('authtoken', '0004_alter_tokenproxy_options'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key_prefix', models.CharField(help_text="The key's first characters, to recognise it.", max_length=8)),
                ('key_digest', models.CharField(editable=False, max_length=64, unique=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('last_used_at', models.DateTimeField(blank=True, help_text='To the minute.', null=True)),
                ('revoked_at', models.DateTimeField(blank=True, null=True)),
                ('revoked_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'API token',
                'ordering': ['-created_at', '-id'],
                'permissions': [('revoke_apitoken', "Revoke anyone's API token")],
                'constraints': [models.UniqueConstraint(condition=models.Q(('revoked_at__isnull', True)), fields=('user',), name='one_live_api_token_per_user')],
            },
        ),
        # A key cannot be recovered from its digest: going back leaves DRF's table empty.
        migrations.RunPython(tokens_to_digests, migrations.RunPython.noop),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
