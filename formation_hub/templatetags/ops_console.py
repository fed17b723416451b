from urllib.parse import urlencode

from django import template
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

register = template.Library()


@register.simple_tag
def audit_trail_url(obj) -> str:
    """The audit list filtered to one object."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    query = urlencode({"content_type__id__exact": content_type.pk, "object_id": obj.pk})
    return f"{reverse('admin:formation_hub_auditentry_changelist')}?{query}"
