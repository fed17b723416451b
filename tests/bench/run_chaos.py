"""`make chaos`: faults under load, each scenario ending with what was lost (must be nothing).

1. kill -9 a task worker in the middle of jobs, 20 times;
2. stop the Docmost stand-in for 2 minutes while rows keep coming (Baserow keeps delivering; its webhook
   must stay active);
3. restart PostgreSQL during ingest (it is started again at the end whatever happens);
4. kill -9 every worker of an idle cluster (one of them holds the cluster's task-queue lock, django-q2
   issue #23): the stall guard must stop the cluster, and the harness, standing for the supervisor,
   starts a new one.

Every scenario creates projet rows through the Baserow stand-in's API, which sends the real webhooks, and
ends by checking that every row holds the id of exactly one Docmost page of its own, that every stored
event reached a final state (processed, ignored or dead) and that the Baserow webhook is still active.
Loopback only, bounded in count and time (about 12 minutes). Redis: the first empty database from
CHAOS_REDIS_DB (default 14). CHAOS_ONLY=kill_workers,docmost_outage,postgres_restart,idle_kill runs a subset.
"""

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import psycopg

from tests.bench.harness import (
    PG_DSN,
    PROJET_TABLE,
    LoadRun,
    Stack,
    create_projet_rows,
    demo_client,
    log,
    machine_line,
    print_table,
    unique_names,
    wait_for_sync,
)

FINAL = ("processed", "ignored", "dead")
PG_VERSION = (os.listdir("/etc/postgresql") or ["15"])[0] if os.path.isdir("/etc/postgresql") else "15"
# Faster than production so a bounded run sees recovery: an event claimed by a killed worker is swept
# again after 20 s (SYNC_STUCK_AFTER_SECONDS, default 300); the sweeper runs every minute as in production.
CHAOS_ENV = {"SYNC_STUCK_AFTER_SECONDS": "20", "SYNC_CIRCUIT_PROBE_SECONDS": "15", "Q_STALL_SECONDS": "20"}


@dataclass
class Outcome:
    name: str
    rows: int
    faults: str
    recovered_after: float
    lost: str
    details: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    start_id: int = 0
    late: bool = False

    @property
    def ok(self) -> bool:
        return self.lost == "nothing"


class Load:
    """Creates projet rows at a steady rate in a background thread."""

    def __init__(self, stack: Stack, names: list[str], client_id: int, rate: float):
        self.names = names
        self.result: LoadRun | None = None
        self._thread = threading.Thread(
            target=self._run, args=(stack, names, client_id, rate), daemon=True, name="chaos-load"
        )

    def _run(self, stack, names, client_id, rate):
        self.result = create_projet_rows(stack, names, client_id, rate=rate, concurrency=4)

    def start(self) -> "Load":
        self._thread.start()
        return self

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def event_states(stack: Stack, since_id: int) -> dict[str, int]:
    rows = stack.sql("SELECT state, count(*) FROM sync_event WHERE id > %s GROUP BY state", (since_id,))
    return dict(rows)


def item_states(stack: Stack, since_id: int) -> dict[str, int]:
    rows = stack.sql("SELECT state, count(*) FROM sync_eventitem WHERE event_id > %s GROUP BY state", (since_id,))
    return dict(rows)


def wait_until_final(stack: Stack, names: list[str], since_id: int, timeout: float) -> tuple[float, str, list[str]]:
    """Waits for every row synced exactly once and every event final; (seconds, lost, details)."""
    started = time.monotonic()
    while True:
        check, _ = wait_for_sync(stack, names, max(0.0, timeout - (time.monotonic() - started)), poll=2.0)
        states = event_states(stack, since_id)
        pending = {state: count for state, count in states.items() if state not in FINAL}
        waited = time.monotonic() - started
        if (check.complete and not pending) or waited > timeout:
            break
        time.sleep(2)
    items = item_states(stack, since_id)
    webhook = stack.projet_webhook()
    deliveries = stack.control("baserow", "GET", f"deliveries?table_id={PROJET_TABLE}")["deliveries"]
    failed_deliveries = [d for d in deliveries if not d.get("ok")]
    switched_off = sum(1 for d in deliveries if d.get("deactivated"))
    reenabled = stack.sql("SELECT count(*) FROM formation_hub_auditentry WHERE action = 'sync.webhook.reenabled'")[0][0]
    lost = []
    if check.lost() != "nothing":
        lost.append(check.lost())
    if pending:
        lost.append(f"events not in a final state: {pending}")
    if states.get("dead"):
        lost.append(f"{states['dead']} event(s) dead")
    if not webhook["active"]:
        lost.append("the Baserow webhook was switched off (deliveries after that are lost)")
    details = [
        f"events {dict(sorted(states.items()))}, items {dict(sorted(items.items()))}",
        f"Baserow webhook active={webhook['active']} failed_triggers={webhook.get('failed_triggers')}, "
        f"failed delivery attempts (retried by Baserow) {len(failed_deliveries)}, "
        f"switched off by Baserow {switched_off} time(s), re-enabled by the watchdog {reenabled} time(s) so far",
    ]
    return waited, "; ".join(lost) or "nothing", details


