from django.utils import timezone

from formation_hub.console.timefmt import organisation_zone
from formation_hub.observability.correlation import correlation


class CorrelationIdMiddleware:
    """Tags the request with a correlation id of the server's own for the audit trail, returned as
    X-Request-ID. A caller's X-Request-ID is never taken: it would let anyone file their actions under
    another request's id (issue 17)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with correlation(None) as correlation_id:
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
