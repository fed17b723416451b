"""A SEV3 opens a forge issue (the stand-in, GitHub- and Forgejo-shaped), linked from the incident."""

from incidents.models import Incident
from incidents.services import incident_change_severity, incident_open


def sev(severity: str) -> dict:
    return {"title": "CSV export drops accents", "severity": severity, "source": "oncall_form",
            "service": "console", "category": "bug", "description": "Workaround: export as XLSX."}


def test_a_sev3_opens_a_forge_issue_linked_from_the_incident(forge, run_tasks_inline, client, responder):
    incident = run_tasks_inline(incident_open, **sev("SEV3"))
    incident.refresh_from_db()
    issue = forge.state()["issues"][0]
    assert issue["title"] == "[SEV3] CSV export drops accents" and "Workaround: export as XLSX." in issue["body"]
    assert incident.forge_issue_url == issue["html_url"]
    assert incident.timeline.filter(text__contains=issue["html_url"]).exists()
    client.force_login(responder)
    assert issue["html_url"] in client.get(f"/oncall/incidents/{incident.pk}/").content.decode()


def test_the_issue_is_opened_once_and_not_for_a_sev2(forge, run_tasks_inline, responder):
    sev2 = run_tasks_inline(incident_open, **sev("SEV2"))
    assert forge.state()["issues"] == []
    run_tasks_inline(incident_change_severity, incident=sev2, severity="SEV3", user=responder)
    run_tasks_inline(incident_change_severity, incident=Incident.objects.get(), severity="SEV2", user=responder)
    run_tasks_inline(incident_change_severity, incident=Incident.objects.get(), severity="SEV3", user=responder)
    assert len(forge.state()["issues"]) == 1
