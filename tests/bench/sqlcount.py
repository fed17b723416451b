"""Bench only: counts the SQL statements and the commits of each Django process of the stack.

Installed by the bench settings when BENCH_SQL_DIR is set: every database connection gets an execute
wrapper, and a daemon thread writes the process's running totals to BENCH_SQL_DIR/<pid>.json twice a
second (the harness sums them per role). A commit is a `commit()` of a transaction, or a write
statement run in autocommit (its own transaction).
"""

import json
import os
import sys
import threading
import time

WRITES = ("INSERT", "UPDATE", "DELETE", "WITH")
_counts = {"statements": 0, "commits": 0}
_lock = threading.Lock()
_flusher: list[threading.Thread] = []


def _role() -> str:
    argv = " ".join(sys.argv)
    if "gunicorn" in argv:
        return "web"
    if "qcluster" in argv:
        return "workers"
    return "other"


def _flush_forever(directory: str) -> None:
    path = os.path.join(directory, f"{os.getpid()}.json")
    while True:
        time.sleep(0.5)
        with _lock:
            data = {"role": _role(), **_counts}
        with open(path + ".tmp", "w") as handle:
            json.dump(data, handle)
        os.replace(path + ".tmp", path)


def _count(execute, sql, params, many, context):
    connection = context["connection"]
    write = sql.lstrip()[:6].upper().startswith(WRITES)
    with _lock:
        _counts["statements"] += 1
        if write and connection.get_autocommit():
            _counts["commits"] += 1
    return execute(sql, params, many, context)


def _on_connection(sender, connection, **kwargs):
    directory = os.environ.get("BENCH_SQL_DIR")
    if not directory:
        return
    if not getattr(connection, "_bench_counted", False):
        connection._bench_counted = True
        connection.execute_wrappers.append(_count)
        plain_commit = connection.commit

        def counted_commit():
            with _lock:
                _counts["commits"] += 1
            plain_commit()

        connection.commit = counted_commit
    # A forked worker inherits the wrapper but not the parent's thread: one thread per process.
    name = f"bench-sql-{os.getpid()}"
    if not any(thread.is_alive() and thread.name == name for thread in _flusher):
        thread = threading.Thread(target=_flush_forever, args=(directory,), daemon=True, name=name)
        thread.start()
        _flusher.append(thread)


def _reset_in_child() -> None:
    """A forked process counts its own statements only."""
    _counts.update(statements=0, commits=0)


def install() -> None:
    if not os.environ.get("BENCH_SQL_DIR"):
        return
    from django.db.backends.signals import connection_created

    connection_created.connect(_on_connection, dispatch_uid="bench-sql-count")
    os.register_at_fork(after_in_child=_reset_in_child)


def totals(directory: str) -> dict[str, dict[str, int]]:
    """{role: {statements, commits}} summed over every process that wrote a file."""
    result: dict[str, dict[str, int]] = {}
    if not os.path.isdir(directory):
        return result
    for name in os.listdir(directory):
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(directory, name)) as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            continue
        role = result.setdefault(data["role"], {"statements": 0, "commits": 0})
        role["statements"] += data["statements"]
        role["commits"] += data["commits"]
    return result
