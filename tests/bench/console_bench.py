"""make bench-console: is the console fast with a million sync events?

Creates a throwaway PostgreSQL database, migrates it, loads 1,000,000 sync events (with 1.2 million
items), 100,000 audit entries and 20,000 incidents with INSERT ... SELECT generate_series (one seed
row per table is written through the ORM, so every column gets a valid value and a column added
later needs no change here), then renders the landing page and every changelist of the console
with Django's test client, signed in as a member of the admin group, and prints the median and 95th
percentile times and the number of queries per page (at 20 and at 100 rows a page: the count must
not grow with the page size). The database is dropped at the end, even after an error.

    make bench-console                       # or: .venv/bin/python -m tests.bench.console_bench
    BENCH_EVENTS=100000 make bench-console   # a smaller run
    BENCH_POSTGRES=postgres://postgres@127.0.0.1:5432 (server, trust auth), BENCH_RUNS=15,
    BENCH_KEEP=1 keeps the database afterwards to EXPLAIN the slow queries by hand.
"""

import os
import statistics
import sys
import time
from datetime import timedelta

SERVER = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DATABASE = f"fh_bench_{os.getpid()}"
EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
AUDIT_ENTRIES = int(os.environ.get("BENCH_AUDIT_ENTRIES", "100000"))
INCIDENTS = int(os.environ.get("BENCH_INCIDENTS", "20000"))
RUNS = int(os.environ.get("BENCH_RUNS", "15"))
KEEP = os.environ.get("BENCH_KEEP") == "1"  # keep the database to EXPLAIN by hand (drop it yourself)
TARGET_MS = 300

os.environ["DATABASE_URL"] = f"{SERVER}/{DATABASE}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "formation_hub.settings")

import django  # noqa: E402 - the database must be chosen before Django reads its settings
import psycopg  # noqa: E402


def server_sql(statement: str) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as connection:
        connection.execute(statement)


def main() -> int:
    server_sql(f'CREATE DATABASE "{DATABASE}"')
    print(f"== throwaway database {DATABASE}")
    try:
        django.setup()
        return run()
    finally:
        from django.db import connections

        connections.close_all()
        if KEEP:
            print(f"== kept {DATABASE}: psql -h 127.0.0.1 -U postgres {DATABASE}; drop it when done")
        else:
            server_sql(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            print(f"== dropped {DATABASE}")


def run() -> int:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - started:.1f} s")
    user = load()
    rows = measure(user)
    print_table(rows)
    panel_times(user)
    slow = [row for row in rows if row["median"] > TARGET_MS or row["queries_20"] != row["queries_100"]]
    print(f"\n{len(rows) - len(slow)}/{len(rows)} pages under {TARGET_MS} ms at the median with a query count "
          "that does not grow with the page size.")
    return 0


def timed(label: str):
    class Timer:
        def __enter__(self):
            self.started = time.perf_counter()

        def __exit__(self, *exc):
            print(f"  {label}: {time.perf_counter() - self.started:.1f} s", flush=True)

    return Timer()


