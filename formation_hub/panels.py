from formation_hub.dashboard import Panel
from formation_hub.health import run_checks


def _health_context(request):
    results = run_checks()
    counted = [result for result in results.values() if result.counts]
    passing = sum(1 for result in counted if result.status == "ok")
    return {"results": results, "summary": f"{passing}/{len(counted)} OK", "healthy": passing == len(counted)}


health_panel = Panel(
    name="health", title="Health", template="admin/panels/health.html", context=_health_context, order=900
)
