"""API tokens: made by their owner, stored as a digest, revoked by their owner or an admin (issue 17).

The key is 256 random bits, shown once; the database keeps its SHA-256 (a hash of a random key needs
no salt or slow hash: nothing can be guessed from it) and its first characters to recognise it. A
call is authenticated by the digest of the key it presents, so the header stays the DRF one:
`Authorization: Token <key>`.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from formation_hub.access.permissions import may
from formation_hub.audit import audit_record
from formation_hub.errors import DomainError, NotAllowed
from formation_hub.models import ApiToken

REVOKE_ANY = "formation_hub.revoke_apitoken"
# `last_used_at` is written at most once a minute per token: a busy client does not write on every call.
LAST_USED_PRECISION = timedelta(minutes=1)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _revoke(token: ApiToken, *, actor, now) -> None:
    token.revoked_at, token.revoked_by = now, actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(action="token.revoked", target=token, actor=actor,
                 changes={"key_prefix": token.key_prefix, "owner": token.user.get_username()})


@transaction.atomic
def token_create(*, owner, actor) -> tuple[ApiToken, str]:
    """A person's API token, made by that person; returns it with its key, to be shown once. Their
    previous token is revoked."""
    if actor is None or actor.pk != owner.pk:
        raise NotAllowed("An API token is made by its owner: sign in as that person to make theirs.")
    now = timezone.now()
    previous = list(ApiToken.objects.select_for_update().filter(user=owner, revoked_at__isnull=True))
    for token in previous:
        _revoke(token, actor=actor, now=now)
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=owner, key_prefix=key[:8], key_digest=key_digest(key), created_at=now)
    audit_record(action="token.created", target=token, actor=actor,
                 changes={"key_prefix": token.key_prefix, "previous_revoked": bool(previous)})
    return token, key


@transaction.atomic
def token_revoke(*, token: ApiToken, actor) -> ApiToken:
    """The owner revokes their token; a holder of 'revoke anyone's API token' revokes any."""
    if actor is None or (actor.pk != token.user_id and not may(actor, REVOKE_ANY)):
        raise NotAllowed("Only its owner or an admin revokes an API token.")
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
    if not token.is_live:
        raise DomainError(f"The token {token.key_prefix}... of {token.user} is already revoked.")
    _revoke(token, actor=actor, now=timezone.now())
    return token


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's `Authorization: Token <key>` header, checked against the stored digests."""

    def authenticate_credentials(self, key):
        token = (ApiToken.objects.select_related("user")
                 .filter(key_digest=key_digest(key), revoked_at__isnull=True).first())
        if token is None:
            raise AuthenticationFailed("Invalid or revoked token.")
        if not token.user.is_active:
            raise AuthenticationFailed("The token's owner is inactive or deleted.")
        now = timezone.now()
        if token.last_used_at is None or token.last_used_at <= now - LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
