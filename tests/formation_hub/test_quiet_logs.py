"""What the logs say of ordinary things: a refused request is one line without a traceback, and a
management command starts without django-axes' banner (issue 16, point 18)."""

import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def request_log():
    """What the console handler prints (the one of `django.request` and the root logger), as text."""
    handlers = [handler for handler in logging.getLogger("django.request").handlers
                if type(handler) is logging.StreamHandler]
    assert handlers, "settings.LOGGING gives django.request a console handler"
    stream = io.StringIO()
    previous = [handler.setStream(stream) for handler in handlers]
    yield stream
    for handler, old in zip(handlers, previous, strict=True):
        handler.setStream(old)


def test_a_refused_request_is_logged_once_on_one_line(client, make_user, request_log):
    client.force_login(make_user("vic", "viewer"))
    assert client.get("/admin/releases/release/add/").status_code == 403
    lines = [line for line in request_log.getvalue().splitlines() if "django.request" in line]
    assert len(lines) == 1 and "Forbidden" in lines[0] and "/admin/releases/release/add/" in lines[0], lines
    assert "Traceback" not in request_log.getvalue()


def test_a_management_command_prints_no_axes_banner():
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=True)
    assert "AXES" not in result.stdout + result.stderr
