"""The demo world, loaded once for the whole matrix, and a signed-in client per demo role.

The demo data (`manage.py demo_data`) fills every area the console shows; it is loaded inside one
transaction held open for the package and rolled back at its end, and each test runs in a savepoint
inside it (pytest-django's `db`), so a test's writes never reach the next one.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_q.models import Task

from formation_hub.access.roles import ADMIN
from formation_hub.dev.demo import load_demo_data
from incidents.oncall import ical
from sync.models import Event, EventItem, LoopAlert, ServiceCircuit

# Nobody signed in, then the demo people (victor: viewer, alice: oncall, chloe: release-approver, bruno:
# both, admin: superuser in the admin group) and ops, a member of the admin group who is no superuser.
ROLES = ("anonymous", "victor", "alice", "chloe", "bruno", "ops", "admin")
FAST_HASHING = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass(frozen=True)
class World:
    users: dict

    def client_for(self, role: str, client):
        if role != "anonymous":
            client.force_login(self.users[role])
        return client


@pytest.fixture(scope="package")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHING), transaction.atomic():
        load_demo_data()
        ops = get_user_model().objects.create_user("ops", "ops@formation-hub.test", "pw-for-tests", is_staff=True)
        ops.groups.add(Group.objects.get(name=ADMIN))
        _rows_the_demo_lacks()
        users = {user.username: user for user in get_user_model().objects.all()}
        for user in users.values():
            # The on-call home page makes its visitor's calendar link on their first visit (an audited
            # row of their own: tests/hostile/test_calendar_feed_hostile.py pins it); made here, every
            # GET of the matrix must then change nothing.
            ical.calendar_secret(user)
        yield World(users=users)
        transaction.set_rollback(True)


def _rows_the_demo_lacks() -> None:
    """A row for every console list that has actions, so each action runs on something."""
    now = timezone.now()
    for name, success in (("failed-job", False), ("done-job", True)):
        Task.objects.create(id=name, name=name, func="formation_hub.tasks.heartbeat", started=now, stopped=now,
                            success=success)
    AccessAttempt.objects.create(username="mallory", ip_address="203.0.113.9", user_agent="curl", path_info="/",
                                 http_accept="*/*", get_data="", post_data="", failures_since_start=9,
                                 attempt_time=now - timedelta(days=30))
    event = Event.objects.create(event_id="matrix-event", event_type="rows.updated", raw_body="{}", received_at=now,
                                 state=Event.State.DEAD)
    EventItem.objects.create(event=event, position=0, entity_key="baserow:601:1", state=EventItem.State.DEAD,
                             created_at=now)
    LoopAlert.objects.create(entity_key="baserow:601:1", event_count=40, first_event_at=now, detected_at=now)
    ServiceCircuit.objects.create(service="docmost", state=ServiceCircuit.State.OPEN, opened_at=now)


@pytest.fixture
def in_world(world, db):
    """A test inside the demo world (its writes are rolled back after it)."""
    return world
