"""Delivery's models: stories of the build playbook and their history, dependency bumps and the Dependabot
deliveries that created them."""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q

from formation_hub.models import InboundDelivery
from releases.models.release import Change, sha_validator
from releases.rules.bumps import Category, Ecosystem, Path, Severity


class Story(models.Model):
    """A story of the build playbook (build-story.md): ten steps, three gates, then its changelog entry."""

    class Step(models.IntegerChoices):
        PREFLIGHT = 1, "1. pre-flight"
        CODE = 2, "2. code"
        TESTS = 3, "3. tests"
        REVIEW = 4, "4. review gate"
        PULL_REQUEST = 5, "5. push and pull request"
        CI = 6, "6. CI verification"
        MERGE = 7, "7. merge gate"
        STAGING = 8, "8. staging deploy"
        VALIDATION = 9, "9. business validation gate"
        ARTEFACTS = 10, "10. artefacts updated"

    class State(models.TextChoices):
        ACTIVE = "active", "in progress"
        BLOCKED = "blocked", "blocked (out of the sprint)"
        COMPLETED = "completed", "completed"

    class CiStatus(models.TextChoices):
        UNKNOWN = "unknown", "not run"
        PENDING = "pending", "running"
        GREEN = "green", "green"
        RED = "red", "red"

    number = models.PositiveIntegerField(unique=True, help_text="S-01 is number 1.")
    title = models.CharField(max_length=200)
    user_story = models.TextField(blank=True, help_text="As a ..., I want ..., so that ... (Connextra).")
    acceptance_criteria = models.TextField(blank=True, help_text="Gherkin: Scenario / Given / When / Then.")
    branch = models.CharField(max_length=120, help_text="feat/<slug>, derived from the title.")
    step = models.PositiveSmallIntegerField(choices=Step.choices, default=Step.PREFLIGHT, db_index=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE, db_index=True)
    sprint = models.CharField(max_length=60, blank=True, help_text="Empty: not in a sprint (a blocked story).")
    change_type = models.CharField(
        max_length=20, choices=Change.Type.choices, default=Change.Type.FEATURE,
        help_text="The type of its changelog entry once completed.",
    )
    coverage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True,
                                   help_text="Test coverage in percent, from the tests step.")
    ci_status = models.CharField(max_length=10, choices=CiStatus.choices, default=CiStatus.UNKNOWN)
    head_sha = models.CharField("head commit", max_length=40, blank=True, validators=[sha_validator])
    pull_request_url = models.URLField(max_length=500, blank=True)
    revision = models.PositiveSmallIntegerField(
        default=1, help_text="Goes up at each rework loop: a gate asked on an older revision is void."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Who codes it; they may not decide its gates.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    change = models.OneToOneField(Change, null=True, blank=True, on_delete=models.SET_NULL, related_name="story")

    class Meta:
        ordering = ["number"]
        verbose_name_plural = "stories"
        permissions = [("decide_delivery_gate", "Decide story and dependency-bump gates")]

    def __str__(self):
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return f"S-{self.number:02d}"


class StoryEvent(models.Model):
    """The story's history: each step change, gate decision and feedback, never edited."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    kind = models.CharField(max_length=40)
    from_step = models.PositiveSmallIntegerField(choices=Story.Step.choices, null=True, blank=True)
    to_step = models.PositiveSmallIntegerField(choices=Story.Step.choices, null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.story.key} {self.kind}"


class DependencyBump(models.Model):
    """A dependency update (bump-deps.md): its category is computed and decides its path."""

    class Source(models.TextChoices):
        DEPENDABOT = "dependabot", "Dependabot pull request"
        API = "api", "CI (API)"
        MANUAL = "manual", "manual"
        WATCH = "watch", "upstream release watch"

    class Scope(models.TextChoices):
        PRODUCTION = "production", "production"
        DEVELOPMENT = "development", "development"

    class State(models.TextChoices):
        QUEUED = "queued", "queued (over the open limit)"
        OPEN = "open", "waiting for its path"
        APPROVED = "approved", "approved, waiting to merge"
        HELD = "held", "held"
        MERGED = "merged", "merged"
        CLOSED = "closed", "closed"

    class CiStatus(models.TextChoices):
        UNKNOWN = "unknown", "not run"
        PENDING = "pending", "running"
        GREEN = "green", "green"
        RED = "red", "red"

    OPEN_STATES = (State.OPEN, State.APPROVED, State.HELD)
    FINAL_STATES = (State.MERGED, State.CLOSED)

    package = models.CharField(max_length=200, db_index=True)
    ecosystem = models.CharField(max_length=20, choices=Ecosystem.CHOICES)
    from_version = models.CharField(max_length=100)
    to_version = models.CharField(max_length=100)
    advisories = models.JSONField(default=list, blank=True, help_text="GHSA or CVE ids.")
    severity = models.CharField(max_length=10, choices=Severity.CHOICES, default=Severity.NONE)
    scope = models.CharField(max_length=12, choices=Scope.choices, default=Scope.PRODUCTION, db_index=True)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.MANUAL)
    pull_request_url = models.URLField(max_length=500, blank=True)
    category = models.CharField(max_length=20, choices=Category.CHOICES, db_index=True)
    path = models.CharField(max_length=20, choices=Path.CHOICES)
    explanation = models.TextField(help_text="Why this category.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN, db_index=True)
    ci_status = models.CharField(max_length=10, choices=CiStatus.choices, default=CiStatus.UNKNOWN)
    migration_note = models.TextField(blank=True, help_text="Required before a go on a major: what changes, how.")
    waiting_for = models.CharField(max_length=300, blank=True, help_text="What the merge waits for, if anything.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    merged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    change = models.OneToOneField(Change, null=True, blank=True, on_delete=models.SET_NULL, related_name="bump")
    group_name = models.CharField(max_length=100, blank=True, help_text="The Dependabot group of a grouped update.")
    group_lead = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="group_members",
        help_text="A grouped update's other packages follow this bump: its pull request, gate, CI and merge.",
    )
    merged_outside_gates = models.CharField(
        max_length=500, blank=True,
        help_text="Set when the pull request was merged on the forge while formation-hub's rules forbade it: why.",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ecosystem", "state"], name="bump_ecosystem_state")]
        constraints = [
            # The same pull request never makes two bumps, whatever delivers it twice.
            models.UniqueConstraint(fields=["pull_request_url"], condition=~Q(pull_request_url=""),
                                    name="one_bump_per_pull_request"),
        ]

    def __str__(self):
        return f"{self.package} {self.from_version} -> {self.to_version}"

    @property
    def subject(self) -> str:
        """What a gate decides: the versions, of every package of a grouped update on its lead."""
        own = f"{self.package} {self.from_version} -> {self.to_version}"
        if not self.group_name or self.group_lead_id is not None:
            return own
        members = [f"{bump.package} {bump.from_version} -> {bump.to_version}"
                   for bump in self.group_members.order_by("id")]
        text = f"{self.group_name} group: {', '.join([own, *members])}"
        # Gate.subject holds 200 characters: a long group keeps a digest, so any change still voids its gate.
        return text if len(text) <= 200 else f"{text[:170]} #{hashlib.sha256(text.encode()).hexdigest()[:16]}"


class BumpWebhookDelivery(InboundDelivery):
    """A signed pull-request webhook call as received, kept before it is acted on (read-only evidence).

    Unsigned calls, repeated ones and ones older than the last accepted for their pull request are not
    stored: they are counted (formation_hub.RefusedCall), so nobody can fill the database with them.
    """

    class Outcome(models.TextChoices):
        RECEIVED = "received", "received, not processed"
        CREATED = "created", "bump created"
        DUPLICATE = "duplicate", "bump already known"
        UPDATED = "updated", "bump updated"
        IGNORED = "ignored", "ignored"
        REFUSED = "refused", "refused"

    source = models.CharField(max_length=20, help_text="github, forgejo or gitea (from the headers).")
    event = models.CharField(max_length=60, blank=True)
    delivery_id = models.CharField(max_length=100, blank=True, db_index=True)
    body_sha256 = models.CharField(max_length=64, blank=True, db_index=True,
                                   help_text="A second copy of the same body is a replay.")
    signature_valid = models.BooleanField(default=False)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED)
    message = models.TextField(blank=True)
    pull_request_url = models.CharField(max_length=500, blank=True, db_index=True)
    pull_request_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="The pull request's updated_at: an older delivery is refused."
    )
    bump = models.ForeignKey(DependencyBump, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(InboundDelivery.Meta):
        verbose_name_plural = "bump webhook deliveries"

    def __str__(self):
        return f"{self.source} {self.event} {self.outcome}"
