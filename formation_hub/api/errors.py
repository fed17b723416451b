"""API plumbing shared by every app: JSON errors everywhere under /api/."""

from django.core.exceptions import SuspiciousOperation, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from formation_hub import inbound
from formation_hub.errors import DomainError


class ErrorSerializer(serializers.Serializer):
    """The shape of every API error."""

    error = serializers.CharField(help_text="What is wrong, for a person.")
    detail = serializers.JSONField(required=False, help_text="Per-field messages, when there are several.")


ERROR_MEANINGS = {
    400: "Bad input, named in the message.",
    401: "Not signed in (token or session), or a missing or wrong secret.",
    403: "Signed in without the permission, or a wrong token.",
    404: "No such object.",
    409: "Refused in the current state; the message says why.",
    413: "Body over the size limit.",
    415: "Not JSON.",
    422: "Well-formed but unusable; the message says why.",
    503: "A service it depends on is unavailable; try again.",
}


def error_responses(*codes: int, **descriptions: str) -> dict:
    """OpenAPI answers for an endpoint's error codes, each a JSON {"error": ...}; `_401="..."` overrides
    a description."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=descriptions.get(f"_{code}", ERROR_MEANINGS[code]))
        for code in codes
    }


def _message_from(detail) -> str:
    if isinstance(detail, dict):
        if "detail" in detail:
            return str(detail["detail"])
        parts = []
        for field, value in detail.items():
            text = "; ".join(str(item) for item in value) if isinstance(value, list) else str(value)
            parts.append(f"{field}: {text}")
        return " ".join(parts)
    if isinstance(detail, list):
        return "; ".join(str(item) for item in detail)
    return str(detail)


def exception_handler(exc, context):
    """Every API error is JSON: {"error": "<what is wrong, for a person>", "detail": ...}."""
    if isinstance(exc, DomainError):
        return Response({"error": exc.message}, status=exc.status_code)
    if isinstance(exc, ValidationError):
        return Response({"error": "; ".join(exc.messages), "detail": exc.messages}, status=400)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    response.data = {"error": _message_from(detail)}
    if isinstance(detail, dict) and "detail" not in detail:
        response.data["detail"] = detail
    return response


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the inbound webhooks' strictness: 100,000-deep JSON, NaN or bad UTF-8 is a
    JSON 400 naming the problem, never a RecursionError (500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return inbound.json_parse(stream.read() if stream is not None else b"")
        except inbound.InboundRefused as refused:
            raise ParseError(refused.message) from refused


def json_error(request, message: str, status_code: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status_code)


def handler400(request, exception=None):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB of form data) and other bad requests: JSON under /api/."""
    if request.path.startswith("/api/"):
        return json_error(request, f"Bad request: {exception or 'the request cannot be read'}.",
                          status.HTTP_400_BAD_REQUEST)
    return defaults.bad_request(request, exception or SuspiciousOperation())


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error(request, "Not found.", status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception or Http404())


def handler500(request):
    if request.path.startswith("/api/"):
        return json_error(request, "Internal error; it has been logged.", status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)


def handler403(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error(request, "You are not allowed to do this.", status.HTTP_403_FORBIDDEN)
    return render(request, "403.html", refusal_context(request, exception), status=status.HTTP_403_FORBIDDEN)


def refusal_context(request, exception=None) -> dict:
    """Why a page was refused (the PermissionDenied message, when there is one) and a way back: the page
    the person came from, when it is on this site, else their home (`/`)."""
    reason = str(exception or "").strip() or "Your role does not allow this page or action."
    came_from = request.headers.get("Referer", "")
    safe = came_from and url_has_allowed_host_and_scheme(
        came_from, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    back = came_from if safe and came_from != request.build_absolute_uri() else "/"
    return {"title": "Not allowed", "reason": reason, "back_url": back}
