"""Every URL the project serves, walked from the resolver, with an address to try for each."""

import re

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from formation_hub.models import Gate
from incidents.models import ActionItem, Incident, Page, PostMortem, Runbook
from releases.models import DependencyBump, Release, Story
from sync.models import Event

# Django's own console pages, tried per model by test_console_edit_pages and test_console_actions.
DJANGO_CONSOLE_PAGES = re.compile(
    r"^admin:((index|login|logout|autocomplete|jsi18n|view_on_site|app_list|password_change|password_change_done)"
    r"|\w+_(changelist|add|change|delete|history|password_change))$"
)


def _walk(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part) or None
            yield from _walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def served_url_names() -> list[str]:
    """Every named URL but Django's own console pages (unnamed ones are Django's redirects)."""
    return sorted({name for name in _walk(get_resolver().url_patterns) if not DJANGO_CONSOLE_PAGES.match(name)})


def pending_review_gate() -> Gate:
    """The demo's post-mortem review, requested by alice."""
    return Gate.objects.filter(gate_type="incidents.postmortem_review", decision="").order_by("pk").first()


def _sample_objects() -> dict[str, object]:
    return {
        "incident": Incident.objects.order_by("pk").first(),
        "post_mortem": PostMortem.objects.order_by("pk").first(),
        "item": ActionItem.objects.order_by("pk").first(),
        "runbook": Runbook.objects.order_by("pk").first(),
        "page": Page.objects.order_by("pk").first(),
        "gate": pending_review_gate(),
        "event": Event.objects.order_by("pk").first(),
        "release": Release.objects.order_by("-pk").first(),
        "story": Story.objects.order_by("pk").first(),
        "bump": DependencyBump.objects.order_by("pk").first(),
    }


def _arguments_of(name: str) -> list[str]:
    resolver = get_resolver()
    *namespaces, view_name = name.split(":")
    for namespace in namespaces:
        resolver = resolver.namespace_dict[namespace][1]
    possibilities, _pattern, _defaults, _converters = resolver.reverse_dict.getlist(view_name)[0]
    return possibilities[0][1]


def addresses() -> dict[str, str]:
    """Every served URL's name -> its address, its arguments naming rows of the demo world."""
    objects = _sample_objects()
    return {name: _address_of(name, objects) for name in served_url_names()}


def _address_of(name: str, objects: dict) -> str:
    by_argument = {
        "incident_id": objects["incident"].pk, "post_mortem_id": objects["post_mortem"].pk,
        "item_id": objects["item"].pk, "slug": objects["runbook"].slug, "page_id": objects["page"].pk,
        "gate_id": objects["gate"].pk, "event_id": objects["event"].pk, "key": objects["story"].key,
        "token": "not-a-calendar-token",
    }
    by_url = {"api-gate-decide": objects["gate"], "releases:api-checks": objects["release"],
              "releases:api-bump-ci": objects["bump"]}
    by_console_model = {"story": objects["story"], "dependencybump": objects["bump"], "release": objects["release"]}
    kwargs = {}
    for argument in _arguments_of(name):
        if argument in by_argument:
            kwargs[argument] = by_argument[argument]
        elif name in by_url:
            kwargs[argument] = by_url[name].pk
        else:  # admin:<app>_<model>_<action>/<object_id>
            kwargs[argument] = by_console_model[name.split(":")[1].split("_")[1]].pk
    return reverse(name, kwargs=kwargs)
