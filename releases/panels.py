from django.urls import reverse

from formation_hub.dashboard import Panel
from formation_hub.gates import can_decide, get_gate_type
from formation_hub.models import Gate
from releases.models import Release
from releases.selectors import next_step, release_in_flight


def _context(request):
    release = release_in_flight()
    if release is None:
        return {"release": None, "add_url": reverse("admin:releases_release_add")}
    gate = (
        Gate.objects.filter(object_id=str(release.pk), state=Gate.State.PENDING, gate_type__startswith="releases.")
        .exclude(gate_type="releases.override").first()
    )
    return {
        "release": release,
        "next_step": next_step(release),
        "url": reverse("admin:releases_release_change", args=[release.pk]),
        "gate": gate,
        "gate_label": get_gate_type(gate.gate_type).label if gate else "",
        "gate_url": reverse("admin:formation_hub_gate_decide", args=[gate.pk]) if gate else "",
        "may_decide": can_decide(gate=gate, user=request.user) if gate else False,
        "status_label": Release.Status(release.status).label,
    }


release_in_flight_panel = Panel(
    name="releases", title="Release in flight", template="admin/panels/releases_in_flight.html", context=_context,
    order=400,
)
