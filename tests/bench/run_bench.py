"""`make bench`: webhook ingest against the floor, end-to-end sync with 1, 2 and 4 workers, duplicates, memory.

Everything runs on loopback on throwaway PostgreSQL databases and one Redis database (the first empty one
from BENCH_REDIS_DB, default 12, flushed before and after). Counts are fixed and every wait is bounded, so
the whole run stays under about ten minutes on 2 cores. BENCH_SCALE (default 1.0) scales the counts;
BENCH_ONLY=ingest measures the ingest alone.
"""

import json
import os
import sys
import time
import uuid

from tests.bench.harness import (
    PROJET_TABLE,
    SECRET_HEADER,
    WEBHOOK_SECRET,
    Stack,
    create_projet_rows,
    demo_client,
    event_latencies,
    log,
    machine_line,
    percentile,
    post_many,
    print_table,
    unique_names,
    wait_for_sync,
)

SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
INGEST_LEVELS = [(1, 400), (16, 2000), (64, 2000)]
E2E_WORKERS = [1, 2, 4]
E2E_ROWS, E2E_RATE = 300, 100.0
# Also measured below capacity, so the latency is the pipeline's and not a backlog's age.
SUSTAINED_WORKERS, SUSTAINED_ROWS, SUSTAINED_RATE = 2, 60, 4.0
DUPLICATE_ROWS = 100
SYNC_TIMEOUT = 120.0


def scaled(count: int) -> int:
    return max(10, int(count * SCALE))


def webhook_payload(row: dict, *, event_id: str | None = None, webhook_id: int = 1) -> dict:
    """A `rows.created` delivery as the Baserow stand-in sends it for the projet table."""
    return {
        "table_id": PROJET_TABLE,
        "database_id": 60,
        "workspace_id": 1,
        "webhook_id": webhook_id,
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": "rows.created",
        "items": [row],
    }


def sample_row(index: int) -> dict:
    return {
        "id": 100000 + index, "order": f"{100000 + index}.00000000000000000000",
        "nom": f"Ingest {index}", "client": [{"id": 1, "value": "ACME"}],
        "statut": {"id": 60101, "value": "Prospect", "color": "light-blue"}, "docmost_page_id": "", "attribution": [],
    }


HEADERS = {
    "Content-Type": "application/json", "X-Baserow-Event": "rows.created", "User-Agent": "python-requests/2.32.3",
    SECRET_HEADER: WEBHOOK_SECRET,
}


def ingest_bench(stack: Stack) -> list[list]:
    bodies = [json.dumps(webhook_payload(sample_row(index))).encode() for index in range(40000)]
    cursor = 0

    def take(count: int) -> list[bytes]:
        nonlocal cursor
        cursor += count
        return bodies[cursor - count:cursor]

    log("warming up (floor and ingest, 200 requests each)")
    post_many("127.0.0.1", stack.web_port, "/bench/floor/", take(200), HEADERS, concurrency=16)
    post_many("127.0.0.1", stack.web_port, "/api/webhooks/baserow/", take(200), HEADERS, concurrency=16)
    rows = []
    for concurrency, count in INGEST_LEVELS:
        count = scaled(count)
        floor = post_many("127.0.0.1", stack.web_port, "/bench/floor/", take(count), HEADERS,
                          concurrency=concurrency)
        ingest = post_many("127.0.0.1", stack.web_port, "/api/webhooks/baserow/", take(count), HEADERS,
                           concurrency=concurrency)
        ratio = ingest.rate((202,)) / floor.rate() if floor.rate() else 0.0
        log(f"c={concurrency}: floor {floor.rate():.0f}/s {floor.statuses()}, ingest {ingest.rate((202,)):.0f}/s "
            f"{ingest.statuses()}")
        rows.append([
            concurrency, count,
            f"{floor.rate():.0f}", f"{floor.latency_ms(50):.1f}", f"{floor.latency_ms(99):.1f}",
            f"{ingest.rate((202,)):.0f}", f"{ingest.latency_ms(50):.1f}", f"{ingest.latency_ms(99):.1f}",
            f"{ratio:.0%}", _errors(floor.statuses(), (202,)) + " / " + _errors(ingest.statuses(), (202,)),
        ])
    stored = stack.sql("SELECT count(*) FROM sync_event")[0][0]
    expected = sum(scaled(count) for _, count in INGEST_LEVELS) + 200
    log(f"events stored: {stored} (accepted: {expected} expected)")
    return rows


