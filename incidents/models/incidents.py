"""Incidents, their timeline and status updates, the personal-data breach assessment and the
recurrence escalations. Writes go through `incidents.services` and its sibling modules.

Every due time (page escalation, update reminder, response breach, recap, GDPR reminder) is a
column on its row; the one-minute sweep (`incidents.sweeps`) claims due rows with a conditional
update, so a restart or a late run neither loses nor repeats a reminder.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from formation_hub.console.timefmt import format_local, to_local

# The longest description or timeline note a person may type (a page of text; the pages, exports and
# notifications built from it stay readable and a request cannot store megabytes).
TEXT_LIMIT = 10_000


class Severity(models.TextChoices):
    SEV1 = "SEV1", "SEV1 critical"
    SEV2 = "SEV2", "SEV2 warning"
    SEV3 = "SEV3", "SEV3 info"


# The playbook's definitions (incident.md, "Severites"), shown as help text.
SEVERITY_HELP = {
    Severity.SEV1: "Service completely down or data loss in progress. Respond within 15 minutes (wall clock).",
    Severity.SEV2: "Major degradation, part of the service unavailable, data loss avoided. "
    "Respond within 4 business hours.",
    Severity.SEV3: "Isolated bug, a workaround exists. Respond within 24 business hours.",
}
SEVERITY_HELP_TEXT = " ".join(f"{severity.value}: {text}" for severity, text in SEVERITY_HELP.items())


class Status(models.TextChoices):
    DETECTED = "detected", "detected"
    TRIAGED = "triaged", "triaged"
    INVESTIGATING = "investigating", "investigating"
    MITIGATED = "mitigated", "mitigated"
    RESOLVED = "resolved", "resolved"
    CLOSED = "closed", "closed"


OPEN_STATUSES = (Status.DETECTED, Status.TRIAGED, Status.INVESTIGATING, Status.MITIGATED)


class Source(models.TextChoices):
    ALERT = "alert", "monitoring alert"
    ONCALL_FORM = "oncall_form", "on-call form"
    STAFF_REPORT = "staff_report", "staff report"
    RELEASE = "release", "release"
    API = "api", "API"


class Incident(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=4, choices=Severity.choices, help_text=SEVERITY_HELP_TEXT, db_index=True)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.DETECTED, db_index=True)
    source = models.CharField(max_length=15, choices=Source.choices)
    service = models.CharField(max_length=100, help_text="The affected service, e.g. docmost, baserow, sync.")
    category = models.CharField(max_length=100, help_text="What broke, e.g. down, performance, data, security.")
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Leads the response and posts the updates.",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user_facing = models.BooleanField(default=False, help_text="Users see the problem: updates also go by email.")
    data_loss = models.BooleanField(default=False, help_text="Data was lost: a GDPR breach assessment is opened.")
    monitor = models.CharField(
        max_length=200, blank=True, default="", help_text="The monitor that opened it (alerts only)."
    )
    forge_issue_url = models.URLField(
        max_length=500, blank=True, help_text="The forge issue a SEV3 opens, where the fix is tracked."
    )
    # Response clock: from detection to acknowledgement.
    detected_at = models.DateTimeField(db_index=True)
    respond_by = models.DateTimeField(db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    breached = models.BooleanField(default=False, db_index=True, help_text="Not acknowledged by its respond-by time.")
    breached_at = models.DateTimeField(null=True, blank=True)
    # Times of each transition (the latest entry into the state).
    triaged_at = models.DateTimeField(null=True, blank=True)
    investigating_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Status updates of an open SEV1/SEV2: due 30 minutes after the last one; reminder due time.
    last_update_at = models.DateTimeField(null=True, blank=True)
    next_update_due_at = models.DateTimeField(null=True, blank=True)
    update_reminder_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # What the incident is about, e.g. the release that failed.
    related_content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    related_object_id = models.CharField(max_length=64, blank=True)
    related_object = GenericForeignKey("related_content_type", "related_object_id")
    runbook = models.ForeignKey(
        "Runbook", null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents",
        help_text="The runbook used to respond.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        permissions = [("respond_incident", "Respond to incidents (acknowledge, move, update, close)")]
        constraints = [
            # Repeated (even concurrent) "down" alerts of one monitor never open a second incident.
            models.UniqueConstraint(
                fields=["monitor"],
                condition=~Q(monitor="") & Q(status__in=[status.value for status in OPEN_STATUSES]),
                name="one_open_incident_per_monitor",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "severity"], name="incident_status_severity"),
            # The recurrence rule looks back 30 days for the same service and category.
            models.Index(fields=["service", "category", "detected_at"], name="incident_pattern"),
        ]

    def __str__(self):
        return f"#{self.pk} [{self.severity}] {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None


class TimelineEntry(models.Model):
    """One line of an incident's timeline: append-only."""

    class Kind(models.TextChoices):
        OPENED = "opened", "opened"
        TRANSITION = "transition", "status change"
        SEVERITY = "severity", "severity change"
        ACK = "ack", "acknowledged"
        NOTE = "note", "note"
        ALERT = "alert", "alert"
        STATUS_UPDATE = "status_update", "status update"
        PAGE = "page", "page"
        BREACH = "breach", "response breach"
        CHANGE = "change", "change"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    time = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=15, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    author_label = models.CharField(max_length=150, default="system")
    text = models.TextField()

    class Meta:
        ordering = ["time", "id"]
        verbose_name_plural = "timeline entries"

    def __str__(self):
        return f"{format_local(self.time)} {self.kind}: {self.text[:60]}"


