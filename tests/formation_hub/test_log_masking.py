"""Alert tokens sent as ?token= never reach the access log (issue 17, Low): the masking function, Django's
loggers, and a real gunicorn started with the Dockerfile's logger class."""

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from formation_hub.observability.log_masking import SecretMaskingFilter, mask_secrets
from tests.conftest import free_port

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ('"POST /api/alerts/uptimerobot/?token=s3cr3t HTTP/1.1" 202',
         '"POST /api/alerts/uptimerobot/?token=*** HTTP/1.1" 202'),
        ("/api/alerts/generic/?x=1&token=abc&y=2", "/api/alerts/generic/?x=1&token=***&y=2"),
        ("/api/alerts/generic/?TOKEN=abc", "/api/alerts/generic/?TOKEN=***"),
        ("/api/x/?secret=a&api_key=b", "/api/x/?secret=***&api_key=***"),
        ("/api/alerts/generic/?tokens=abc", "/api/alerts/generic/?tokens=abc"),
        ("/admin/?q=token=abc", "/admin/?q=token=abc"),
        ("no query at all", "no query at all"),
    ],
)
def test_secret_query_parameters_are_masked(line, masked):
    assert mask_secrets(line) == masked


def test_the_logging_filter_masks_a_formatted_record():
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, '"%s" %s',
                               ("GET /a/?token=zz HTTP/1.1", 401), None)
    SecretMaskingFilter().filter(record)
    assert record.getMessage() == '"GET /a/?token=*** HTTP/1.1" 401'


def test_gunicorn_with_the_dockerfile_logger_class_never_logs_the_token(tmp_path):
    port = free_port()
    log = tmp_path / "access.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "formation_hub.settings"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "formation_hub.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--access-logfile", str(log),
         "--logger-class", "formation_hub.observability.log_masking.MaskingGunicornLogger"],
        cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/api/nothing/?token=very-secret-token&x=1", timeout=5)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        while time.monotonic() < deadline and "GET" not in (log.read_text() if log.exists() else ""):
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)
    text = log.read_text()
    assert "/api/nothing/?token=***&x=1" in text
    assert "very-secret-token" not in text
