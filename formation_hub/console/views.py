import hmac

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from formation_hub.observability.health import OK, run_checks


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
        "checks": {name: _check_body(result, detailed=_may_read_details(request)) for name, result in results.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)


def _may_read_details(request) -> bool:
    """Details name internal URLs and database errors: signed-in staff and token holders only."""
    if request.user.is_authenticated and request.user.is_staff:
        return True
    token = settings.HEALTHZ_TOKEN
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(sent.encode(), token.encode())


def _check_body(result, *, detailed: bool) -> dict:
    return {"status": result.status, "detail": result.detail} if detailed else {"status": result.status}


@require_GET
def home(request):
    """`/` takes a person to what they use: the console for staff, the on-call pages otherwise."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return redirect("admin:index" if request.user.is_staff else "incidents:home")


@require_GET
def favicon(request):
    icon = settings.BASE_DIR / "formation_hub" / "static" / "formation_hub" / "favicon.ico"
    response = FileResponse(icon.open("rb"), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