class StatusUpdate(models.Model):
    class Kind(models.TextChoices):
        IN_PROGRESS = "in_progress", "in progress"
        RESOLVED = "resolved", "resolved"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="status_updates")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    subject = models.CharField(max_length=250)
    body = models.TextField()
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    posted_at = models.DateTimeField()
    emailed = models.BooleanField(default=False, help_text="Also sent by email (user-facing or data loss).")

    class Meta:
        ordering = ["-posted_at", "-id"]

    def __str__(self):
        return self.subject


GDPR_NOTIFICATION_WINDOW = timedelta(hours=72)


class BreachAssessment(models.Model):
    """GDPR art. 33: a personal-data breach is notified to the authority within 72 h of becoming aware."""

    class Decision(models.TextChoices):
        PENDING = "pending", "to assess"
        NOT_PERSONAL = "not_personal", "no personal data involved"
        UNLIKELY_RISK = "unlikely_risk", "personal data, risk unlikely: record only"
        NOTIFY = "notify", "risk to people: notify the authority"

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="breach_assessment")
    aware_at = models.DateTimeField(help_text="When the team became aware of the breach (starts the 72 h).")
    deadline = models.DateTimeField(help_text="Notification deadline: 72 hours after becoming aware.")
    decision = models.CharField(max_length=15, choices=Decision.choices, default=Decision.PENDING)
    data_categories = models.TextField(blank=True, help_text="Which personal data, how many people.")
    notes = models.TextField(blank=True)
    notified_authority_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    next_reminder_at = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self):
        return f"GDPR assessment of incident #{self.incident_id}"

    @property
    def is_concluded(self) -> bool:
        if self.decision == self.Decision.NOTIFY:
            return self.notified_authority_at is not None
        return self.decision != self.Decision.PENDING


class RecurrenceEscalation(models.Model):
    """Three incidents of the same service and category within 30 days: a strategic escalation.

    Raised once per pattern, notified to the admins once, acknowledged by an admin with a decision.
    """

    class State(models.TextChoices):
        OPEN = "open", "to acknowledge"
        ACKNOWLEDGED = "acknowledged", "acknowledged"

    class Decision(models.TextChoices):
        REFACTOR = "refactor", "refactor the architecture"
        RESOURCES = "resources", "add resources"
        RUNBOOK = "runbook", "improve runbooks and monitoring"
        ACCEPT = "accept", "accept the risk for now"

    service = models.CharField(max_length=100)
    category = models.CharField(max_length=100)
    incidents = models.ManyToManyField(Incident, related_name="recurrence_escalations")
    raised_at = models.DateTimeField(db_index=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN, db_index=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    decision_notes = models.TextField(blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        permissions = [("acknowledge_recurrenceescalation", "Acknowledge a recurring-incident escalation")]
        constraints = [
            # One open escalation per pattern: later incidents of the pattern join it.
            models.UniqueConstraint(
                fields=["service", "category"], condition=Q(state="open"), name="one_open_escalation_per_pattern"
            ),
        ]

    def __str__(self):
        return f"Recurring {self.service} / {self.category} (raised {to_local(self.raised_at):%Y-%m-%d})"
