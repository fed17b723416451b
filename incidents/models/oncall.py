"""On-call: the rotation, its members and overrides, the pages sent and the handoff recaps."""

from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from formation_hub.console.timefmt import format_local, to_local
from incidents.models.incidents import Incident


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
        return f"{self.user} {self.role} {to_local(self.starts_at):%a %d %b %Y %H:%M} to {format_local(self.ends_at)}"

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
        return f"{self.rotation} handoff {format_local(self.handoff_at)}"


class CalendarFeed(models.Model):
    """A person's private iCal address, one per person (issue 17, point 12). Its secret is derived from
    the server's SECRET_KEY and `nonce`, so the on-call page shows the same address on every visit while
    the database keeps only the secret's SHA-256 (to find the feed); a reset draws a new nonce, which
    ends the old address at once."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    nonce = models.CharField(max_length=32, editable=False)
    secret_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    reset_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"calendar feed of {self.user}"