def _errors(statuses: dict[int, int], ok: tuple) -> str:
    bad = {status: count for status, count in statuses.items() if status not in ok}
    return ", ".join(f"{count}x{status or 'no answer'}" for status, count in bad.items()) or "none"


def rules_available(stack: Stack) -> bool:
    out = stack.manage("shell", "-c", "from sync.routing import handler_for; "
                                      "print(handler_for('projet', 'rows.created') is not None)")
    return out.strip().endswith("True")


def e2e_run(stack: Stack, workers: int, client_id: int, rows: int = E2E_ROWS, rate: float = E2E_RATE) -> list:
    names = unique_names("E2E", scaled(rows))
    since = stack.sql("SELECT coalesce(max(id), 0) FROM sync_event")[0][0]
    started = time.monotonic()
    created = create_projet_rows(stack, names, client_id, rate=rate)
    load_seconds = time.monotonic() - started
    check, _ = wait_for_sync(stack, names, SYNC_TIMEOUT)
    total = time.monotonic() - started
    latencies, states = event_latencies(stack, since)
    webhook = stack.projet_webhook()
    log(f"e2e {workers} worker(s): {check.expected} rows created in {load_seconds:.1f} s "
        f"({created.statuses()}), synced: {check.complete}, lost: {check.lost()}, events {states}, "
        f"webhook active={webhook['active']} failed_triggers={webhook.get('failed_triggers')}")
    return [
        workers, len(names), f"{len(names) / load_seconds:.0f}",
        f"{total:.1f}" + ("" if check.complete else " (timeout)"),
        f"{len(names) / total:.1f}",
        f"{percentile(latencies, 50):.2f}", f"{percentile(latencies, 95):.2f}",
        ", ".join(f"{state} {count}" for state, count in sorted(states.items())),
        check.lost(), "yes" if webhook["active"] else "NO",
    ]


def duplicates_run(stack: Stack, distinct_webhooks: bool) -> list:
    """Rows created without webhooks, then each delivery posted 3 times at once; one page each expected."""
    names = unique_names("Dup", scaled(DUPLICATE_ROWS))
    rows = stack.control("baserow", "POST", f"tables/{PROJET_TABLE}/rows", {
        "items": [{"nom": name} for name in names], "send_webhook_events": False,
    })["items"]
    bodies = []
    for row in rows:
        status, full_row = stack.baserow("GET", f"/api/database/rows/table/{PROJET_TABLE}/{row['id']}/"
                                                "?user_field_names=true")
        event_id = str(uuid.uuid4())
        for copy in range(3):
            webhook_id = (1, 9001, 9002)[copy] if distinct_webhooks else 1
            bodies.append(json.dumps(webhook_payload(full_row, event_id=event_id, webhook_id=webhook_id)).encode())
    before = stack.sql("SELECT count(*) FROM sync_event")[0][0]
    sent = post_many("127.0.0.1", stack.web_port, "/api/webhooks/baserow/", bodies, HEADERS, concurrency=48)
    check, waited = wait_for_sync(stack, names, 60.0)
    stored = stack.sql("SELECT count(*) FROM sync_event")[0][0] - before
    kind = "same delivery x3" if not distinct_webhooks else "same event via 3 webhooks"
    log(f"duplicates ({kind}): answers {sent.statuses()}, events stored {stored}, lost: {check.lost()}")
    pages = sum(check.pages_per_name.values())
    return [kind, len(names), len(bodies), _statuses(sent.statuses()), stored, pages,
            len(check.duplicated_pages), check.lost()]


def _statuses(statuses: dict[int, int]) -> str:
    return ", ".join(f"{count}x{status}" for status, count in statuses.items())