def clone(cursor, table: str, seed_id: int, overrides: dict[str, str], rows_from: str, where: str = "true") -> None:
    """INSERT INTO table a copy of the seed row `s` per row of `rows_from` (a FROM list), with
    `overrides` (column -> SQL expression) computed per row; other columns keep the seed's value."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id' "
        "ORDER BY ordinal_position",
        [table],
    )
    columns = [name for (name,) in cursor.fetchall()]
    unknown = set(overrides) - set(columns)
    if unknown:
        raise SystemExit(f"{table} has no column(s) {sorted(unknown)}: update tests/bench/console_bench.py")
    names = ", ".join(f'"{name}"' for name in columns)
    values = ", ".join(overrides.get(name, f's."{name}"') for name in columns)
    cursor.execute(
        f'INSERT INTO "{table}" ({names}) SELECT {values} '  # noqa: S608 - names from the catalogue, no input
        f'FROM {rows_from}, "{table}" s WHERE s.id = {int(seed_id)} AND ({where})'
    )


def load():
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from formation_hub.audit import audit_record
    from incidents.models import Incident, Severity, Source
    from sync.models import Event, EventItem, LogicalTable, TableMapping
    from tests.factories import UserFactory

    user = UserFactory(username="bench-admin")
    user.groups.add(Group.objects.get(name="admin"))
    now = timezone.now()
    mappings = [
        TableMapping.objects.create(baserow_table_id=600 + index, logical_table=value)
        for index, value in enumerate(LogicalTable.values[:4])
    ]
    seed_event = Event.objects.create(
        event_id="seed", event_type="rows.updated", table_id=600, received_at=now, state=Event.State.PROCESSED,
        raw_body='{"table_id": 600, "event_type": "rows.updated", "items": [{"id": 1, "Nom": "x"}]}' * 4,
        headers={"Content-Type": "application/json", "X-Baserow-Webhook": "1"}, row_count=1, webhook_id=1,
    )
    seed_item = EventItem.objects.create(
        event=seed_event, position=0, row_id=1, entity_key="baserow:600:1", data={"id": 1, "Nom": "x"},
        state=EventItem.State.PROCESSED, created_at=now, processed_at=now,
    )
    seed_audit = audit_record(action="sync.event.processed", target=seed_event, message="seed")
    seed_incident = Incident.objects.create(
        title="seed", severity=Severity.SEV2, source=Source.ALERT, service="docmost", category="down",
        detected_at=now, respond_by=now + timedelta(hours=4), status="closed",
    )
    first_mapping = min(mapping.pk for mapping in mappings)
    event_ct = ContentType.objects.get_for_model(Event).pk
    print(f"== loading {EVENTS:,} events, {AUDIT_ENTRIES:,} audit entries, {INCIDENTS:,} incidents", flush=True)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Events every 5 s back from now: the last hour holds 720, the last day 17,280.
        state = (
            "CASE WHEN g < 20 THEN 'received' WHEN g % 1000 = 0 THEN 'dead' WHEN g % 1000 < 6 THEN 'failed' "
            "WHEN g % 1000 < 100 THEN 'ignored' ELSE 'processed' END"
        )
        with timed("sync events"):
            clone(cursor, "sync_event", seed_event.pk, {
                "event_id": "md5(g::text)",
                "event_type": "(ARRAY['rows.created','rows.updated','rows.deleted'])[1 + g % 3]",
                "table_id": "600 + g % 5",
                "mapping_id": f"CASE WHEN g % 5 < 4 THEN {first_mapping} + g % 5 END",
                "state": state,
                "received_at": "now() - g * interval '5 seconds'",
                "processed_at": "now() - g * interval '5 seconds' + interval '1 second'",
                "attempts": "1 + (g % 1000 < 6)::int * 3",
            }, f"generate_series(1, {EVENTS}) AS g")
        item_state = (
            "CASE e.state WHEN 'dead' THEN 'dead' WHEN 'failed' THEN 'failed' WHEN 'ignored' THEN 'ignored' "
            "WHEN 'received' THEN 'pending' ELSE 'processed' END"
        )
        with timed("sync event items"):
            clone(cursor, "sync_eventitem", seed_item.pk, {
                "event_id": "e.id", "position": "p", "row_id": "e.id % 5000 + p",
                "entity_key": "'baserow:' || e.table_id || ':' || (e.id % 5000 + p)", "state": item_state,
                "created_at": "e.received_at", "processed_at": "e.processed_at",
            }, "sync_event e CROSS JOIN generate_series(0, 1) AS p",
               f"e.id <> {seed_event.pk} AND (p = 0 OR e.id % 5 = 0)")
        with timed("audit entries"):
            clone(cursor, "formation_hub_auditentry", seed_audit.pk, {
                "time": "now() - g * interval '50 seconds'",
                "action": "(ARRAY['sync.event.processed','sync.event.failed','gate.decided','incident.acknowledged',"
                          "'notification.sent'])[1 + g % 5]",
                "actor_label": "(ARRAY['sync-worker','ada','olga','system'])[1 + g % 4]",
                "content_type_id": str(event_ct), "object_id": "(g * 7)::text",
                "object_repr": "'rows.updated #' || g * 7",
                "result": "CASE WHEN g % 50 = 0 THEN 'failed' WHEN g % 97 = 0 THEN 'refused' ELSE 'ok' END",
                "correlation_id": "md5(g::text)",
            }, f"generate_series(1, {AUDIT_ENTRIES - 1}) AS g")
        with timed("incidents"):
            # Two years of incidents, the five newest still open.
            clone(cursor, "incidents_incident", seed_incident.pk, {
                "title": "'Incident ' || g", "severity": "'SEV' || (1 + g % 3)",
                "service": "(ARRAY['docmost','baserow','sync','mail'])[1 + g % 4]",
                "status": "CASE WHEN g <= 5 THEN 'investigating' ELSE 'closed' END",
                "detected_at": "now() - g * interval '52 minutes'",
                "respond_by": "now() - g * interval '52 minutes' + interval '4 hours'",
                "acknowledged_at": "now() - g * interval '52 minutes' + (g % 90) * interval '1 minute'",
                "resolved_at": "CASE WHEN g > 5 THEN now() - g * interval '52 minutes' + interval '3 hours' END",
                "closed_at": "CASE WHEN g > 5 THEN now() - g * interval '52 minutes' + interval '4 hours' END",
                "breached": "g % 40 = 0",
            }, f"generate_series(1, {INCIDENTS - 1}) AS g")
        with timed("vacuum analyze"):
            for table in ("sync_event", "sync_eventitem", "formation_hub_auditentry", "incidents_incident"):
                cursor.execute(f'VACUUM ANALYZE "{table}"')
    print(f"loaded in {time.perf_counter() - started:.0f} s: {Event.objects.count():,} events, "
          f"{EventItem.objects.count():,} items", flush=True)
    return user


def proposed_panels():
    """The charts the sync and incidents apps are asked to register (docs/console.md), measured as
    part of the landing page."""
    from django.urls import reverse

    from formation_hub.console.charts import Bar
    from formation_hub.console.dashboard import register_panel
    from formation_hub.console.panels import chart_panel, hourly_counts
    from sync.models import Event

    register_panel(chart_panel(
        name="sync_events_per_hour", title="Sync events per hour (24 h)", order=210,
        segments=["processed", "ignored", "failed", "dead", "received", "processing"],
        bars=lambda request: hourly_counts(Event.objects.all(), time_field="received_at", segment_field="state"),
        list_url=lambda: reverse("admin:sync_event_changelist"), permission="sync.view_event",
    ))
    try:
        from incidents.response.metrics import incident_metrics, last_months
    except ImportError:
        print("  (incidents.response.metrics not there: the time to acknowledge chart is not measured)")
        return

    def time_to_acknowledge(request):
        figures = incident_metrics(months=last_months(6))
        return [
            Bar(f"{month:%Y-%m}", {
                severity: (row.acknowledge.median.total_seconds() / 60 if row.acknowledge.median else None)
                for severity in ("SEV1", "SEV2", "SEV3")
                for row in [figures.row(month, severity)]
            })
            for month in figures.months
        ]

    register_panel(chart_panel(
        name="incidents_time_to_acknowledge", title="Time to acknowledge (median, minutes)", order=320,
        grouped=True, segments=["SEV1", "SEV2", "SEV3"], bars=time_to_acknowledge, unit=" min",
        permission="incidents.view_incident",
    ))


def panel_times(user) -> None:
    """Each landing-page panel's own time (median of 5), to find the slow one."""
    from django.test import RequestFactory

    from formation_hub.console.dashboard import panels_for

    request = RequestFactory().get("/admin/")
    request.user = user
    runs = [panels_for(request) for _ in range(5)]
    print("\nlanding page panels (median of 5 runs):")
    for index, item in enumerate(runs[0]):
        median = statistics.median(run[index].elapsed_ms for run in runs)
        print(f"  {item.panel.name:<34} {median:7.1f} ms{'  FAILED' if item.failed else ''}")


