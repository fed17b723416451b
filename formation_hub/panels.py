from django.urls import reverse

from formation_hub.dashboard import Panel
from formation_hub.gates import gates_waiting_for, get_gate_type
from formation_hub.health import run_checks


def _health_context(request):
    results = run_checks()
    counted = [result for result in results.values() if result.counts]
    passing = sum(1 for result in counted if result.status == "ok")
    return {"results": results, "summary": f"{passing}/{len(counted)} OK", "healthy": passing == len(counted)}


health_panel = Panel(
    name="health", title="Health", template="admin/panels/health.html", context=_health_context, order=900
)


def _gates_context(request):
    waiting = gates_waiting_for(request.user)
    return {
        "gates": [
            {
                "gate": gate,
                "label": get_gate_type(gate.gate_type).label,
                "decide_url": reverse("admin:formation_hub_gate_decide", args=[gate.pk]),
            }
            for gate in waiting[:10]
        ],
        "count": len(waiting),
        "list_url": reverse("admin:formation_hub_gate_changelist") + "?waiting=me",
    }


gates_panel = Panel(
    name="gates", title="Gates waiting for you", template="admin/panels/gates.html", context=_gates_context, order=20
)
