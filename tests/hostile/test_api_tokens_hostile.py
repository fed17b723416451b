"""API tokens: made by their owner, stored as a digest, revoked by the owner or an admin (issue 17, point 9)."""

import hashlib
from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from formation_hub.access.api_tokens import token_create, token_revoke
from formation_hub.errors import NotAllowed
from formation_hub.models import ApiToken, AuditEntry
from tests.factories import api_key_for

CHANGELIST = "admin:formation_hub_apitoken_changelist"


@pytest.fixture
def olga(make_user):
    return make_user("olga", "admin")


def _calls_as(key: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/incidents/")


def _refused(key: str) -> bool:
    response = _calls_as(key)
    return response.status_code == 403 and response.json()["error"] == "Invalid or revoked token."


def _revoke_in_console(client, token):
    return client.post(reverse(CHANGELIST), {"action": "revoke_tokens", "_selected_action": [token.pk]}, follow=True)


def test_a_token_is_made_by_its_owner_shown_once_and_only_its_digest_is_stored(client, olga, make_user):
    chloe = make_user("chloe")
    client.force_login(olga)
    response = client.post(reverse("admin:formation_hub_apitoken_add"), {"user": chloe.pk}, follow=True)
    token = ApiToken.objects.get()
    key = response.content.decode().split("copy it now): ")[1].split("<")[0].strip()
    assert token.user == olga and token.key_digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiToken.objects.values().get()) and not Token.objects.exists()
    listing = client.get(reverse(CHANGELIST)).content.decode()
    assert key not in listing and f"{key[:8]}..." in listing
    assert AuditEntry.objects.filter(action="token.created", actor=olga).exists()


def test_the_key_acts_as_its_owner_and_its_use_is_noted(make_user):
    alice = make_user("alice", "oncall")
    key = api_key_for(alice)
    assert _calls_as(key).status_code == 200
    assert ApiToken.objects.get().last_used_at is not None
    assert _refused(key[:-1] + ("A" if key[-1] != "A" else "B"))


def test_every_person_makes_and_revokes_their_own_token_and_calls_with_it_are_then_refused(client, make_user):
    victor = make_user("victor", "viewer")
    key = api_key_for(victor)
    client.force_login(victor)
    assert client.get(reverse("admin:formation_hub_apitoken_add")).status_code == 200
    _revoke_in_console(client, ApiToken.objects.get())
    assert ApiToken.objects.get().revoked_by == victor
    assert _refused(key)
    entry = AuditEntry.objects.get(action="token.revoked")
    assert entry.actor == victor and entry.changes["owner"] == "victor"


def test_making_a_new_token_revokes_the_previous_one(make_user):
    alice = make_user("alice", "oncall")
    old, new = api_key_for(alice), api_key_for(alice)
    assert _refused(old) and _calls_as(new).status_code == 200
    assert ApiToken.objects.filter(user=alice, revoked_at__isnull=True).count() == 1


def test_a_person_neither_sees_nor_revokes_someone_elses_token(client, make_user):
    victor, alice = make_user("victor", "viewer"), make_user("alice", "oncall")
    key = api_key_for(victor)
    victors = ApiToken.objects.get(user=victor)
    client.force_login(alice)
    assert victors.key_prefix not in client.get(reverse(CHANGELIST)).content.decode()
    _revoke_in_console(client, victors)
    with pytest.raises(NotAllowed):
        token_revoke(token=victors, actor=alice)
    assert _calls_as(key).status_code == 200 and not AuditEntry.objects.filter(action="token.revoked").exists()


def test_an_admin_revokes_anyones_token_audited_but_makes_none_for_them(client, olga, make_user):
    victor = make_user("victor", "viewer")
    key = api_key_for(victor)
    with pytest.raises(NotAllowed):
        token_create(owner=victor, actor=olga)
    client.force_login(olga)
    assert "revoked" in _revoke_in_console(client, ApiToken.objects.get()).content.decode()
    assert _refused(key)
    entry = AuditEntry.objects.get(action="token.revoked")
    assert entry.actor == olga and entry.changes["owner"] == "victor"


def test_a_drf_token_handed_out_before_keeps_working_once_its_clear_key_is_gone(make_user):
    alice = make_user("alice", "oncall")
    old_key = Token.objects.create(user=alice).key
    import_module("formation_hub.migrations.0008_api_token_digests").tokens_to_digests(apps, None)
    assert not Token.objects.exists()
    assert ApiToken.objects.get(user=alice).key_digest == hashlib.sha256(old_key.encode()).hexdigest()
    assert _calls_as(old_key).status_code == 200
