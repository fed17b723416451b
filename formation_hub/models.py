import hashlib
import json

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from formation_hub.console.timefmt import format_local
from formation_hub.errors import DomainError
from formation_hub.hot_sql import insert_instances


class AppendOnlyQuerySet(models.QuerySet):
    """The ORM's bulk paths refuse to rewrite the audit trail; below the ORM, PostgreSQL's triggers do
    (migration formation_hub 0004)."""

    def update(self, **kwargs):
        raise DomainError("Audit entries are append-only: they cannot be changed.")

    def delete(self):
        raise DomainError("Audit entries are append-only: they cannot be deleted.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise DomainError("Audit entries are append-only: they cannot be changed.")

    def bulk_create(self, objs, *args, **kwargs):
        raise DomainError("Audit entries are written one by one, each chained to the one before.")


# Serialises the writers of the chain on PostgreSQL (SQLite's IMMEDIATE transactions already do).
AUDIT_CHAIN_LOCK = 0x617564697421


class AuditEntry(models.Model):
    """One append-only line of the audit trail, shaped like Django's admin LogEntry.

    Written only by `formation_hub.audit.audit_record`; never updated or deleted. Each entry carries
    the hash of the one before it, so a rewritten or removed entry breaks the chain
    (`manage.py audit_verify`).
    """

    class Result(models.TextChoices):
        OK = "ok", "ok"
        FAILED = "failed", "failed"
        REFUSED = "refused", "refused"

    time = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(
        max_length=150, help_text="The user's name, or the system part that acted (e.g. 'sync-worker')."
    )
    action = models.CharField(max_length=80, db_index=True, help_text="A verb, e.g. 'gate.decided'.")
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.OK, db_index=True)
    message = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=64, blank=True, db_index=True)
    previous_hash = models.CharField(max_length=64, blank=True, editable=False)
    entry_hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-time", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["content_type", "object_id", "-time"], name="audit_object_time"),
            models.Index(fields=["actor_label", "-time"], name="audit_actor_time"),
        ]

    def __str__(self):
        return f"{format_local(self.time, '%a %d %b %Y %H:%M:%S')} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise DomainError("Audit entries are append-only: they cannot be changed.")
        # The chain needs a transaction (its lock is held to the end), inside a caller's own no savepoint:
        # an entry that cannot be written fails the caller's transaction, as its writes must not stay unaudited.
        with transaction.atomic(savepoint=False):
            self._chain([self])
            super().save(*args, **kwargs)

    @classmethod
    def append_many(cls, entries: list["AuditEntry"]) -> None:
        """Write new entries in one INSERT, each chained to the one before it."""
        with transaction.atomic(savepoint=False):
            cls._chain(entries)
            insert_instances(entries)

    @classmethod
    def _chain(cls, entries: list["AuditEntry"]) -> None:
        """Link the entries to the end of the chain, holding the chain's lock until the transaction ends."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
        with connection.cursor() as cursor:
            cursor.execute(_LAST_HASH_SQL)
            last = cursor.fetchone()
        previous = last[0] if last else ""
        for entry in entries:
            entry.previous_hash = previous
            entry.entry_hash = previous = entry.content_hash(previous)

    def delete(self, *args, **kwargs):
        raise DomainError("Audit entries are append-only: they cannot be deleted.")

    def content_hash(self, previous_hash: str) -> str:
        """SHA-256 of what the entry says and of the previous entry's hash (not the actor's id, which a
        deleted user's entries lose: their name stays in actor_label)."""
        content = {
            "previous": previous_hash, "time": self.time.isoformat(), "actor": self.actor_label,
            "action": self.action, "content_type": self.content_type_id, "object_id": self.object_id,
            "object_repr": self.object_repr, "changes": self.changes, "result": self.result,
            "message": self.message, "correlation_id": self.correlation_id,
        }
        encoded = json.dumps(content, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False)
        return hashlib.sha256(encoded.encode()).hexdigest()


# The end of the chain, written out: every audited step of the sync worker reads it.
_LAST_HASH_SQL = f"SELECT entry_hash FROM {AuditEntry._meta.db_table} ORDER BY id DESC LIMIT 1"  # noqa: S608


class Gate(models.Model):
    """A human decision requested on an object, bound to the subject that was reviewed (e.g. a SHA)."""

    class State(models.TextChoices):
        PENDING = "pending", "waiting for a decision"
        DECIDED = "decided", "decided"
        VOID = "void", "void"

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    gate_type = models.CharField(max_length=60, db_index=True)
    subject = models.CharField(
        max_length=200, help_text="What exactly is decided on: a commit SHA, a version."
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    decision = models.CharField(max_length=30, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    void_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "gate_type"],
                condition=Q(state="pending"),
                name="one_pending_gate_per_object_and_type",
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="gate_object")]

    def __str__(self):
        return f"{self.gate_type} on {self.object_repr} ({self.get_state_display()})"

    @property
    def target(self):
        return self.content_type.get_object_for_this_type(pk=self.object_id)


