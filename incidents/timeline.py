"""The incident timeline's single writer."""

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from incidents.models import Incident, TimelineEntry


def timeline_add(*, incident: Incident, kind: str, text: str, user=None, author_label: str = "system", time=None):
    if isinstance(user, AnonymousUser):
        user = None
    return TimelineEntry.objects.create(
        incident=incident, kind=kind, text=text, author=user,
        author_label=user.get_username() if user is not None else author_label, time=time or timezone.now(),
    )
