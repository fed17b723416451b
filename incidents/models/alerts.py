"""Monitoring: the per-monitor settings and the alerts received."""

from django.db import models

from formation_hub.models import InboundDelivery
from incidents.models.incidents import Incident, Severity


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
