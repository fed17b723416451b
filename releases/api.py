"""The releases API.

- POST /api/releases/{id}/checks/: CI reports CI, E2E and backup results with the RELEASE_CHECKS_TOKEN.
- POST /api/bumps/: CI records dependency bumps (token or session auth).
- POST /api/bumps/{id}/ci/ and /api/stories/{S-01}/ci/: CI reports a run, with the RELEASE_CHECKS_TOKEN only.
- POST /api/webhooks/dependabot/: Dependabot pull requests from GitHub or Forgejo/Gitea, HMAC-signed.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from formation_hub import inbound
from formation_hub.api.errors import error_responses
from formation_hub.errors import NotAllowed
from releases import conf
from releases.delivery.bump_services import bump_ci_report, bump_create
from releases.delivery.bumps import Ecosystem, Severity
from releases.delivery.dependabot_webhook import pull_request_webhook_receive
from releases.delivery.stories import KEY, story_ci_report
from releases.models import DependencyBump, PrerequisiteReport, Release, Story
from releases.pipeline.prerequisite_reports import report_note, report_receive
from releases.selectors import release_evaluation


class CheckReportSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PrerequisiteReport.Kind.choices)
    outcome = serializers.ChoiceField(choices=PrerequisiteReport.Outcome.choices)
    sha = serializers.RegexField(r"^[0-9a-fA-F]{7,40}$", required=False, allow_blank=True, default="")
    observed_at = serializers.DateTimeField(required=False, help_text="When the run ended / the backup was verified.")
    url = serializers.URLField(required=False, allow_blank=True, default="", max_length=500)
    detail = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ChecksTokenRequired:
    """The CI token, compared in constant time; an unset token refuses everything."""

    @staticmethod
    def check(request) -> None:
        expected = conf.checks_token()
        header = request.headers.get("Authorization", "")
        given = header[len("Bearer "):] if header.startswith("Bearer ") else ""
        if not inbound.secret_matches(given, [expected] if expected else []):
            raise NotAllowed("A valid RELEASE_CHECKS_TOKEN is required as 'Authorization: Bearer <token>'.")


CHECK_STORED = inline_serializer("CheckReportStored", {
    "id": serializers.IntegerField(), "kind": serializers.CharField(), "outcome": serializers.CharField(),
    "sha": serializers.CharField(), "applies": serializers.BooleanField(), "note": serializers.CharField(),
    "prerequisites": serializers.DictField(),
})


class ReleaseChecks(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=CheckReportSerializer,
        parameters=[OpenApiParameter("Authorization", str, OpenApiParameter.HEADER, required=True,
                                     description="Bearer <RELEASE_CHECKS_TOKEN>")],
        responses={
            201: CHECK_STORED,
            202: OpenApiResponse(CHECK_STORED, description="Recorded, but for another SHA than the release's: "
                                 "'applies' is false and 'note' says why; the prerequisites are unchanged."),
            **error_responses(400, 403, 404, 409, 415),
        },
    )
    def post(self, request, pk):
        ChecksTokenRequired.check(request)
        release = get_object_or_404(Release, pk=pk)
        serializer = CheckReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = report_receive(release=release, source="api", **serializer.validated_data)
        note = report_note(release=release, report=report)
        evaluation = release_evaluation(release)
        return Response(
            {
                "id": report.pk, "kind": report.kind, "outcome": report.outcome, "sha": report.sha,
                "applies": not note, "note": note,
                "prerequisites": {result.name: result.status for result in evaluation.results},
            },
            status=status.HTTP_202_ACCEPTED if note else status.HTTP_201_CREATED,
        )


# --- delivery: dependency bumps and stories (issue 8) ----------------------------------------------------


class BumpSerializer(serializers.Serializer):
    package = serializers.CharField(max_length=200)
    ecosystem = serializers.ChoiceField(choices=Ecosystem.CHOICES)
    from_version = serializers.CharField(max_length=100)
    to_version = serializers.CharField(max_length=100)
    advisories = serializers.ListField(child=serializers.CharField(max_length=60), required=False, default=list,
                                       max_length=50, help_text="GHSA or CVE ids.")
    # Plain text checked by hand: a choice field would name a second 'severity' enum beside the incidents' one
    # in the OpenAPI schema (drf-spectacular W001).
    severity = serializers.CharField(required=False, default=Severity.NONE,
                                     help_text=f"One of: {', '.join(dict(Severity.CHOICES))}.")
    scope = serializers.ChoiceField(choices=DependencyBump.Scope.choices, required=False,
                                    default=DependencyBump.Scope.PRODUCTION)
    pull_request_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="",
                                            help_text="The same pull request never makes two bumps.")
    ci_status = serializers.ChoiceField(choices=DependencyBump.CiStatus.choices, required=False, default="")


    def validate_severity(self, value):
        if value not in dict(Severity.CHOICES):
            raise serializers.ValidationError(
                f"'{value}' is not a severity: use one of {', '.join(dict(Severity.CHOICES))}.")
        return value


class BumpStoredSerializer(serializers.ModelSerializer):
    created = serializers.BooleanField(read_only=True, default=False)
    severity = serializers.CharField(read_only=True)

    class Meta:
        model = DependencyBump
        fields = ("id", "created", "package", "ecosystem", "from_version", "to_version", "advisories", "severity",
                  "scope", "source", "pull_request_url", "category", "path", "explanation", "state", "ci_status",
                  "waiting_for")


class CiStatusSerializer(serializers.Serializer):
    # Plain text checked by hand: the same choices as 'ci_status' under another name would be a second enum.
    status = serializers.CharField(help_text=f"One of: {', '.join(DependencyBump.CiStatus.values)}.")
    head_sha = serializers.RegexField(r"^[0-9a-fA-F]{7,40}$", required=False, allow_blank=True, default="",
                                      help_text="Stories only: the commit CI ran on.")
    detail = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate_status(self, value):
        if value not in DependencyBump.CiStatus.values:
            raise serializers.ValidationError(
                f"'{value}' is not a CI status: use one of {', '.join(DependencyBump.CiStatus.values)}.")
        return value


class MayAddBumps(BasePermission):
    message = "Recording a bump needs the 'add dependency bump' permission (release approvers and admins)."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated
                    and request.user.has_perm("releases.add_dependencybump"))




def _stored(bump: DependencyBump, created: bool) -> dict:
    data = BumpStoredSerializer(bump).data
    data["created"] = created
    return data


class BumpCreate(APIView):
    """CI records a dependency bump (token or session auth); the same pull request answers the existing bump."""

    permission_classes = [MayAddBumps]

    @extend_schema(
        operation_id="bump_create", request=BumpSerializer,
        responses={
            201: BumpStoredSerializer,
            200: OpenApiResponse(BumpStoredSerializer, description="This pull request's bump, already known."),
            **error_responses(400, 401, 403, 409, 415),
        },
    )
    def post(self, request):
        serializer = BumpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        intake = bump_create(source=DependencyBump.Source.API, user=request.user, **serializer.validated_data)
        return Response(_stored(intake.bump, intake.created),
                        status=status.HTTP_201_CREATED if intake.created else status.HTTP_200_OK)


CI_TOKEN_PARAMETER = OpenApiParameter("Authorization", str, OpenApiParameter.HEADER, required=True,
                                      description="Bearer <RELEASE_CHECKS_TOKEN>")


class BumpCi(APIView):
    """CI's result, from CI only: the CI credential, never a person's session or token (a person who could
    report green could merge alone what they just recorded)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="bump_ci_report", request=CiStatusSerializer, parameters=[CI_TOKEN_PARAMETER],
                   responses={200: BumpStoredSerializer, **error_responses(400, 403, 404, 409, 415)})
    def post(self, request, pk):
        ChecksTokenRequired.check(request)
        bump = get_object_or_404(DependencyBump, pk=pk)
        serializer = CiStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        bump = bump_ci_report(bump=bump, status=serializer.validated_data["status"])
        return Response(_stored(bump, False))


