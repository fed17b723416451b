"""The task cluster's stall guard: a django-q2 cluster that has stopped running tasks exits, so that its
supervisor starts a new one.

django-q2's workers share one multiprocessing queue, and an idle worker waits in `Queue.get()` holding
the queue's read lock. A worker killed with SIGKILL at that moment (the OOM killer, a `kill -9`) takes
the lock with it: the reincarnated workers wait for it forever and the cluster runs nothing more, while
its pusher keeps taking tasks from the broker (django-q2 issue #23; `make chaos` reproduces it). Nothing
is lost, since the events stay stored and the sweeper queues them again, but the sync stops on that host.

The guard runs in qcluster's main process. Every worker stamps a shared clock when it starts and ends a
task; when no task has started or ended for `Q_STALL_SECONDS` while the broker holds tasks, the guard
says why, kills the cluster's processes and qcluster exits with status 3.
"""

import contextlib
import logging
import multiprocessing
import os
import signal
import time

from django_q.brokers import get_broker
from django_q.signals import post_execute_in_worker, pre_execute

logger = logging.getLogger(__name__)

STALLED_EXIT_STATUS = 3


class TaskClock:
    """When a worker of this cluster last started or ended a task. Made before the cluster forks its
    processes, which inherit the shared value and the signal receivers that stamp it."""

    def __init__(self):
        self._stamped_at = multiprocessing.Value("d", time.time(), lock=False)
        pre_execute.connect(self.stamp)
        post_execute_in_worker.connect(self.stamp)

    def stamp(self, sender=None, **signal_kwargs) -> None:
        self._stamped_at.value = time.time()

    def idle_seconds(self) -> float:
        return time.time() - self._stamped_at.value


def cluster_stalled(*, idle_seconds: float, queued: int, stall_seconds: float) -> bool:
    """Tasks are waiting and none has started or ended for longer than a task may run."""
    return queued > 0 and idle_seconds > stall_seconds


def descendants(pid: int) -> list[int]:
    """The processes below `pid`, parents before their children (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], list(children.get(pid, []))
    while todo:
        current = todo.pop(0)
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _kill_cluster() -> None:
    """SIGKILL the cluster's processes: the sentinel this process started and every process below it (listed
    first: once the sentinel is gone, its children no longer descend from it)."""
    pids = [pid for child in multiprocessing.active_children() for pid in (child.pid, *descendants(child.pid))]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def guard_until_stopped(clock: TaskClock, *, stall_seconds: float, check_every: float = 15.0) -> bool:
    """Watch the running cluster until it stops (True when the guard stopped it)."""
    broker = get_broker()
    check_every = min(check_every, stall_seconds / 2)
    while multiprocessing.active_children():
        time.sleep(check_every)
        idle = clock.idle_seconds()
        if idle <= stall_seconds:
            continue
        queued = broker.queue_size()
        if not cluster_stalled(idle_seconds=idle, queued=queued, stall_seconds=stall_seconds):
            continue
        logger.critical(
            "Task cluster stalled: no task started or ended for %d s while %d wait in the broker (a worker "
            "killed while waiting for a task keeps the cluster's queue locked, django-q2 issue #23). "
            "Stopping it so that its supervisor starts a new one; the stored events are run again.",
            idle, queued,
        )
        _kill_cluster()
        return True
    return False
