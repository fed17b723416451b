from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from formation_hub.health import OK, run_checks


@never_cache
@require_GET
def healthz(request):
    """One entry per check; 200 when every configured check passes, 503 otherwise.
    `?scope=app` checks the app alone, without its peers (what a release's watch judges)."""
    app_only = request.GET.get("scope") == "app"
    results = run_checks(include_peers=not app_only)
    counted = {name: result for name, result in results.items() if result.counts}
    passing = sum(1 for result in counted.values() if result.status == OK)
    healthy = passing == len(counted)
    body = {
        "status": "ok" if healthy else "failing",
        "summary": f"{passing}/{len(counted)} OK",
        "scope": "app" if app_only else "all",
        "checks": {name: {"status": result.status, "detail": result.detail} for name, result in results.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)
