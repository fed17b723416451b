"""The core's landing-page panels, and helpers for the apps' panels: charts and counting-down clocks.

The core never imports an app: an app feeds `chart_panel` with its own selector (docs/console.md).
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils import timezone

from formation_hub.access.permissions import holds
from formation_hub.business_hours import format_duration
from formation_hub.console.charts import Bar, grouped_bar_chart, stacked_bar_chart
from formation_hub.console.dashboard import Panel
from formation_hub.console.timefmt import organisation_zone, to_local
from formation_hub.gates.decisions import gate_types, gates_waiting_for, get_gate_type
from formation_hub.observability.health import run_checks

AMBER_UNDER = timedelta(hours=1)
RED_UNDER = timedelta(minutes=30)
GATES_SHOWN = 10


@dataclass(frozen=True)
class Countdown:
    """A deadline as the console shows it; console.js keeps the text and colour current.

    Render it with {% include "admin/panels/console_countdown.html" with countdown=... %}.
    """

    deadline: datetime
    text: str
    level: str  # "ok", "amber", "red", "breached"
    prefix: str = ""

    @property
    def iso(self) -> str:
        return self.deadline.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def css(self) -> str:
        return {"amber": "ops-amber", "red": "ops-red", "breached": "ops-red"}.get(self.level, "")


def countdown(deadline: datetime, *, now: datetime | None = None, prefix: str = "") -> Countdown:
    """'2 h 14 min left' (amber under 1 h, red under 30 min), '5 min overdue' once past (wall-clock time)."""
    left = deadline - (now or timezone.now())
    if left <= timedelta(0):
        return Countdown(deadline, f"{format_duration(left)} overdue", "breached", prefix)
    level = "red" if left < RED_UNDER else "amber" if left < AMBER_UNDER else "ok"
    return Countdown(deadline, f"{format_duration(left)} left", level, prefix)


def hourly_counts(
    queryset, *, time_field: str, segment_field: str, hours: int = 24, now: datetime | None = None
) -> list[Bar]:
    """Rows of queryset per hour (in the organisation's zone) and per value of segment_field, over the
    last `hours` hours, the current hour last, empty hours included: one grouped query."""
    zone = organisation_zone()
    current = to_local(now or timezone.now()).replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    starts = [current - timedelta(hours=back) for back in range(hours - 1, -1, -1)]
    rows = (
        queryset.filter(**{f"{time_field}__gte": starts[0]})
        .order_by()
        .annotate(bucket=TruncHour(time_field, tzinfo=zone))
        .values_list("bucket", segment_field)
        .annotate(n=Count("pk"))
    )
    counts: dict[datetime, dict[str, int]] = defaultdict(dict)
    for bucket, segment, n in rows:
        counts[bucket.astimezone(UTC)][segment] = n
    return [Bar(to_local(start).strftime("%H:00"), counts.get(start, {})) for start in starts]


def chart_panel(
    *,
    name: str,
    title: str,
    bars: Callable[[object], list[Bar]],
    segments: Sequence[str],
    order: int = 300,
    unit: str = "",
    grouped: bool = False,
    list_url: Callable[[], str] | str = "",
    permission: str = "",
    caption: str = "",
    colors: dict[str, str] | None = None,
    labels_are_times: bool = False,
) -> Panel:
    """A landing-page panel drawing `bars(request)` as a stacked (or, grouped=True, side-by-side) SVG
    bar chart, with its figures in a table for screen readers and people who want the numbers.

    `permission` ("app.view_model") hides the panel from users who may not see the data behind it;
    `list_url` (a URL or a function returning one) is the list the panel's title links to;
    `labels_are_times` names the organisation's zone after each label of the figures table.
    """
    draw = grouped_bar_chart if grouped else stacked_bar_chart

    def context(request):
        if permission and not request.user.has_perm(permission):
            return None
        drawn = bars(request)
        return {
            "chart": draw(drawn, segments=list(segments), title=title, unit=unit, colors=colors),
            "segments": list(segments),
            "rows": [(bar.label, [bar.values.get(segment) for segment in segments]) for bar in drawn],
            "unit": unit,
            "caption": caption,
            "label_zone": labels_are_times,
            "list_url": list_url() if callable(list_url) else list_url,
        }

    return Panel(name=name, title=title, template="admin/panels/console_chart.html", context=context, order=order)


def _health_context(request):
    results = run_checks()
    counted = [result for result in results.values() if result.counts]
    passing = sum(1 for result in counted if result.status == "ok")
    return {
        "results": results,
        "summary": f"{passing}/{len(counted)} OK",
        "healthy": passing == len(counted),
        "attention": len(counted) - passing,
        "list_url": reverse("healthz"),
    }


health_panel = Panel(
    name="health", title="Health", template="admin/panels/health.html", context=_health_context, order=900
)


def _gates_context(request):
    waiting = gates_waiting_for(request.user)
    if not waiting and not any(holds(request.user, kind.permission) for kind in gate_types().values()):
        return None  # this user decides no kind of gate: the panel would only be noise
    return {
        "gates": [
            {
                "gate": gate,
                "label": get_gate_type(gate.gate_type).label,
                "decide_url": reverse("admin:formation_hub_gate_decide", args=[gate.pk]),
                "waiting_for": format_duration(timezone.now() - gate.requested_at),
            }
            for gate in waiting[:GATES_SHOWN]
        ],
        "count": len(waiting),
        "more": max(len(waiting) - GATES_SHOWN, 0),
        "attention": len(waiting),
        "list_url": reverse("admin:formation_hub_gate_changelist") + "?waiting=me",
    }


gates_panel = Panel(
    name="gates", title="Gates waiting for you", template="admin/panels/gates.html", context=_gates_context, order=20
)
