"""The Baserow webhook endpoint: thin, the work is in sync.receive."""

import contextlib
import logging
import time

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from formation_hub.api import error_responses
from sync import conf
from sync.models import Event
from sync.receive import InvalidDelivery, event_receive, parse_delivery, rejected_call_record, secret_is_valid

logger = logging.getLogger(__name__)

DB_RETRY_PAUSE = 0.2


class BodyTooLarge(Exception):  # noqa: N818 - the 413 answer
    pass


def _read_body(request, limit: int) -> bytes:
    """The body, at most `limit` bytes; the declared length is checked before anything is read."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise BodyTooLarge
    stream = request.stream
    if stream is None:
        return b""
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise BodyTooLarge
    return body


def _receive_with_retries(**delivery):
    """event_receive, tried again on a fresh connection while the database is unreachable (a restart),
    for at most SYNC_WEBHOOK_DB_RETRY_SECONDS; the last error is raised once that budget is spent."""
    deadline = time.monotonic() + conf.webhook_db_retry_seconds()
    while True:
        try:
            return event_receive(**delivery)
        except (OperationalError, InterfaceError) as error:
            if time.monotonic() + DB_RETRY_PAUSE > deadline:
                raise
            logger.warning("Storing a Baserow delivery failed (%s); retrying on a new connection", error)
            with contextlib.suppress(DatabaseError):
                connection.close()
            time.sleep(DB_RETRY_PAUSE)


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
        limit = conf.webhook_max_bytes()
        try:
            raw = _read_body(request, limit)
            payload = parse_delivery(raw)
        except BodyTooLarge:
            return Response(
                {"error": f"Body larger than the {limit} bytes accepted (SYNC_WEBHOOK_MAX_BYTES)."},
                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        except InvalidDelivery as error:
            return Response({"error": error.message}, status=error.status)
        try:
            received = _receive_with_retries(raw_body=raw, payload=payload, headers=request.headers)
        except (OperationalError, InterfaceError):
            logger.exception("Baserow delivery not stored: the database stayed unreachable")
            return Response(
                {"error": "The database is unreachable right now; the delivery was not stored. Retry later."},
                status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"},
            )
        if received.duplicate:
            return Response({"duplicate": True, "id": received.event_id}, status=status.HTTP_200_OK)
        return Response({"id": received.event_id}, status=status.HTTP_202_ACCEPTED)
