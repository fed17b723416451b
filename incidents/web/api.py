"""JSON API for on-call tools and the monitoring webhooks. Thin: serialize, call one service."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from formation_hub import inbound
from formation_hub.api.errors import error_responses
from incidents import conf
from incidents.models import OPEN_STATUSES, TEXT_LIMIT, Alert, Incident, Severity, Source, Status
from incidents.oncall.rotation import on_call_at
from incidents.response.alerts import alert_receive
from incidents.response.clock import clock_view, uses_business_hours
from incidents.services import can_respond, incident_acknowledge, incident_open


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()


@extend_schema_field(PersonSerializer(allow_null=True))
class PersonField(serializers.Field):
    def to_representation(self, user):
        return None if user is None else {"id": user.pk, "username": user.get_username(), "email": user.email}


class OnCallSerializer(serializers.Serializer):
    primary = PersonSerializer(allow_null=True)
    backup = PersonSerializer(allow_null=True)


class IncidentSerializer(serializers.ModelSerializer):
    respond_by = serializers.DateTimeField(read_only=True)
    breached = serializers.BooleanField(read_only=True)
    time_left_seconds = serializers.SerializerMethodField(
        help_text="Response time left in seconds: wall-clock for SEV1, business time for SEV2/SEV3 "
        "(see time_left_kind)."
    )
    time_left_kind = serializers.SerializerMethodField(help_text="'wall_clock' (SEV1) or 'business' (SEV2/SEV3).")
    clock = serializers.SerializerMethodField(help_text="e.g. 'respond by Mon 12:00 (Europe/Paris), 2 h left'.")
    on_call = serializers.SerializerMethodField()
    commander = PersonField(read_only=True)
    acknowledged_by = PersonField(read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id", "title", "severity", "status", "source", "service", "category", "description", "user_facing",
            "data_loss", "detected_at", "respond_by", "acknowledged_at", "acknowledged_by", "breached",
            "time_left_seconds", "time_left_kind", "clock", "commander", "on_call", "triaged_at", "investigating_at",
            "mitigated_at",
            "resolved_at", "closed_at", "next_update_due_at",
        ]
        read_only_fields = fields

    def _clock(self, incident):
        return clock_view(incident, self.context["now"])

    def get_time_left_kind(self, incident) -> str:
        return "business" if uses_business_hours(incident.severity) else "wall_clock"

    def get_time_left_seconds(self, incident) -> int | None:
        view = self._clock(incident)
        return int(view.left.total_seconds()) if view.running else None

    def get_clock(self, incident) -> str:
        return self._clock(incident).text

    @extend_schema_field(OnCallSerializer)
    def get_on_call(self, incident) -> dict:
        who = self.context["on_call"]
        person = PersonField()
        return {"primary": person.to_representation(who.primary), "backup": person.to_representation(who.backup)}


class IncidentCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    severity = serializers.ChoiceField(choices=Severity.choices)
    service = serializers.CharField(max_length=100)
    category = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_LIMIT)
    detected_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    user_facing = serializers.BooleanField(required=False, default=False)
    data_loss = serializers.BooleanField(required=False, default=False)


def _context():
    now = timezone.now()
    return {"now": now, "on_call": on_call_at(now)}


def _require_responder(request):
    if not can_respond(request.user):
        raise PermissionDenied("Only on-call people and admins can do this.")


class IncidentListView(APIView):
    @extend_schema(
        summary="List incidents (newest first, 100 at most)",
        parameters=[
            OpenApiParameter("status", str, enum=["open", *Status.values]),
            OpenApiParameter("severity", str, enum=Severity.values),
            OpenApiParameter("breached", bool),
        ],
        responses={200: IncidentSerializer(many=True)},
    )
    def get(self, request):
        incidents = Incident.objects.select_related("commander", "acknowledged_by")
        wanted = request.query_params.get("status")
        if wanted == "open":
            incidents = incidents.filter(status__in=OPEN_STATUSES)
        elif wanted in Status.values:
            incidents = incidents.filter(status=wanted)
        if request.query_params.get("severity") in Severity.values:
            incidents = incidents.filter(severity=request.query_params["severity"])
        if request.query_params.get("breached") in ("true", "false"):
            incidents = incidents.filter(breached=request.query_params["breached"] == "true")
        return Response(IncidentSerializer(incidents[:100], many=True, context=_context()).data)

    @extend_schema(
        summary="File an incident (on-call people and admins)",
        request=IncidentCreateSerializer,
        responses={201: IncidentSerializer, **error_responses(400, 403, 409, 415)},
    )
    def post(self, request):
        _require_responder(request)
        serializer = IncidentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = incident_open(source=Source.API, reported_by=request.user, **serializer.validated_data)
        return Response(IncidentSerializer(incident, context=_context()).data, status=status.HTTP_201_CREATED)


class IncidentDetailView(APIView):
    @extend_schema(
        summary="One incident with its response clock and who is on call",
        responses={200: IncidentSerializer, **error_responses(404)},
    )
    def get(self, request, incident_id):
        incident = get_object_or_404(Incident, pk=incident_id)
        return Response(IncidentSerializer(incident, context=_context()).data)


class IncidentAckView(APIView):
    @extend_schema(
        summary="Acknowledge an incident (stops its response clock)", request=None,
        responses={200: IncidentSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request, incident_id):
        _require_responder(request)
        incident = incident_acknowledge(incident=get_object_or_404(Incident, pk=incident_id), user=request.user)
        return Response(IncidentSerializer(incident, context=_context()).data)


def _check_token(request, source: str) -> None:
    """The token comes in X-Alert-Token, 'Authorization: Bearer', or ?token= (UptimeRobot can only do that;
    the access log masks it). A refusal is counted, nothing is stored."""
    tokens = conf.alert_tokens()
    remote_addr = request.META.get("REMOTE_ADDR", "")
    if not tokens:
        inbound.refusal_record(source=source, reason="ALERT_TOKENS is not set", remote_addr=remote_addr)
        raise inbound.InboundRefused("Alerts are disabled: set ALERT_TOKENS.", status=status.HTTP_403_FORBIDDEN)
    header = request.headers.get("Authorization", "")
    given = (
        request.headers.get("X-Alert-Token")
        or (header[7:] if header.lower().startswith("bearer ") else "")
        or request.GET.get("token", "")
    )
    if not inbound.secret_matches(given, tokens):
        inbound.refusal_record(source=source, reason="missing or wrong alert token", remote_addr=remote_addr)
        raise inbound.Unauthorized("Missing or wrong alert token.")


ALERT_RESPONSE = inline_serializer(
    "AlertReceived", {"alert": serializers.IntegerField(), "outcome": serializers.CharField(),
                      "incident": serializers.IntegerField(allow_null=True)}
)
TOKEN = OpenApiParameter("token", str, description="The alert token, if not sent in X-Alert-Token.")


class _AlertView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = []
    source = ""

    def post(self, request):
        try:
            _check_token(request, self.source)
            raw = inbound.body_read(request, limit=conf.alert_max_bytes(), setting="ALERT_MAX_BYTES")
            payload = inbound.fields_parse(request, raw)
            alert = inbound.with_database_retry(
                lambda: alert_receive(source=self.source, payload=payload, raw_body=raw, headers=request.headers),
                budget_seconds=inbound.database_retry_seconds(), what=f"a {self.source} alert",
            )
        except inbound.InboundRefused as refused:
            return refused.response()
        body = {"alert": alert.pk, "outcome": alert.outcome, "incident": alert.incident_id}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class UptimeRobotAlertView(_AlertView):
    source = Alert.Source.UPTIMEROBOT

    @extend_schema(
        summary="UptimeRobot custom webhook (alertType 1 = down, 2 = up)",
        parameters=[TOKEN],
        request=inline_serializer("UptimeRobotAlert", {
            "monitorID": serializers.CharField(), "monitorFriendlyName": serializers.CharField(required=False),
            "monitorURL": serializers.CharField(required=False), "alertType": serializers.CharField(),
            "alertDetails": serializers.CharField(required=False),
        }),
        responses={202: ALERT_RESPONSE, **error_responses(400, 401, 403, 413, 415, 503)},
    )
    def post(self, request):
        return super().post(request)


class GenericAlertView(_AlertView):
    source = Alert.Source.GENERIC

    @extend_schema(
        summary="Generic monitoring alert",
        parameters=[TOKEN],
        request=inline_serializer("GenericAlert", {
            "monitor": serializers.CharField(), "state": serializers.ChoiceField(choices=["down", "up"]),
            "name": serializers.CharField(required=False), "details": serializers.CharField(required=False),
        }),
        responses={202: ALERT_RESPONSE, **error_responses(400, 401, 403, 413, 415, 503)},
    )
    def post(self, request):
        return super().post(request)