def measure(user):
    from django.contrib import admin
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    proposed_panels()
    client = Client()
    client.force_login(user)
    pages = [("landing page", "/admin/", None)] + [
        (model._meta.label_lower, reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"),
         model_admin)
        for model, model_admin in sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower)
    ]
    rows = []
    print(f"== measuring {len(pages)} pages, {RUNS} runs each", flush=True)
    for label, url, model_admin in pages:
        counts = {}
        for per_page in (20, 100):
            if model_admin is not None:
                model_admin.list_per_page = per_page
            with CaptureQueriesContext(connection) as captured:
                status = client.get(url).status_code
            counts[per_page] = len(captured)
        slowest = sorted(captured.captured_queries, key=lambda query: -float(query["time"]))[:3]
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            if times[0] > 3000 and len(times) >= 3:
                break  # a page this slow is measured well enough
        times.sort()
        rows.append({
            "page": label, "url": url, "status": status, "median": statistics.median(times),
            "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], "runs": len(times),
            "queries_20": counts[20], "queries_100": counts[100], "slowest": slowest,
        })
        print(f"  {label}: {rows[-1]['median']:.0f} ms", flush=True)
    return rows


def print_table(rows) -> None:
    print(f"\n{'page':<36} {'status':>6} {'median ms':>10} {'p95 ms':>8} {'runs':>5} {'queries@20':>11} "
          f"{'queries@100':>12}  verdict")
    for row in rows:
        verdict = "ok" if row["median"] <= TARGET_MS else "SLOW"
        if row["queries_20"] != row["queries_100"]:
            verdict += " queries grow with page size"
        print(f"{row['page']:<36} {row['status']:>6} {row['median']:>10.0f} {row['p95']:>8.0f} {row['runs']:>5} "
              f"{row['queries_20']:>11} {row['queries_100']:>12}  {verdict}")
    for row in rows:
        if row["median"] > TARGET_MS:
            print(f"\nslowest queries of {row['page']} ({row['url']}):")
            for query in row["slowest"]:
                print(f"  {float(query['time']) * 1000:7.0f} ms  {query['sql'][:400]}")


if __name__ == "__main__":
    sys.exit(main())
