from django.conf import settings


def organisation(request):
    return {"ORGANISATION_TIME_ZONE": settings.ORGANISATION_TIME_ZONE}
