"""The status banner people see on every formation-hub page (and read from `/status.json`) while a
user-facing incident is open: the incident playbook's triage step "banner status if user-facing", taken
down at resolution (step 6)."""

from dataclasses import asdict, dataclass

from incidents import conf
from incidents.models import OPEN_STATUSES, Incident, StatusUpdate


@dataclass(frozen=True)
class BannerLine:
    severity: str
    text: str
    latest_update: str
    since: str


def status_banner() -> list[BannerLine]:
    """One line per open user-facing incident, most severe first, with its latest in-progress update."""
    incidents = (Incident.objects.filter(user_facing=True, status__in=OPEN_STATUSES)
                 .order_by("severity", "detected_at")[:5])
    lines = []
    for incident in incidents:
        update = (incident.status_updates.filter(kind=StatusUpdate.Kind.IN_PROGRESS)
                  .order_by("-posted_at", "-id").values_list("subject", flat=True).first())
        lines.append(BannerLine(
            severity=incident.severity,
            text=f"[{incident.severity}] {conf.product_name()} - {incident.service}: {incident.get_status_display()}",
            latest_update=update or "", since=incident.detected_at.isoformat(),
        ))
    return lines


def status_banner_json() -> dict:
    return {"incidents": [asdict(line) for line in status_banner()]}


def status_banner_context(request) -> dict:
    """Template context processor: `status_banner` on every page."""
    return {"status_banner": status_banner()}
