"""A connection row may not make the app send another secret of the process anywhere (issue 17, point 8)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from formation_hub.models import AuditEntry
from sync.models import BaserowConnection, DocmostConnection


@pytest.mark.parametrize("variable", ["DEPENDABOT_WEBHOOK_SECRET", "DJANGO_SECRET_KEY", "BASEROW_WEBHOOK_SECRETS"])
def test_a_connection_cannot_name_another_secret(db, monkeypatch, variable):
    monkeypatch.setenv(variable, "do-not-leak")
    connection = BaserowConnection(url="https://capture.example", token_env_var=variable)
    with pytest.raises(ValidationError, match="token_env_var"):
        connection.full_clean()
    assert connection.token() == ""
    docmost = DocmostConnection(url="https://capture.example", api_key_env_var=variable)
    assert docmost.api_key() == ""


def test_the_allowed_names_still_read_their_secret(db, monkeypatch):
    monkeypatch.setenv("BASEROW_PROD_TOKEN", "real-token")
    assert BaserowConnection(url="https://baserow.example", token_env_var="BASEROW_PROD_TOKEN").token() == "real-token"


def test_a_connection_edit_is_audited(client, make_user):
    connection = BaserowConnection.objects.create(url="https://baserow.example")
    client.force_login(make_user("olga", "admin", is_staff=True))
    response = client.post(reverse("admin:sync_baserowconnection_change", args=[connection.pk]), {
        "url": "https://elsewhere.example", "token_env_var": "BASEROW_DATABASE_TOKEN", "admin_email": "",
        "admin_password_env_var": "BASEROW_ADMIN_PASSWORD",
    })
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="sync.connection_changed")
    assert entry.changes == {"url": "https://elsewhere.example"}
