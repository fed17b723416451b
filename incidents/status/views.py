"""`GET /status.json`: the status banner for pages outside formation-hub (no sign-in: it says only what the
banner says)."""

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from incidents.status.banner import status_banner_json


@require_GET
def status_json(request):
    response = JsonResponse(status_banner_json())
    response["Cache-Control"] = "max-age=30"
    response["Access-Control-Allow-Origin"] = "*"
    return response
