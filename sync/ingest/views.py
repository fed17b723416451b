"""The Baserow webhook endpoint: thin, the work is in sync.ingest.receive."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from formation_hub import inbound
from formation_hub.api.errors import error_responses
from sync import conf
from sync.ingest.receive import event_receive, parse_delivery, rejected_call_record, secret_is_valid
from sync.models import Event


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
        header = conf.webhook_secret_header()
        if not secret_is_valid(request.headers.get(header, "")):
            rejected_call_record(
                source=Event.Source.BASEROW,
                reason=f"missing {header} header" if header not in request.headers else f"wrong {header} header",
                remote_addr=request.META.get("REMOTE_ADDR", ""),
            )
            return Response({"error": f"Missing or wrong {header} header."}, status=status.HTTP_401_UNAUTHORIZED)
        try:
            raw = inbound.body_read(request, limit=conf.webhook_max_bytes(), setting="SYNC_WEBHOOK_MAX_BYTES")
            payload = parse_delivery(raw)
            received = inbound.with_database_retry(
                lambda: event_receive(raw_body=raw, payload=payload, headers=request.headers),
                budget_seconds=conf.webhook_db_retry_seconds(), what="a Baserow delivery",
            )
        except inbound.InboundRefused as refused:
            return refused.response()
        if received.duplicate:
            return Response({"duplicate": True, "id": received.event_id}, status=status.HTTP_200_OK)
        return Response({"id": received.event_id}, status=status.HTTP_202_ACCEPTED)
