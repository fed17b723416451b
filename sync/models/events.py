"""Evidence of every delivery received (read-only) and the bridge's own bookkeeping.

An `Event` is one HTTP delivery as it arrived; each row it carries becomes an `EventItem`, the unit
of work with its own state. Docmost changes found by polling are stored as events of source
"docmost" and flow through the same pipeline.
"""

from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from formation_hub.console.timefmt import format_local
from formation_hub.models import RefusedCallCount
from sync.models.configuration import LogicalTable, TableMapping


class RejectedCall(RefusedCallCount):
    """Counter of refused Baserow webhook calls (wrong or missing secret), one row per source and hour."""

    class Meta(RefusedCallCount.Meta):
        constraints = [models.UniqueConstraint(fields=["source", "hour"], name="sync_rejected_call_source_hour")]

    def __str__(self):
        return f"{self.count} rejected {self.source} call(s) at {self.hour:%Y-%m-%d %H:00}"


class Event(models.Model):
    """One delivery as received: raw body and headers kept as evidence, never edited."""

    class Source(models.TextChoices):
        BASEROW = "baserow", "Baserow webhook"
        DOCMOST = "docmost", "Docmost poll"
        RECONCILIATION = "reconcile", "reconciliation"

    class State(models.TextChoices):
        RECEIVED = "received", "received, waiting for a worker"
        PROCESSING = "processing", "processing"
        PROCESSED = "processed", "processed"
        IGNORED = "ignored", "ignored"
        FAILED = "failed", "failed, will retry"
        DEAD = "dead", "dead, needs an admin"

    source = models.CharField(max_length=10, choices=Source.choices, default=Source.BASEROW)
    webhook_id = models.BigIntegerField(null=True, blank=True, help_text="Null on Baserow's test calls.")
    event_id = models.CharField(max_length=100, help_text="Baserow's event UUID (shared by webhooks and batches).")
    batch_id = models.PositiveIntegerField(default=0, help_text="Batch number of a paginated delivery, else 0.")
    event_type = models.CharField(max_length=60)
    table_id = models.BigIntegerField(null=True, blank=True)
    database_id = models.BigIntegerField(null=True, blank=True)
    workspace_id = models.BigIntegerField(null=True, blank=True)
    mapping = models.ForeignKey(
        TableMapping, null=True, blank=True, on_delete=models.SET_NULL, related_name="events",
        help_text="The table mapping at the time of the last processing.",
    )
    is_test_call = models.BooleanField(default=False)
    row_count = models.PositiveIntegerField(default=0)
    raw_body = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.RECEIVED)
    reason = models.CharField(max_length=300, blank=True)
    received_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True)
    enqueue_count = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_traceback = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        permissions = [("replay_event", "Can replay sync events")]
        constraints = [
            # Baserow gives one event id to every webhook and batch of a change: the delivery key is
            # (webhook, event, batch); test calls carry no webhook id (contracts/README.md 9.3).
            models.UniqueConstraint(
                F("source"), Coalesce(F("webhook_id"), Value(0)), F("event_id"), F("batch_id"),
                name="sync_event_delivery_key",
            ),
        ]
        indexes = [
            models.Index(fields=["-received_at"], name="sync_event_received"),
            models.Index(fields=["state", "-received_at"], name="sync_event_state"),
            models.Index(fields=["event_type", "-received_at"], name="sync_event_type"),
            models.Index(fields=["table_id", "-received_at"], name="sync_event_table"),
            models.Index(fields=["mapping", "-received_at"], name="sync_event_mapping"),
            models.Index(fields=["event_id"], name="sync_event_event_id"),
        ]

    def __str__(self):
        return f"{self.event_type} #{self.pk} ({self.event_id[:8]})"

    @property
    def delivery_key(self) -> str:
        return f"{self.source}:{self.webhook_id or 0}:{self.event_id}:{self.batch_id}"


class EventItem(models.Model):
    """One unit of work: a row of a delivery (or the delivery itself for field and view events)."""

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        PROCESSED = "processed", "processed"
        IGNORED = "ignored", "ignored"
        FAILED = "failed", "failed, will retry"
        WAITING = "waiting", "waiting (service down or an older item of the same row)"
        DEAD = "dead", "dead, needs an admin"

    TERMINAL = (State.PROCESSED, State.IGNORED, State.DEAD)
    NOT_DONE = (State.PENDING, State.FAILED, State.WAITING)

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    row_id = models.BigIntegerField(null=True, blank=True)
    entity_key = models.CharField(
        max_length=120, blank=True, help_text="What the item is about, e.g. 'baserow:601:1043' (order per entity)."
    )
    data = models.JSONField(null=True, blank=True, help_text="The row (or object) as delivered.")
    old_data = models.JSONField(null=True, blank=True, help_text="The row before the update, when Baserow sent it.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    reason = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while a worker runs the item (two workers never run the same item)."
    )

    class Meta:
        ordering = ["event_id", "position"]
        constraints = [models.UniqueConstraint(fields=["event", "position"], name="sync_item_event_position")]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="sync_item_state_due"),
            models.Index(fields=["entity_key", "created_at"], name="sync_item_entity"),
        ]

    def __str__(self):
        what = f"row {self.row_id}" if self.row_id is not None else self.entity_key or f"item {self.position}"
        return f"{what} of event #{self.event_id}"


