from urllib.parse import urlencode

from django import template
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from formation_hub.console.timefmt import format_local

register = template.Library()


@register.simple_tag
def audit_trail_url(obj) -> str:
    """The audit list filtered to one object."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    query = urlencode({"content_type__id__exact": content_type.pk, "object_id": obj.pk})
    return f"{reverse('admin:formation_hub_auditentry_changelist')}?{query}"


@register.filter
def org_time(value, pattern="%a %d %b %Y %H:%M"):
    """{{ incident.detected_at|org_time }} -> 'Mon 30 Nov 2026 12:00 (Europe/Paris)'."""
    return format_local(value, pattern)
