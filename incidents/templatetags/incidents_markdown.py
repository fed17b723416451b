from django import template

from formation_hub.console.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text):
    """{{ post_mortem.root_cause|markdown }}: markdown typed by people, rendered and sanitised."""
    return render_markdown(text)
