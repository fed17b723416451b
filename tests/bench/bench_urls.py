"""The product's URLs plus the floor: a bare Django view that stores the body in one row and answers 202.

It goes through the same gunicorn, middleware and database as the webhook endpoint, so ingest / floor
is the cost of what the endpoint does beyond the minimum (secret check, envelope validation, duplicate
check, event and item rows, enqueue).
"""

from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from formation_hub.urls import urlpatterns as product_urlpatterns


@csrf_exempt
@require_POST
def floor(request):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_floor (received_at, body) VALUES (now(), %s) RETURNING id",
            [request.body.decode("utf-8", errors="replace")],
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=202)


urlpatterns = [path("bench/floor/", floor), *product_urlpatterns]
