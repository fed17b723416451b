"""The release pipeline's models: a release, its changes, prerequisite reports and overrides, freeze windows,
deployments and the smoke / watch checks."""

from datetime import datetime
from functools import cached_property
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from releases.rules.semver import InvalidVersion, parse_version
from releases.smoke_urls import smoke_url_problem

# The full SHA, never a prefix: 7 characters can name another commit, whose CI run would then count (issue 17).
SHA_PATTERN = r"^[0-9a-f]{40}$"
SHA_RULE = "A commit SHA is the full 40 hexadecimal characters (a short prefix could name another commit)."
sha_validator = RegexValidator(SHA_PATTERN, SHA_RULE)


def validate_version(value: str) -> None:
    try:
        parse_version(value)
    except InvalidVersion as error:
        raise ValidationError(error.message) from None


def organisation_time_zone() -> str:
    return settings.ORGANISATION_TIME_ZONE


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone (for example Europe/Paris).")


class Release(models.Model):
    """A version on its way to production, through the pipeline of issue 7."""

    class Kind(models.TextChoices):
        NORMAL = "normal", "normal"
        HOTFIX = "hotfix", "hotfix"

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        PREREQUISITES_MET = "prerequisites_met", "prerequisites met"
        STAGING_VALIDATED = "staging_validated", "staging validated"
        TAGGED = "tagged", "tagged"
        APPROVED = "approved", "approved for production"
        DEPLOYING = "deploying", "deploying"
        SMOKE_PASSED = "smoke_passed", "smoke tests passed"
        WATCHING = "watching", "watching"
        RELEASED = "released", "released"
        ABORTED = "aborted", "aborted"
        ROLLED_BACK = "rolled_back", "rolled back"

    FINAL = (Status.RELEASED, Status.ABORTED, Status.ROLLED_BACK)

    version = models.CharField(max_length=100, db_index=True, validators=[validate_version])
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NORMAL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    title = models.CharField(max_length=200, blank=True, help_text="The one-liner of the tag message.")
    sha = models.CharField(
        "commit SHA", max_length=40, blank=True, validators=[sha_validator],
        help_text="The commit this release ships; a new SHA voids the approvals given on the old one.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    version_reason = models.TextField(
        blank=True, help_text="Why this version: a hand-chosen version or the explicit move to 1.0.0."
    )
    base_version = models.CharField(
        max_length=100, blank=True, help_text="For a hotfix: the stable release it patches."
    )
    imported = models.BooleanField(default=False, help_text="Read from an existing CHANGELOG.md.")
    released_on = models.DateField(null=True, blank=True, help_text="The date of its changelog section.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    tagged_at = models.DateTimeField(null=True, blank=True)
    forge_release_url = models.URLField(
        max_length=500, blank=True, help_text="The forge release (tag and notes) created when the tag gate passed."
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_evidence = models.JSONField(
        default=dict, blank=True, help_text="The prerequisites the production approver saw."
    )
    deployed_at = models.DateTimeField(null=True, blank=True)
    watch_started_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="When it was aborted or rolled back.")
    end_reason = models.TextField(blank=True)
    rollback_proposed_at = models.DateTimeField(null=True, blank=True)
    rollback_proposal = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("decide_release_gate", "Decide release gates (staging, tag, production approval, watch, override)"),
            ("rollback_release", "Roll back a deployed release"),
        ]
        constraints = [
            # A version is taken once it exists, unless it was aborted before being tagged (no tag to collide with).
            models.UniqueConstraint(
                fields=["version"], condition=~Q(status="aborted", released_on__isnull=True),
                name="one_release_per_version",
            )
        ]

    def __str__(self):
        return f"v{self.version}"

    @cached_property
    def semver(self):
        return parse_version(self.version)

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def in_flight(self) -> bool:
        return self.status not in self.FINAL and not self.imported


