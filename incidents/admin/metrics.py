"""The console's incident metrics page: incidents per month by severity, and the times to acknowledge
and to resolve (median, then up to p90), drawn from `incidents.response.metrics`."""

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from formation_hub.console.charts import Bar, stacked_bar_chart
from incidents.models import Severity
from incidents.response.metrics import incident_metrics, last_months


def incident_metrics_page(model_admin, request):
    """`/admin/incidents/incident/metrics/`, served by the incident admin for its permission."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    try:
        count = min(max(int(request.GET.get("months", 6)), 1), 24)
    except ValueError:
        count = 6
    metrics = incident_metrics(months=last_months(count))
    severities = [severity.value for severity in Severity]
    labels = {month: f"{month:%b %Y}" for month in metrics.months}
    per_month = {month: {} for month in metrics.months}
    for row in metrics.rows:
        per_month[row.month][row.severity] = row
    incidents_chart = stacked_bar_chart(
        [Bar(labels[month], {sev: per_month[month][sev].incidents for sev in severities})
         for month in metrics.months],
        segments=severities, title="Incidents per month by severity",
        colors={"SEV1": "#b42318", "SEV2": "#b54708", "SEV3": "#2f6f9f"},
    )
    spread = {"median": "#2f6f9f", "up to p90": "#b3c7dc"}
    acknowledge_chart = stacked_bar_chart(
        [Bar(labels[total.month], _spread(total.acknowledge, 60)) for total in metrics.totals],
        segments=list(spread), colors=spread, unit=" min",
        title="Time to acknowledge per month, all severities (minutes): median, then up to p90",
    )
    resolve_chart = stacked_bar_chart(
        [Bar(labels[total.month], _spread(total.resolve, 3600)) for total in metrics.totals],
        segments=list(spread), colors=spread, unit=" h",
        title="Time to resolve per month, all severities (hours): median, then up to p90",
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Incident metrics",
        "opts": model_admin.model._meta,
        "metrics": metrics,
        "months": count,
        "month_choices": (3, 6, 12, 24),
        "incidents_chart": incidents_chart,
        "acknowledge_chart": acknowledge_chart,
        "resolve_chart": resolve_chart,
    }
    return TemplateResponse(request, "admin/incidents/metrics.html", context)


def _spread(stats, unit_seconds: int) -> dict[str, float]:
    if stats.median is None:
        return {}
    median = round(stats.median.total_seconds() / unit_seconds, 1)
    p90 = round(stats.p90.total_seconds() / unit_seconds, 1)
    return {"median": median, "up to p90": round(p90 - median, 1)}
