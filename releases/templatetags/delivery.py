"""Template filters of the delivery pages: Gherkin acceptance criteria shown formatted, never as raw HTML."""

import re

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

KEYWORD = re.compile(
    r"^(\s*)(Feature|Rule|Background|Scenario Outline|Scenario Template|Scenario|Example|Examples|Given|When|Then|"
    r"And|But|Fonctionnalité|Scénario|Contexte|Soit|Étant donné|Quand|Lorsque|Alors|Et|Mais|\*)(:?)(\s|$)(.*)$"
)


@register.filter
def gherkin(text: str | None) -> SafeString:
    """Each line escaped; its Gherkin keyword in <strong>, comments and tables kept as written."""
    if not text:
        return mark_safe("")  # noqa: S308 - empty
    lines = []
    for line in str(text).splitlines():
        match = KEYWORD.match(line)
        if match is None:
            lines.append(format_html('<span class="gherkin-line">{}</span>', line))
            continue
        indent, keyword, colon, space, rest = match.groups()
        lines.append(format_html(
            '<span class="gherkin-line">{}<strong class="gherkin-keyword">{}{}</strong>{}{}</span>',
            indent, keyword, colon, space, rest,
        ))
    body = "\n".join(conditional_escape(line) for line in lines)
    return format_html('<pre class="gherkin">{}</pre>', mark_safe(body))  # noqa: S308 - every line built by format_html