class Notification(models.Model):
    """A message to people, stored before it is sent, sent by a django-q2 task with retries."""

    class Channel(models.TextChoices):
        EMAIL = "email", "email"
        TEAM = "team", "team channel"
        PAGER = "pager", "pager webhook"

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed, will retry"
        DEAD = "dead", "dead, gave up"
        SKIPPED = "skipped", "skipped"

    kind = models.CharField(max_length=60, db_index=True, help_text="e.g. 'incident.page', 'sync.capacity'.")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipients = models.JSONField(default=list, blank=True, help_text="Email addresses (email channel).")
    subject = models.CharField(max_length=250)
    body = models.TextField()
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL)
    object_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"[{self.get_channel_display()}] {self.subject}"


class WorkerHeartbeat(models.Model):
    """One row per django-q2 cluster, touched every minute by a scheduled task (see /healthz)."""

    name = models.CharField(max_length=100, unique=True)
    beat_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {format_local(self.beat_at, '%a %d %b %Y %H:%M:%S')}"


class InboundDelivery(models.Model):
    """The evidence of one inbound webhook call, stored before it is acted on and never edited (the
    receivers' concrete models inherit it; see formation_hub.inbound)."""

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.CharField(max_length=20, help_text="Who sent it (baserow, github, uptimerobot...).")
    headers = models.JSONField(default=dict, blank=True, help_text="The headers worth keeping; never a secret.")
    raw_body = models.TextField(blank=True, help_text="The body as received (NUL characters removed).")
    outcome = models.CharField(max_length=200, blank=True, help_text="What was done with it.")
    error = models.TextField(blank=True, help_text="Why it was refused or failed.")

    class Meta:
        abstract = True
        ordering = ["-received_at", "-id"]


class RefusedCallCount(models.Model):
    """A counter of refused inbound calls (wrong or missing secret or signature, replays), one row per
    source and hour: a refused call stores no evidence row, only this count."""

    source = models.CharField(max_length=20)
    hour = models.DateTimeField(help_text="Start of the hour (UTC) the calls fall in.")
    count = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()
    last_reason = models.CharField(max_length=200)
    last_remote_addr = models.CharField(max_length=64, blank=True)

    class Meta:
        abstract = True
        ordering = ["-hour"]

    def __str__(self):
        return f"{self.count} refused {self.source} call(s) at {self.hour:%Y-%m-%d %H:00}"


class RefusedCall(RefusedCallCount):
    """Refused calls of the Dependabot and monitoring-alert webhooks (Baserow's are sync.RejectedCall)."""

    class Meta(RefusedCallCount.Meta):
        constraints = [models.UniqueConstraint(fields=["source", "hour"], name="inbound_refused_call_source_hour")]


class ForgeConnection(models.Model):
    """The forge (GitHub or Forgejo) where pull requests, tags, releases and issues live (one row).

    The token stays in the environment, named here, like the Baserow and Docmost connections.
    """

    class Kind(models.TextChoices):
        GITHUB = "github", "GitHub (REST v3)"
        FORGEJO = "forgejo", "Forgejo / Gitea (API v1)"

    key = models.CharField(max_length=20, default="default", unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.GITHUB)
    url = models.URLField(
        help_text="API base: https://api.github.com (GitHub Enterprise: https://host/api/v3); for Forgejo the "
        "instance, e.g. https://forge.example.org (without /api/v1).",
    )
    repository = models.CharField(max_length=200, help_text="owner/name of the application's repository.")
    token_env_var = models.CharField(
        max_length=100, default="FORGE_TOKEN",
        help_text="Environment variable holding the API token (statuses, merges, reviews, tags, releases, issues).",
    )
    status_context = models.CharField(
        max_length=100, default="formation-hub/gates",
        help_text="Name of the commit status the gates publish; make it a required check of the protected branch.",
    )
    merge_method = models.CharField(
        max_length=10, default="squash", choices=[("merge", "merge"), ("squash", "squash"), ("rebase", "rebase")],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "forge connection"

    def __str__(self):
        return f"{self.get_kind_display()} {self.repository} at {self.url}"


class ApiToken(models.Model):
    """A person's API token (`Authorization: Token <key>`). Only the SHA-256 of the key is stored, so a
    read of the database cannot be replayed as anyone; the key is shown once, when its owner makes it
    (issue 17). A person has at most one live token; a revoked one stays listed as evidence."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_prefix = models.CharField(max_length=8, help_text="The key's first characters, to recognise it.")
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True, help_text="To the minute.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user"], condition=Q(revoked_at__isnull=True),
                                    name="one_live_api_token_per_user"),
        ]
        permissions = [("revoke_apitoken", "Revoke anyone's API token")]

    def __str__(self):
        return f"{self.key_prefix}... of {self.user}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None