class Change(models.Model):
    """One line of the changelog. Without a release it is 'Unreleased'."""

    class Type(models.TextChoices):
        BREAKING = "breaking", "breaking change"
        FEATURE = "feature", "feature"
        CHANGE = "change", "change (compatible)"
        DEPRECATION = "deprecation", "deprecation"
        REMOVAL = "removal", "removal (breaking)"
        FIX = "fix", "fix"
        PERF = "perf", "performance"
        SECURITY = "security", "security"
        DOCS = "docs", "docs"
        CHORE = "chore", "chore"

    class Source(models.TextChoices):
        MANUAL = "manual", "typed in the console"
        IMPORT = "import", "imported CHANGELOG.md"
        STORY = "story", "completed story"
        BUMP = "bump", "merged dependency bump"

    release = models.ForeignKey(Release, null=True, blank=True, on_delete=models.PROTECT, related_name="changes")
    type = models.CharField(max_length=20, choices=Type.choices)
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Who made the change; they may not approve the release that ships it.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False,
        help_text="Who added the line (or merged the bump, completed the story): they may not approve it either.",
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    reference = models.CharField(max_length=200, blank=True, help_text="A story id, a pull request, a commit.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.type}: {self.text[:80]}"


class PrerequisiteReport(models.Model):
    """A fact reported by CI (or read from a commit-status API): kept as evidence, never edited."""

    class Kind(models.TextChoices):
        CI = "ci", "CI on main"
        E2E = "e2e", "end-to-end tests on staging"
        BACKUP = "backup", "verified backup"

    class Outcome(models.TextChoices):
        SUCCESS = "success", "success"
        FAILURE = "failure", "failure"
        PENDING = "pending", "pending"

    release = models.ForeignKey(
        Release, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    sha = models.CharField(max_length=40, blank=True, db_index=True, help_text="Empty for a backup.")
    observed_at = models.DateTimeField(help_text="When the run finished or the backup was verified.")
    url = models.URLField(max_length=500, blank=True)
    detail = models.TextField(blank=True)
    source = models.CharField(max_length=40, default="api", help_text="api, forgejo, github.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-observed_at", "-id"]
        indexes = [models.Index(fields=["kind", "sha", "-observed_at"], name="release_report_lookup")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.outcome} {self.sha[:10]}".strip()


class FreezeWindow(models.Model):
    """A time when no release may run, in local wall-clock time of its own zone (DST-correct)."""

    class Kind(models.TextChoices):
        MAINTENANCE = "maintenance", "maintenance"
        COURSES = "courses", "courses in session"
        TIMESHEET = "timesheet", "timesheet deadline"
        OTHER = "other", "other"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.MAINTENANCE)
    start_date = models.DateField()
    start_time = models.TimeField()
    end_date = models.DateField()
    end_time = models.TimeField()
    time_zone = models.CharField(max_length=60, default=organisation_time_zone, validators=[validate_time_zone],
                                 help_text="The zone of the dates and times above (IANA name).")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["start_date", "start_time"]

    def __str__(self):
        return f"{self.name} ({self.start_date} {self.start_time:%H:%M} - {self.end_date} {self.end_time:%H:%M} "\
            f"{self.time_zone})"

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start_date, self.start_time, tzinfo=ZoneInfo(self.time_zone))

    @property
    def ends_at(self) -> datetime:
        return datetime.combine(self.end_date, self.end_time, tzinfo=ZoneInfo(self.time_zone))

    def clean(self):
        if self.time_zone in available_timezones() and self.ends_at <= self.starts_at:
            raise ValidationError("A freeze window must end after it starts.")


class PrerequisiteOverride(models.Model):
    """A written reason to pass a failing prerequisite, valid once a second release approver approves it."""

    class State(models.TextChoices):
        REQUESTED = "requested", "waiting for a second approver"
        APPROVED = "approved", "approved"
        DENIED = "denied", "denied"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="overrides")
    prerequisite = models.CharField(max_length=30)
    sha = models.CharField(max_length=40, help_text="The SHA the override was asked for; it binds to it.")
    reason = models.TextField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.REQUESTED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"override of {self.prerequisite} on v{self.release.version}"


class Deployment(models.Model):
    """One deploy (or rollback redeploy) to one environment, with the deploy hook's answer."""

    class Environment(models.TextChoices):
        STAGING = "staging", "staging"
        PRODUCTION = "production", "production"

    class Action(models.TextChoices):
        DEPLOY = "deploy", "deploy"
        ROLLBACK = "rollback", "rollback"

    class Result(models.TextChoices):
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="deployments")
    environment = models.CharField(max_length=20, choices=Environment.choices, default=Environment.PRODUCTION)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.DEPLOY)
    version = models.CharField(max_length=100, help_text="The version put in place (the previous one on rollback).")
    sha = models.CharField(max_length=40, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=10, choices=Result.choices, default=Result.RUNNING)
    hook_url = models.URLField(max_length=500, blank=True)
    hook_status = models.PositiveSmallIntegerField(null=True, blank=True)
    hook_response = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # A double click never deploys twice: one running or succeeded deploy per release, place, action.
            models.UniqueConstraint(
                fields=["release", "environment", "action"], condition=~Q(result="failed"),
                name="one_live_deployment_per_release_env_action",
            )
        ]

    def __str__(self):
        return f"{self.action} v{self.version} to {self.environment}"


class SmokeCheck(models.Model):
    """An HTTP check of a critical endpoint: run right after a deploy and every minute of the watch."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    expected_status = models.PositiveSmallIntegerField(default=200)
    expected_text = models.CharField(max_length=200, blank=True, help_text="Optional text the body must contain.")
    active = models.BooleanField(default=True)
    in_watch = models.BooleanField(default=True, help_text="Also run every minute during the watch period.")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        problem = smoke_url_problem(self.url) if self.url else ""
        if problem:
            raise ValidationError({"url": f"This URL is not checked: {problem}."})


class CheckRun(models.Model):
    """The result of one smoke or watch check against one URL."""

    class Phase(models.TextChoices):
        SMOKE = "smoke", "smoke test"
        WATCH = "watch", "watch-period health check"

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="check_runs")
    deployment = models.ForeignKey(Deployment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    smoke_check = models.ForeignKey(SmokeCheck, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    phase = models.CharField(max_length=10, choices=Phase.choices)
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    ran_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-ran_at", "-id"]
        indexes = [models.Index(fields=["release", "phase", "-ran_at"], name="release_checkrun_lookup")]

    def __str__(self):
        return f"{self.phase} {self.name}: {'ok' if self.ok else 'failed'}"
