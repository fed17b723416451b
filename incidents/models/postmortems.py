"""Learning from incidents: runbooks, post-mortems with their action items, and backup restores."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from incidents.models.incidents import Incident


class Runbook(models.Model):
    """What to do when a known kind of incident happens (playbook incident.md, "Runbooks lies").

    The sections are markdown typed by people: shown as HTML only through formation_hub.console.markdown.
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