def main() -> int:
    print(f"make bench: {machine_line()}")
    print("Other engineers may be running test suites on this machine at the same time: the load average above "
          "and the figures below include them.")
    stack = Stack("bench", redis_db=int(os.environ.get("BENCH_REDIS_DB", "12")))
    ingest_rows, e2e_rows, duplicate_rows, memory_rows = [], [], [], []
    notes = []
    try:
        stack.claim_redis_db()
        stack.prepare_template()
        stack.memory.start()
        stack.fresh_database("ingest")
        stack.flush_redis()
        stack.start_web()
        log(f"gunicorn: {stack.web_workers} sync workers on 127.0.0.1:{stack.web_port}; no task worker during ingest")
        ingest_rows = ingest_bench(stack)
        stack.stop("web")
        stack.start_baserow()
        stack.start_docmost()
        if os.environ.get("BENCH_ONLY") == "ingest":
            notes.append("BENCH_ONLY=ingest: end-to-end and duplicates skipped")
        elif not rules_available(stack):
            notes.append("end-to-end and duplicates not measured: no rule handles projet rows.created yet "
                         "(sync issue 4 not merged)")
        else:
            for workers in E2E_WORKERS:
                stack.fresh_database(f"e2e{workers}")
                stack.flush_redis()
                stack.reset_standins()
                stack.start_web()
                stack.start_workers(workers, name=f"workers{workers}")
                client_id = demo_client(stack)
                e2e_rows.append(e2e_run(stack, workers, client_id))
                if workers == SUSTAINED_WORKERS:
                    e2e_rows.append(e2e_run(stack, workers, client_id, SUSTAINED_ROWS, SUSTAINED_RATE))
                if workers == 2:
                    duplicate_rows.append(duplicates_run(stack, distinct_webhooks=False))
                    duplicate_rows.append(duplicates_run(stack, distinct_webhooks=True))
                stack.stop(f"workers{workers}")
                stack.stop("web")
        stack.memory.stop()
        for label in sorted(stack.memory.peak_total):
            memory_rows.append([label, f"{stack.memory.peak_total[label] / 1024:.0f}",
                                f"{stack.memory.peak_process[label] / 1024:.0f}"])
    finally:
        stack.close()
    print(f"\n## make bench results ({machine_line()})")
    print_table(
        f"Webhook ingest vs floor (gunicorn, {stack.web_workers} sync workers, PostgreSQL, Redis broker; "
        "one connection per request)",
        ["concurrency", "requests", "floor/s", "floor p50 ms", "floor p99 ms", "ingest/s", "ingest p50 ms",
         "ingest p99 ms", "ingest/floor", "errors floor / ingest"],
        ingest_rows,
    )
    if e2e_rows:
        print_table(
            f"End-to-end: projet rows created in the Baserow stand-in (at {E2E_RATE:.0f}/s, and at "
            f"{SUSTAINED_RATE:.0f}/s with {SUSTAINED_WORKERS} workers) -> page in Docmost, page id written back",
            ["workers", "rows", "created/s", "all synced after s", "events/s", "p50 receipt->processed s",
             "p95 receipt->processed s", "event states", "lost", "webhook active"],
            e2e_rows,
        )
    if duplicate_rows:
        print_table(
            "Duplicates: every delivery posted 3 times concurrently (2 task workers)",
            ["variant", "rows", "posts", "answers", "events stored", "pages", "rows with >1 page", "lost"],
            duplicate_rows,
        )
    if memory_rows:
        print_table("Peak memory (RSS, MiB)", ["processes", "peak sum of the group", "peak of one process"],
                    memory_rows)
    for note in notes:
        print(f"\nNOTE: {note}")
    target = [row for row in ingest_rows if row[0] == 16]
    if target:
        ratio = float(target[0][8].rstrip("%")) / 100
        p99 = float(target[0][7])
        print(f"\nTarget ingest >= 60% of floor at c=16: {'met' if ratio >= 0.6 else 'MISSED'} ({ratio:.0%}); "
              f"p99 < 50 ms at c=16: {'met' if p99 < 50 else 'MISSED'} ({p99:.1f} ms)")
    for row in e2e_rows:
        p95 = float(row[6])
        if float(row[2]) < E2E_RATE / 2:
            print(f"Below the target's rate ({row[2]} rows/s, {row[0]} workers): p95 {p95:.2f} s (for comparison)")
            continue
        print(f"Target e2e p95 < 2 s at {row[2]} rows/s created, {row[0]} worker(s): "
              f"{'met' if p95 < 2 else 'MISSED'} ({p95:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