class StoryCi(APIView):
    """CI's result on a story's pull request, from CI only (as BumpCi)."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(operation_id="story_ci_report", request=CiStatusSerializer, parameters=[CI_TOKEN_PARAMETER],
                   responses={200: inline_serializer("StoryCiStored", {"id": serializers.CharField(),
                                                                      "step": serializers.IntegerField(),
                                                                      "ci_status": serializers.CharField()}),
                              **error_responses(400, 403, 404, 409, 415)})
    def post(self, request, key):
        ChecksTokenRequired.check(request)
        match = KEY.match(key)
        if match is None:
            raise NotFound("No story with this id: story ids look like S-01.")
        story = get_object_or_404(Story, number=int(match[1]))
        serializer = CiStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        story = story_ci_report(story=story, status=data["status"], head_sha=data["head_sha"],
                                detail=data["detail"])
        return Response({"id": story.key, "step": story.step, "ci_status": story.ci_status})


class PullRequestWebhook(APIView):
    """Dependabot pull requests from GitHub or Forgejo/Gitea, signed with DEPENDABOT_WEBHOOK_SECRET."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = []
    throttle_classes = []

    @extend_schema(
        operation_id="dependabot_webhook", request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("X-Hub-Signature-256", str, OpenApiParameter.HEADER, required=False,
                             description="GitHub: sha256=<HMAC-SHA256 of the body>"),
            OpenApiParameter("X-Forgejo-Signature", str, OpenApiParameter.HEADER, required=False,
                             description="Forgejo: <HMAC-SHA256 of the body, hex>"),
            OpenApiParameter("X-Gitea-Signature", str, OpenApiParameter.HEADER, required=False,
                             description="Gitea: <HMAC-SHA256 of the body, hex>"),
        ],
        responses={201: OpenApiResponse(OpenApiTypes.OBJECT, description="Bump created."),
                   200: OpenApiResponse(OpenApiTypes.OBJECT, description="Known bump, updated bump, or ignored."),
                   **error_responses(401, 409, 413, 415, 422, 503, _401="Missing or wrong signature.",
                                     _409="A repeated delivery, or one older than the last accepted for its "
                                          "pull request.",
                                     _413="Body over BUMP_WEBHOOK_MAX_BYTES.",
                                     _415="Not application/json (set the webhook's content type to JSON).",
                                     _422="A Dependabot pull request whose bump cannot be read.",
                                     _503="The database stayed unreachable; the forge should retry.")},
        auth=[],
    )
    def post(self, request):
        try:
            body = inbound.body_read(request, limit=conf.bump_webhook_max_bytes(), setting="BUMP_WEBHOOK_MAX_BYTES")
            inbound.content_type_check(request, ("application/json",), body=body)
            answer = inbound.with_database_retry(
                lambda: pull_request_webhook_receive(body=body, headers=request.headers,
                                                     remote_addr=request.META.get("REMOTE_ADDR", "")),
                budget_seconds=inbound.database_retry_seconds(), what="a Dependabot delivery",
            )
        except inbound.InboundRefused as refused:
            return refused.response()
        return Response(answer.body, status=answer.status)
