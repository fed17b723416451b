"""The task cluster's stall guard: a cluster that runs no task while tasks wait is stopped."""

import multiprocessing
import os
import subprocess
import sys
import time

import pytest
from django.core.management import get_commands
from django_q.models import OrmQ
from django_q.signals import post_execute_in_worker, pre_execute
from django_q.tasks import async_task

from formation_hub.observability.cluster_guard import TaskClock, cluster_stalled, descendants, guard_until_stopped


def test_stalled_only_when_tasks_wait_and_none_ran_for_longer_than_the_limit():
    assert cluster_stalled(idle_seconds=301, queued=3, stall_seconds=300)
    assert not cluster_stalled(idle_seconds=299, queued=3, stall_seconds=300)
    assert not cluster_stalled(idle_seconds=3000, queued=0, stall_seconds=300)  # idle, nothing to do


def test_a_task_starting_or_ending_in_a_worker_resets_the_clock():
    clock = TaskClock()
    clock._stamped_at.value -= 100
    pre_execute.send(sender="django_q", func=print, task={})
    assert clock.idle_seconds() < 1
    clock._stamped_at.value -= 100
    post_execute_in_worker.send(sender="django_q", func=print, task={})
    assert clock.idle_seconds() < 1


def test_descendants_lists_children_and_grandchildren():
    child = subprocess.Popen([sys.executable, "-c", (  # noqa: S603 - our own interpreter
        "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "time.sleep(60)"
    )])
    try:
        deadline = time.monotonic() + 10
        while len(descendants(child.pid)) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(descendants(child.pid)) == 1
        assert child.pid in descendants(os.getpid())
    finally:
        for pid in [*descendants(child.pid), child.pid]:
            os.kill(pid, 9)
        child.wait()


def _cluster(target, *args):
    process = multiprocessing.get_context("fork").Process(target=target, args=args, daemon=True)
    process.start()
    return process


@pytest.mark.django_db
def test_a_cluster_that_ran_nothing_while_a_task_waits_is_killed():
    clock = TaskClock()
    clock._stamped_at.value -= 60
    cluster = _cluster(time.sleep, 600)
    async_task("formation_hub.tasks.heartbeat")
    assert OrmQ.objects.count() == 1
    try:
        assert guard_until_stopped(clock, stall_seconds=1, check_every=0.2)
        cluster.join(5)
        assert not cluster.is_alive()
    finally:
        if cluster.is_alive():
            cluster.kill()


@pytest.mark.django_db
def test_an_idle_cluster_with_nothing_to_do_is_left_alone_until_it_stops():
    clock = TaskClock()
    clock._stamped_at.value -= 60
    cluster = _cluster(time.sleep, 1.5)
    assert not OrmQ.objects.exists()
    assert not guard_until_stopped(clock, stall_seconds=0.5, check_every=0.2)
    assert cluster.exitcode == 0


def test_manage_py_qcluster_is_the_guarded_command():
    assert get_commands()["qcluster"] == "formation_hub"