class PageCreation(models.Model):
    """A page create sent to Docmost for a row and not yet linked: stored (and committed) before the call,
    so that after a lost answer the next attempt looks for the page among every page changed since."""

    baserow_table_id = models.PositiveIntegerField()
    row_id = models.BigIntegerField()
    started_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["baserow_table_id", "row_id"], name="sync_pagecreation_row"),
        ]

    def __str__(self):
        return f"page create for row {self.row_id} of table {self.baserow_table_id} since {self.started_at}"


class PageLink(models.Model):
    """The mapping between a Baserow row and its Docmost page (both sides link: the page id is also
    written into the row). Deletes carry only row ids: this finds the page."""

    baserow_table_id = models.PositiveIntegerField()
    row_id = models.BigIntegerField()
    logical_table = models.CharField(max_length=20, choices=LogicalTable.choices)
    page_id = models.CharField(max_length=64)
    page_slug_id = models.CharField(max_length=32, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children",
        help_text="The course page of a block's sub-page.",
    )
    synced_state = models.JSONField(
        default=dict, blank=True, help_text="Title and icon last written to the page (to compare an update with)."
    )
    archived_at = models.DateTimeField(null=True, blank=True, help_text="Set while the row is deleted in Baserow.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["logical_table", "row_id"]
        constraints = [
            models.UniqueConstraint(fields=["baserow_table_id", "row_id"], name="sync_pagelink_row"),
        ]
        indexes = [models.Index(fields=["page_id"], name="sync_pagelink_page")]

    def __str__(self):
        return f"{self.logical_table} row {self.row_id} <-> page {self.page_slug_id or self.page_id}"


class HttpCall(models.Model):
    """One HTTP attempt made while processing an item: method, path, status, duration (never headers,
    bodies or secrets), for the event's trace."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="http_calls")
    item = models.ForeignKey(EventItem, null=True, blank=True, on_delete=models.CASCADE, related_name="http_calls")
    at = models.DateTimeField()
    service = models.CharField(max_length=20)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    attempt = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=40)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["event", "at"], name="sync_httpcall_event")]

    def __str__(self):
        return f"{self.method} {self.service}{self.path} -> {self.status or self.outcome}"


class ServiceCircuit(models.Model):
    """Circuit breaker of one service: open after a retryable failure outlived the client's quick
    retries; no call is made while open, until a probe succeeds."""

    class State(models.TextChoices):
        CLOSED = "closed", "closed (calls go through)"
        OPEN = "open", "open (service down, items wait)"

    service = models.CharField(max_length=20, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.CLOSED)
    opened_at = models.DateTimeField(null=True, blank=True)
    next_probe_at = models.DateTimeField(null=True, blank=True)
    probes = models.PositiveIntegerField(default=0, help_text="Failed probes since the circuit opened.")
    last_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.service}: {self.state}"


class SharedLogin(models.Model):
    """The Docmost bot's session token, shared by every worker process of the host (Docmost allows 10
    logins a minute per client address, failed ones included: a restarted worker reuses this token
    instead of logging in), and the refusal of the last login, honoured until `refused_until`."""

    key = models.CharField(max_length=64, unique=True, help_text="Hash of base URL, account and password.")
    label = models.CharField(max_length=300, help_text="Base URL and account (no secret).")
    token = models.TextField(blank=True)
    expires = models.FloatField(null=True, blank=True, help_text="Unix time the token expires (its JWT exp).")
    refused_until = models.DateTimeField(null=True, blank=True)
    refused_status = models.PositiveSmallIntegerField(null=True, blank=True)
    refused_reason = models.CharField(max_length=500, blank=True)
    logins = models.PositiveIntegerField(default=0, help_text="Logins sent for this account since the row exists.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.label


class PollCursor(models.Model):
    """Where the last Docmost poll stopped, per list (pages, shares)."""

    name = models.CharField(max_length=40, unique=True)
    position = models.JSONField(default=dict, blank=True)
    polled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} at {self.position}"


class LoopAlert(models.Model):
    """More events on one entity within a minute than a human makes: probably a sync loop."""

    entity_key = models.CharField(max_length=120)
    event_count = models.PositiveIntegerField()
    first_event_at = models.DateTimeField()
    detected_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity_key"], condition=models.Q(resolved_at__isnull=True), name="sync_loopalert_open",
            ),
        ]

    def __str__(self):
        return f"loop on {self.entity_key}: {self.event_count} events in a minute"


class Reconciliation(models.Model):
    """One search for Baserow rows never synced to Docmost (dry run: what it would do)."""

    started_at = models.DateTimeField()
    dry_run = models.BooleanField()
    trigger = models.CharField(max_length=40, help_text="console, command or watchdog")
    actor_label = models.CharField(max_length=150)
    rows_found = models.JSONField(default=list, blank=True, help_text="[{table, row_id, title}] not yet mapped.")
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        kind = "dry run" if self.dry_run else "run"
        return f"reconciliation {kind} of {format_local(self.started_at)}: {len(self.rows_found)} row(s)"