def since(stack: Stack) -> int:
    return stack.sql("SELECT coalesce(max(id), 0) FROM sync_event")[0][0]


# ---------------------------------------------------------------- 1. kill -9 workers


# A job lasts ~15 ms on this machine, so a random kill would rarely land in one: while the kills go on,
# each Docmost page create waits this long first, and each kill waits for an event to be claimed. A kill
# during that wait is also a create whose answer is lost (the stand-in creates the page all the same).
JOB_STRETCH_SECONDS = 0.5


def _claimed_events(stack: Stack, wait: float) -> int:
    deadline = time.monotonic() + wait
    while True:
        claimed = stack.sql("SELECT count(*) FROM sync_event WHERE state = 'processing'")[0][0]
        if claimed or time.monotonic() > deadline:
            return claimed
        time.sleep(0.05)


def kill_workers(stack: Stack, client_id: int, kills: int = 20) -> Outcome:
    names = unique_names("Kill", 300)
    start_id = since(stack)
    stack.control("docmost", "POST", "faults",
                  {"delay": JOB_STRETCH_SECONDS, "count": None, "path_prefix": "/api/pages/create"})
    load = Load(stack, names, client_id, rate=15.0).start()
    time.sleep(2)
    done, mid_job = 0, 0
    deadline = time.monotonic() + 90
    while done < kills and time.monotonic() < deadline:
        pids = stack.worker_pids(stack.procs["workers"])
        if not pids:
            time.sleep(0.2)
            continue
        claimed = _claimed_events(stack, wait=3.0)
        pid = random.choice(pids)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            done += 1
            mid_job += 1 if claimed else 0
        time.sleep(0.9)
    stack.control("docmost", "DELETE", "faults")
    load.join(60)
    log(f"kill -9: {done} workers killed ({mid_job} while an event was claimed); waiting for recovery")
    waited, lost, details = wait_until_final(stack, names, start_id, timeout=150)
    reborn = stack.procs["workers"].log_text().count("reincarnated worker")
    details.append(f"django-q2 reincarnated {reborn} worker(s); rows created {load.result.statuses()}; each "
                   f"Docmost page create delayed {JOB_STRETCH_SECONDS} s while the kills went on")
    return Outcome("kill -9 a worker mid-jobs", len(names), f"{done} kills, {mid_job} with an event claimed",
                   waited, lost, details, names, start_id)


# ---------------------------------------------------------------- 2. Docmost down for 2 minutes


def docmost_outage(stack: Stack, client_id: int, outage: float = 120.0) -> Outcome:
    names = unique_names("Down", 450)
    start_id = since(stack)
    load = Load(stack, names, client_id, rate=3.0).start()
    time.sleep(10)
    log(f"stopping the Docmost stand-in for {outage:.0f} s (rows keep coming at 3/s)")
    stack.stop("docmost")
    time.sleep(outage)
    stack.start_docmost(keep_state=True)
    log("Docmost stand-in back (same state); waiting for the backlog to drain")
    load.join(60)
    waited, lost, details = wait_until_final(stack, names, start_id, timeout=240)
    details.append(f"rows created {load.result.statuses()} over {load.result.wall:.0f} s")
    return Outcome("Docmost stopped for 2 min under load", len(names), f"Docmost down {outage:.0f} s",
                   waited, lost, details, names, start_id)


# ---------------------------------------------------------------- 3. PostgreSQL restart


def pg_running() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False).returncode == 0


def pg_ensure_running() -> None:
    if pg_running():
        return
    log("PostgreSQL is down: starting it")
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "start"], check=False)
    for _ in range(60):
        if pg_running():
            return
        time.sleep(1)


def other_clients() -> int:
    """Connections to PostgreSQL from outside this run (other engineers' tests)."""
    with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as connection:
        return connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
            "AND datname NOT LIKE 'fh_bench_chaos_%%' AND pid <> pg_backend_pid()"
        ).fetchone()[0]


