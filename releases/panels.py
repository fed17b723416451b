from django.db.models import Count
from django.urls import reverse

from formation_hub.access.permissions import holds, may
from formation_hub.console.dashboard import Panel
from formation_hub.gates.decisions import can_decide, get_gate_type
from formation_hub.models import Gate
from releases.delivery.bump_services import BUMP_GATES
from releases.delivery.stories import DECIDE_DELIVERY_GATE, STORY_GATES
from releases.models import DependencyBump, Release
from releases.pipeline.state import ROLLBACK_RELEASE, ROLLBACKABLE
from releases.selectors import next_step, release_in_flight


def _context(request):
    release = release_in_flight()
    if release is None:
        return {"release": None, "add_url": reverse("admin:releases_release_add")}
    gate = (
        Gate.objects.filter(object_id=str(release.pk), state=Gate.State.PENDING, gate_type__startswith="releases.")
        .exclude(gate_type="releases.override").first()
    )
    rollback_waits = release.rollback_proposed_at is not None and release.status in ROLLBACKABLE
    user = request.user
    may_roll_back = may(user, ROLLBACK_RELEASE)
    return {
        "release": release,
        "rollback_waits": rollback_waits,
        "attention": int(rollback_waits and may_roll_back),
        "next_step": next_step(release),
        "url": reverse("admin:releases_release_change", args=[release.pk]),
        "gate": gate,
        "gate_label": get_gate_type(gate.gate_type).label if gate else "",
        "gate_url": reverse("admin:formation_hub_gate_decide", args=[gate.pk]) if gate else "",
        "may_decide": can_decide(gate=gate, user=request.user) if gate else False,
        "status_label": Release.Status(release.status).label,
    }


release_in_flight_panel = Panel(
    name="releases", title="Release in flight", template="admin/panels/releases_in_flight.html", context=_context,
    order=400,
)


def _delivery_context(request):
    """Delivery at a glance: story and bump gates waiting, bumps queued over the limit."""
    gate_types = (*STORY_GATES, *BUMP_GATES)
    pending = Gate.objects.filter(state=Gate.State.PENDING, gate_type__in=gate_types)
    counts = dict(pending.values_list("gate_type").annotate(count=Count("pk")).values_list("gate_type", "count"))
    mine = 0
    if holds(request.user, DECIDE_DELIVERY_GATE):
        mine = pending.exclude(requested_by=request.user).count()
    bumps = dict(DependencyBump.objects.exclude(state__in=DependencyBump.FINAL_STATES).values_list("state")
                 .annotate(count=Count("pk")).values_list("state", "count"))
    return {
        "story_gates": sum(counts.get(name, 0) for name in STORY_GATES),
        "bump_gates": sum(counts.get(name, 0) for name in BUMP_GATES),
        "bumps_approved": bumps.get(DependencyBump.State.APPROVED, 0),
        "bumps_queued": bumps.get(DependencyBump.State.QUEUED, 0),
        "board_url": reverse("admin:releases_story_board"),
        "queue_url": reverse("admin:releases_dependencybump_review_queue"),
        "attention": mine,
        "list_url": reverse("admin:releases_dependencybump_review_queue"),
    }


delivery_panel = Panel(
    name="releases_delivery", title="Delivery: stories and bumps", template="admin/panels/releases_delivery.html",
    context=_delivery_context, order=410,
)
