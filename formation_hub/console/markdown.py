"""Markdown typed by people, rendered to HTML that is safe to show: the one place that does it.

Python-Markdown passes raw HTML through and keeps any link target, so its output is never trusted:
nh3 (the Rust ammonia sanitiser) then keeps an allow-list of tags and attributes, drops `on*`
handlers, `<script>`/`<style>` with their content, and links whose scheme is not http(s) or mailto
(`javascript:`, `data:`, `vbscript:`).

Images are never rendered: a remote image is a tracking pixel that tells its host who read the page and
when. `![alt](url)` shows as a link with its alt text instead.
"""

import re

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
EXTENSIONS = ["extra", "sane_lists"]


IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
IMG_ATTRIBUTE = re.compile(r'\b(src|alt)="([^"]*)"', re.IGNORECASE)


def _image_as_link(match: re.Match) -> str:
    """`<img src=u alt=a>` -> `<a href=u>a</a>` (nh3 then checks the link's scheme), or the alt text alone."""
    attributes = {name.lower(): value for name, value in IMG_ATTRIBUTE.findall(match.group(0))}
    label = attributes.get("alt") or "image"
    if attributes.get("src"):
        return f'<a href="{attributes["src"]}">{label}</a>'
    return label


def sanitize_html(html: str) -> str:
    """Keep only the allowed tags, attributes and link schemes; links get rel="noopener noreferrer nofollow"."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def render_markdown(text: str | None) -> SafeString:
    """Markdown -> sanitised HTML, ready for a template (`{{ text|markdown }}` in the apps' tag libraries)."""
    if not text:
        return mark_safe("")  # noqa: S308 - empty
    html = markdown_lib.markdown(str(text), extensions=EXTENSIONS, output_format="html")
    html = IMG_TAG.sub(_image_as_link, html)
    return mark_safe(sanitize_html(html))  # noqa: S308 - sanitised by nh3 just above