def postgres_restart(stack: Stack, client_id: int) -> Outcome:
    for _ in range(30):
        if not other_clients():
            break
        time.sleep(2)
    else:
        log("other clients are connected to PostgreSQL; restarting it anyway (their queries will fail once)")
    names = unique_names("Pg", 300)
    start_id = since(stack)
    load = Load(stack, names, client_id, rate=15.0).start()
    time.sleep(5)
    log("restarting PostgreSQL during ingest")
    began = time.monotonic()
    result = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "restart"],
        capture_output=True, text=True, check=False,
    )
    pg_ensure_running()
    down_for = time.monotonic() - began
    log(f"PostgreSQL back after {down_for:.1f} s (pg_ctlcluster exit {result.returncode}); waiting for recovery")
    load.join(60)
    waited, lost, details = wait_until_final(stack, names, start_id, timeout=150)
    deliveries = stack.control("baserow", "GET", f"deliveries?table_id={PROJET_TABLE}")["deliveries"]
    refused = sum(1 for d in deliveries if not d.get("ok") and names[0][:9] in str(d.get("payload")))
    details.append(f"rows created {load.result.statuses()}; webhook calls refused during the restart and "
                   f"retried by Baserow: {refused}")
    return Outcome("PostgreSQL restarted during ingest", len(names), f"restart took {down_for:.1f} s",
                   waited, lost, details, names, start_id)


def recheck_late(stack: Stack, outcome: Outcome, timeout: float = 120.0) -> None:
    """A scenario not recovered within its bound gets one more bounded wait at the end: late, or lost."""
    log(f"{outcome.name}: not recovered after {outcome.recovered_after:.0f} s, waiting up to {timeout:.0f} s more")
    waited, lost, details = wait_until_final(stack, outcome.names, outcome.start_id, timeout=timeout)
    outcome.details.append(f"at the end of the run, {waited:.0f} s later: {lost}; {details[0]}")
    if lost == "nothing":
        outcome.late, outcome.lost = True, "nothing"
        outcome.recovered_after += waited


# ---------------------------------------------------------------- main


# ---------------------------------------------------------------- 4. every idle worker killed


def idle_kill(stack: Stack, client_id: int) -> Outcome:
    names = unique_names("Idle", 100)
    start_id = since(stack)
    time.sleep(3)  # idle: each worker waits for a task, one of them holding the queue's read lock
    pids = stack.worker_pids(stack.procs["workers"])
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    log(f"idle kill: {len(pids)} idle workers killed; creating rows at 10/s")
    load = Load(stack, names, client_id, rate=10.0).start()
    cluster, exit_status, deadline = stack.procs["workers"], None, time.monotonic() + 120
    while time.monotonic() < deadline:
        if not cluster.alive():
            exit_status = cluster.popen.returncode
            log(f"the cluster exited with status {exit_status} (stall guard); starting a new one, as its "
                "supervisor would")
            stack.stop("workers")
            stack.start_workers(2, name="workers")
            break
        time.sleep(0.5)
    load.join(60)
    waited, lost, details = wait_until_final(stack, names, start_id, timeout=150)
    if exit_status is None:
        details.append("the cluster did not exit within 120 s")
    details.append(f"cluster exit status {exit_status}; rows created {load.result.statuses()}")
    return Outcome("kill -9 every idle worker", len(names), f"{len(pids)} idle workers killed", waited, lost,
                   details, names, start_id)


def main() -> int:
    print(f"make chaos: {machine_line()}")
    print("Other engineers may be running test suites on this machine at the same time.")
    stack = Stack("chaos", redis_db=int(os.environ.get("CHAOS_REDIS_DB", "14")), extra_env=CHAOS_ENV)
    outcomes: list[Outcome] = []

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    try:
        stack.claim_redis_db()
        stack.prepare_template()
        stack.fresh_database("run")
        stack.flush_redis()
        stack.start_baserow()
        stack.start_docmost(keep_state=True)
        stack.start_web()
        stack.start_workers(2, name="workers")
        client_id = demo_client(stack)
        only = os.environ.get("CHAOS_ONLY", "")
        for scenario in (kill_workers, docmost_outage, postgres_restart, idle_kill):
            if only and scenario.__name__ not in only.split(","):
                continue
            log(f"scenario: {scenario.__name__}")
            outcome = scenario(stack, client_id)
            log(f"{outcome.name}: lost {outcome.lost}")
            outcomes.append(outcome)
        for outcome in outcomes:
            if not outcome.ok:
                recheck_late(stack, outcome)
    finally:
        pg_ensure_running()
        stack.close()
    print(f"\n## make chaos results ({machine_line()})")
    print(f"gunicorn {stack.web_workers} sync workers, 2 task workers (django-q2, Redis), PostgreSQL; "
          f"settings changed for a bounded run: {CHAOS_ENV}")
    print_table(
        "Faults under load: every projet row must end with exactly one Docmost page and its page id",
        ["scenario", "rows", "fault", "recovered after s", "lost"],
        [[o.name, o.rows, o.faults, f"{o.recovered_after:.0f}" + (" (late)" if o.late else ""), o.lost]
         for o in outcomes],
    )
    for outcome in outcomes:
        for detail in outcome.details:
            print(f"- {outcome.name}: {detail}")
    lost = [outcome.name for outcome in outcomes if not outcome.ok]
    print(f"\nLOST: {', '.join(lost)}" if lost else "\nLost: nothing, in every scenario.")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
