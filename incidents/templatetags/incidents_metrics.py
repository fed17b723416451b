from django import template

from formation_hub.business_hours import format_duration

register = template.Library()


@register.filter
def duration_short(value):
    """A timedelta as '2 h 14 min'; '-' when there is no figure."""
    return "-" if value is None else format_duration(value)
