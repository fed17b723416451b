import re

from django.utils import timezone

from formation_hub.context import correlation
from formation_hub.timefmt import organisation_zone

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class CorrelationIdMiddleware:
    """Tags the request with X-Request-ID (kept when the caller sent a sane one) for the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        with correlation(incoming if _VALID_REQUEST_ID.match(incoming) else None) as correlation_id:
            request.correlation_id = correlation_id
            response = self.get_response(request)
        response["X-Request-ID"] = correlation_id
        return response


class OrganisationTimeZoneMiddleware:
    """Forms and the console read and show times in the organisation's zone (storage stays UTC)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with timezone.override(organisation_zone()):
            return self.get_response(request)
