"""django-q2 entry points of the incidents app: thin."""

from formation_hub.observability.correlation import correlation
from incidents.oncall.sweeps import incidents_sweep
from incidents.postmortems.restores import restore_drill_open
from incidents.response.forge_issues import incident_forge_issue_open


def sweep_due() -> dict:
    with correlation():
        return incidents_sweep()


def open_forge_issue(incident_id: int) -> str:
    with correlation():
        return incident_forge_issue_open(incident_id=incident_id)


def open_restore_drill() -> str:
    with correlation():
        return str(restore_drill_open())
