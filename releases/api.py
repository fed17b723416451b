"""POST /api/releases/{id}/checks/: CI reports CI, E2E and backup results with the RELEASE_CHECKS_TOKEN."""

import hmac

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from formation_hub.errors import NotAllowed
from releases import conf
from releases.models import PrerequisiteReport, Release
from releases.selectors import release_evaluation
from releases.services import report_receive


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
        if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise NotAllowed("A valid RELEASE_CHECKS_TOKEN is required as 'Authorization: Bearer <token>'.")


class ReleaseChecks(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=CheckReportSerializer,
        parameters=[OpenApiParameter("Authorization", str, OpenApiParameter.HEADER, required=True,
                                     description="Bearer <RELEASE_CHECKS_TOKEN>")],
        responses={201: inline_serializer("CheckReportStored", {
            "id": serializers.IntegerField(), "kind": serializers.CharField(), "outcome": serializers.CharField(),
            "sha": serializers.CharField(), "prerequisites": serializers.DictField(),
        })},
    )
    def post(self, request, pk):
        ChecksTokenRequired.check(request)
        release = get_object_or_404(Release, pk=pk)
        serializer = CheckReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report = report_receive(release=release, source="api", **serializer.validated_data)
        evaluation = release_evaluation(release)
        return Response(
            {
                "id": report.pk, "kind": report.kind, "outcome": report.outcome, "sha": report.sha,
                "prerequisites": {result.name: result.status for result in evaluation.results},
            },
            status=status.HTTP_201_CREATED,
        )
