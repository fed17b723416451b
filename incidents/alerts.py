"""Monitoring alerts: stored first, then a "down" opens an incident or attaches to the monitor's open
one, and an "up" adds a timeline entry. A partial unique constraint (one open incident per monitor)
stops duplicates, also from concurrent deliveries: the loser of the race attaches to the winner's.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from formation_hub import inbound
from formation_hub.audit import audit_record
from incidents import conf
from incidents.models import OPEN_STATUSES, Alert, Incident, MonitorSetting, Source, TimelineEntry
from incidents.services import incident_create
from incidents.timeline import timeline_add

UPTIMEROBOT_STATES = {"1": Alert.State.DOWN, "down": Alert.State.DOWN, "2": Alert.State.UP, "up": Alert.State.UP}


class UnreadableAlert(inbound.InboundRefused):
    """An alert stored as evidence but naming no monitor: answered 400 with what to send."""


@dataclass(frozen=True)
class ParsedAlert:
    monitor: str
    monitor_name: str
    state: str
    details: str


def _text(data, *names) -> str:
    for name in names:
        value = data.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def parse_uptimerobot(data) -> ParsedAlert:
    """UptimeRobot's webhook variables (*monitorID*, *alertType* 1=down 2=up, ...) as JSON or form fields."""
    state_text = _text(data, "alertType", "alertTypeFriendlyName").lower()
    return ParsedAlert(
        monitor=_text(data, "monitorID", "monitorURL", "monitorFriendlyName"),
        monitor_name=_text(data, "monitorFriendlyName", "monitorURL"),
        state=UPTIMEROBOT_STATES.get(state_text, Alert.State.UNKNOWN),
        details=_text(data, "alertDetails"),
    )


def parse_generic(data) -> ParsedAlert:
    """{"monitor": "docmost-http", "state": "down"|"up", "name": "...", "details": "..."}."""
    state = _text(data, "state", "status").lower()
    return ParsedAlert(
        monitor=_text(data, "monitor", "check"),
        monitor_name=_text(data, "name", "monitor"),
        state=state if state in (Alert.State.DOWN, Alert.State.UP) else Alert.State.UNKNOWN,
        details=_text(data, "details", "message"),
    )


PARSERS = {Alert.Source.UPTIMEROBOT: parse_uptimerobot, Alert.Source.GENERIC: parse_generic}


def alert_receive(*, source: str, payload: dict, raw_body: bytes = b"", headers=None) -> Alert:
    """Store the alert with its raw body and headers (kept even if acting on it fails), then act on it.

    `payload` is the body's fields (formation_hub.inbound.fields_parse): the token was checked before.
    """
    parsed = PARSERS[source](payload)
    alert = Alert.objects.create(
        source=source, monitor=parsed.monitor[:200], monitor_name=parsed.monitor_name[:200], state=parsed.state,
        details=parsed.details, payload=payload, received_at=timezone.now(), raw_body=inbound.raw_text(raw_body),
        headers=inbound.evidence_headers(headers or {}),
    )
    if not parsed.monitor:
        message = "The alert names no monitor: send monitorID (UptimeRobot) or 'monitor' (generic)."
        _finish(alert, "refused: no monitor id", error=message)
        raise UnreadableAlert(message)
    if parsed.state == Alert.State.DOWN:
        _on_down(alert)
    elif parsed.state == Alert.State.UP:
        _on_up(alert)
    else:
        _finish(alert, "ignored: neither down nor up")
    return alert


def _finish(alert: Alert, outcome: str, incident: Incident | None = None, error: str = "") -> None:
    alert.outcome, alert.incident, alert.error = outcome, incident, error
    alert.save(update_fields=["outcome", "incident", "error"])
    audit_record(
        action="incident.alert_received", target=alert, actor_label=f"alerts:{alert.source}",
        changes={"monitor": alert.monitor, "state": alert.state, "incident": incident.pk if incident else None},
        message=outcome,
    )


def _open_incident_of(monitor: str) -> Incident | None:
    return Incident.objects.filter(monitor=monitor, status__in=OPEN_STATUSES).first()


def _attach(alert: Alert, incident: Incident) -> None:
    with transaction.atomic():
        timeline_add(
            incident=incident, kind=TimelineEntry.Kind.ALERT, author_label=f"alerts:{alert.source}",
            text=f"Still down ({alert.monitor_name or alert.monitor}){': ' + alert.details if alert.details else ''}.",
        )
        _finish(alert, f"attached to open incident #{incident.pk}", incident)


def _on_down(alert: Alert) -> None:
    existing = _open_incident_of(alert.monitor)
    if existing is not None:
        _attach(alert, existing)
        return
    setting = MonitorSetting.objects.filter(monitor__in=[alert.monitor, alert.monitor_name]).first()
    name = alert.monitor_name or alert.monitor
    try:
        with transaction.atomic():
            incident = incident_create(
                title=f"{name} is down", severity=setting.severity if setting else conf.default_alert_severity(),
                source=Source.ALERT, service=(setting.service if setting and setting.service else name)[:100],
                category=setting.category if setting else "down", description=alert.details, monitor=alert.monitor,
            )
            _finish(alert, f"opened incident #{incident.pk}", incident)
    except IntegrityError:
        # A concurrent delivery opened it first (one_open_incident_per_monitor): attach to that one.
        existing = _open_incident_of(alert.monitor)
        if existing is None:
            raise
        _attach(alert, existing)


def _on_up(alert: Alert) -> None:
    incident = _open_incident_of(alert.monitor)
    if incident is None:
        _finish(alert, "recovery with no open incident: nothing to do")
        return
    with transaction.atomic():
        timeline_add(
            incident=incident, kind=TimelineEntry.Kind.ALERT, author_label=f"alerts:{alert.source}",
            text=f"Monitor {alert.monitor_name or alert.monitor} is up again"
            f"{': ' + alert.details if alert.details else ''}. Verify before resolving.",
        )
        _finish(alert, f"recovery noted on incident #{incident.pk}", incident)
