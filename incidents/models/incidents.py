"""Incidents, their timeline and status updates, monitoring alerts, pages, the on-call rotation and
the personal-data breach assessment. Writes go through `incidents.services` and its sibling modules.

Every due time (page escalation, update reminder, response breach, recap, GDPR reminder) is a
column on its row; the one-minute sweep (`incidents.oncall.sweeps`) claims due rows with a conditional
update, so a restart or a late run neither loses nor repeats a reminder.
"""

from datetime import timedelta
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from formation_hub.models import InboundDelivery

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
        return f"{self.time:%Y-%m-%d %H:%M} {self.kind}: {self.text[:60]}"


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


class MonitorSetting(models.Model):
    """Per-monitor settings for alerts: which severity a 'down' opens, which service it concerns."""

    monitor = models.CharField(max_length=200, unique=True, help_text="Monitor id or name as the alert sends it.")
    severity = models.CharField(max_length=4, choices=Severity.choices, default=Severity.SEV2)
    service = models.CharField(max_length=100, blank=True)
    category = models.CharField(max_length=100, default="down")

    def __str__(self):
        return f"{self.monitor} -> {self.severity}"


class Alert(InboundDelivery):
    """A monitoring alert as received (raw body and headers without the token), stored before it is acted on
    (read-only evidence). Calls with a missing or wrong token are counted (formation_hub.RefusedCall), never
    stored."""

    class Source(models.TextChoices):
        UPTIMEROBOT = "uptimerobot", "UptimeRobot"
        GENERIC = "generic", "generic"

    class State(models.TextChoices):
        DOWN = "down", "down"
        UP = "up", "up"
        UNKNOWN = "unknown", "unknown"

    source = models.CharField(max_length=15, choices=Source.choices)
    monitor = models.CharField(max_length=200, db_index=True)
    monitor_name = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=10, choices=State.choices)
    details = models.TextField(blank=True)
    payload = models.JSONField(default=dict)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")

    def __str__(self):
        return f"{self.source} {self.monitor} {self.state}"


class Page(models.Model):
    """A page to the primary on call, escalated to the backup when not acknowledged in time."""

    class State(models.TextChoices):
        PAGED = "paged", "primary paged"
        ESCALATED = "escalated", "escalated to backup"
        ESCALATED_ADMINS = "admins", "escalated past the backup, to the admins"
        ACKNOWLEDGED = "acknowledged", "acknowledged"

    dedupe_key = models.CharField(max_length=200, unique=True)
    subject = models.CharField(max_length=250)
    body = models.TextField(blank=True)
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.CASCADE, related_name="pages")
    primary = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.PAGED, db_index=True)
    paged_at = models.DateTimeField()
    escalate_at = models.DateTimeField(null=True, blank=True, db_index=True, help_text="Backup paged at this time.")
    escalated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-paged_at", "-id"]

    def __str__(self):
        return f"page: {self.subject}"


class Rotation(models.Model):
    """Ordered members take turns as primary (the next one is backup), handing off weekly at a local time."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="Europe/Paris")
    handoff_weekday = models.PositiveSmallIntegerField(
        choices=[(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"),
                 (5, "Saturday"), (6, "Sunday")],
        default=0,
    )
    handoff_time = models.TimeField(default="10:00", help_text="Local wall-clock time, kept across DST changes.")
    start_date = models.DateField(help_text="The first handoff happens on this date's handoff weekday or after.")
    active = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(default=0, help_text="Lowest active priority is the one used.")

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.time_zone not in available_timezones():
            raise ValidationError({"time_zone": f"'{self.time_zone}' is not an IANA time zone (e.g. Europe/Paris)."})


class RotationMember(models.Model):
    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["rotation", "user"], name="one_membership_per_rotation")]

    def __str__(self):
        return f"{self.position}. {self.user}"


class Override(models.Model):
    """A person covers a role (primary or backup) for a window; overrides win over the rotation."""

    class Role(models.TextChoices):
        PRIMARY = "primary", "primary"
        BACKUP = "backup", "backup"

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="overrides")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.PRIMARY)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["rotation", "starts_at", "ends_at"], name="override_window")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="override_ends_after_start")
        ]

    def __str__(self):
        return f"{self.user} {self.role} {self.starts_at:%Y-%m-%d %H:%M}-{self.ends_at:%Y-%m-%d %H:%M} UTC"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The override must end after it starts."})


class HandoffRecap(models.Model):
    """The recap the incoming primary gets at a handoff; one row per rotation and handoff instant."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="recaps")
    handoff_at = models.DateTimeField()
    incoming = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-handoff_at"]
        constraints = [models.UniqueConstraint(fields=["rotation", "handoff_at"], name="one_recap_per_handoff")]

    def __str__(self):
        return f"{self.rotation} handoff {self.handoff_at:%Y-%m-%d %H:%M} UTC"


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


