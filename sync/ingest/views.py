"""The Baserow webhook endpoint: thin, the work is in sync.ingest.receive.

A POST is answered by a plain Django view, `baserow_webhook`: the webhook has no authentication class,
no parser and one JSON answer, so DRF's request wrapping, content negotiation and rendering would be
pure cost on the path every delivery takes. It sends the bytes and headers DRF's JSON renderer sends.
`BaserowWebhookView` stays the DRF view of record: it carries the OpenAPI schema (drf-spectacular finds
it through the view's `cls`, as for any `as_view()`) and answers every other method (405, OPTIONS).
"""

import json

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from formation_hub import inbound
from formation_hub.api.errors import error_responses
from sync import conf
from sync.ingest.receive import event_receive, parse_delivery, rejected_call_record, secret_is_valid
from sync.models import Event


def _answer(request) -> tuple[dict, int, dict]:
    """(body, status, headers) of the answer to one delivery: 202 stored, 200 duplicate, or the refusal."""
    header = conf.webhook_secret_header()
    if not secret_is_valid(request.headers.get(header, "")):
        rejected_call_record(
            source=Event.Source.BASEROW,
            reason=f"missing {header} header" if header not in request.headers else f"wrong {header} header",
            remote_addr=request.META.get("REMOTE_ADDR", ""),
        )
        return {"error": f"Missing or wrong {header} header."}, 401, {}
    try:
        raw = inbound.body_read(request, limit=conf.webhook_max_bytes(), setting="SYNC_WEBHOOK_MAX_BYTES")
        payload = parse_delivery(raw)
        received = inbound.with_database_retry(
            lambda: event_receive(raw_body=raw, payload=payload, headers=request.headers),
            budget_seconds=conf.webhook_db_retry_seconds(), what="a Baserow delivery",
        )
    except inbound.InboundRefused as refused:
        return {"error": refused.message}, refused.status, refused.headers
    if received.duplicate:
        return {"duplicate": True, "id": received.event_id}, 200, {}
    return {"id": received.event_id}, 202, {}


class BaserowWebhookView(APIView):
    """Receives Baserow webhooks: stores each delivery, answers at once, processes it in a worker.

    Authentication is the secret Baserow sends in a custom header (Baserow signs nothing).
    """

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = []
    throttle_classes = []

    @extend_schema(
        operation_id="baserow_webhook",
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            202: inline_serializer("SyncWebhookAccepted", {"id": serializers.IntegerField()}),
            200: inline_serializer(
                "SyncWebhookDuplicate", {"duplicate": serializers.BooleanField(), "id": serializers.IntegerField()}
            ),
            **error_responses(
                400, 401, 413, 503,
                _400="Not JSON, or an envelope key is missing or malformed.",
                _401="Missing or wrong secret header.",
                _413="Body over SYNC_WEBHOOK_MAX_BYTES, or more rows than SYNC_WEBHOOK_MAX_ROWS.",
                _503="The database stayed unreachable; Baserow should retry.",
            ),
        },
        auth=[],
    )
    def post(self, request):
        body, status, headers = _answer(request)
        return Response(body, status=status, headers=headers)


_drf_view = BaserowWebhookView.as_view()
# DRF's answers carry the Allow header; the plain view sends it too.
_DRF_HEADERS = {"Allow": ", ".join(BaserowWebhookView().allowed_methods)}


@csrf_exempt
def baserow_webhook(request):
    """The webhook's URL: POST answered here, every other method by the DRF view (a JSON 405, OPTIONS)."""
    if request.method != "POST":
        return _drf_view(request)
    body, status, headers = _answer(request)
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return HttpResponse(content, status=status, content_type="application/json",
                        headers={**_DRF_HEADERS, **headers})


baserow_webhook.cls = _drf_view.cls
baserow_webhook.initkwargs = _drf_view.initkwargs