class Runbook(models.Model):
    """What to do when a known kind of incident happens (playbook incident.md, "Runbooks lies").

    The sections are markdown typed by people: shown as HTML only through formation_hub.markdown.
    """

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    symptoms = models.TextField(blank=True, help_text="What people and monitors see (markdown).")
    diagnosis = models.TextField(blank=True, help_text="Steps to confirm the cause (markdown).")
    resolution = models.TextField(blank=True, help_text="Steps to restore the service (markdown).")
    prevention = models.TextField(blank=True, help_text="What keeps it from happening again (markdown).")
    rollback_escalation = models.TextField(
        blank=True, verbose_name="rollback / escalation", help_text="The way back, and whom to call (markdown)."
    )
    last_reviewed_at = models.DateTimeField(null=True, blank=True, help_text="Last time someone checked it is right.")
    updated_at = models.DateTimeField(auto_now=True)

    SECTIONS = (
        ("symptoms", "Symptoms"),
        ("diagnosis", "Diagnosis"),
        ("resolution", "Resolution"),
        ("prevention", "Prevention"),
        ("rollback_escalation", "Rollback / escalation"),
    )

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title


class PostMortem(models.Model):
    """The blameless post-mortem of an incident: draft -> in review -> published, due 7 days after resolution.

    Its sections are markdown typed by people, pre-filled from the incident when it is created.
    """

    class State(models.TextChoices):
        DRAFT = "draft", "draft"
        IN_REVIEW = "in_review", "in review"
        PUBLISHED = "published", "published"

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="post_mortem")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, help_text="The export's file name is YYYY-MM-DD-<slug>.md.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT, db_index=True)
    due_at = models.DateTimeField(db_index=True, help_text="7 days after the incident was resolved.")
    timeline = models.TextField(blank=True, help_text="Local times (markdown list).")
    downtime = models.CharField(max_length=100, blank=True, help_text="Computed from detection to service restored.")
    users_affected = models.CharField(max_length=300, blank=True)
    data_loss = models.CharField(max_length=500, blank=True, help_text="No, or yes: how much and what.")
    estimated_cost = models.CharField(max_length=200, blank=True, help_text="If it can be quantified.")
    root_cause = models.TextField(blank=True, help_text="One paragraph: what broke and why.")
    monitoring_gap = models.TextField(
        blank=True, verbose_name="why monitoring did not alert earlier", help_text="An honest analysis: blind spot?"
    )
    lessons_learned = models.TextField(blank=True, help_text="What to keep in mind so it does not happen again.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminder_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Next overdue reminder (daily once past due)."
    )

    class Meta:
        ordering = ["-due_at", "-id"]

    def __str__(self):
        return f"Post-mortem: {self.title}"

    @property
    def is_published(self) -> bool:
        return self.state == self.State.PUBLISHED


class ActionItem(models.Model):
    """A post-mortem's action item: what adds the missing safeguard, who, by when."""

    class Status(models.TextChoices):
        OPEN = "open", "open"
        IN_PROGRESS = "in_progress", "in progress"
        DONE = "done", "done"
        DROPPED = "dropped", "dropped"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    post_mortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="action_items")
    description = models.CharField(max_length=500)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField(db_index=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    reminder_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Next overdue reminder (daily once past due)."
    )

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["owner", "status"], name="action_item_owner_status")]

    def __str__(self):
        return self.description[:80]

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


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
        return f"Recurring {self.service} / {self.category} (raised {self.raised_at:%Y-%m-%d})"


class BackupRestore(models.Model):
    """A restore from a backup, run from the 'restore-from-backup' runbook, with its evidence: the monthly
    DR drill (into a scratch database) or a rollback of lost data during an incident."""

    class Kind(models.TextChoices):
        DRILL = "drill", "monthly DR drill"
        ROLLBACK = "rollback", "rollback of lost data"

    class State(models.TextChoices):
        OPEN = "open", "to do"
        PASSED = "passed", "restored and checked"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    period = models.CharField(max_length=7, blank=True, help_text="YYYY-MM of a drill.")
    incident = models.ForeignKey(Incident, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="restores")
    runbook = models.ForeignKey(Runbook, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True, help_text="Why this restore (a rollback: what was lost).")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN, db_index=True)
    backup_name = models.CharField(max_length=300, blank=True, help_text="The backup file or snapshot restored.")
    backup_taken_at = models.DateTimeField(null=True, blank=True)
    restore_target = models.CharField(max_length=200, blank=True, help_text="Where: scratch database, production.")
    duration_minutes = models.PositiveIntegerField(null=True, blank=True, help_text="From start to checked.")
    checks = models.TextField(blank=True, help_text="What was verified: row counts, known records, a user flow.")
    evidence_url = models.URLField(max_length=500, blank=True, help_text="Log, ticket or document with the proof.")
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["period"], condition=Q(kind="drill"), name="one_drill_per_month"),
        ]

    def __str__(self):
        if self.kind == self.Kind.DRILL:
            return f"DR drill {self.period}"
        return f"Restore for incident #{self.incident_id}"
