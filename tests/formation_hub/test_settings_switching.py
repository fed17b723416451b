"""The environment picks the database and the task broker (checked in a fresh interpreter)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    " 'orm': s.Q_CLUSTER.get('orm'), 'redis': s.Q_CLUSTER.get('redis'), 'debug': s.DEBUG,"
    " 'email': s.EMAIL_BACKEND}))"
)


def settings_under(**env) -> dict:
    unset = ("DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {key: value for key, value in os.environ.items() if key not in unset}
    clean.update(env, DJANGO_SETTINGS_MODULE="formation_hub.settings")
    output = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=PROJECT, env=clean, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def test_defaults_are_embedded_sqlite_orm_broker_and_console_mail():
    probed = settings_under()
    assert probed["engine"] == "django.db.backends.sqlite3"
    assert probed["name"].endswith("var/formation_hub.sqlite3")
    assert probed["orm"] == "default" and probed["redis"] is None
    assert probed["email"] == "django.core.mail.backends.console.EmailBackend"
    assert probed["debug"] is True


def test_database_url_switches_to_postgresql():
    probed = settings_under(DATABASE_URL="postgres://fh:secret@db.internal:5432/fh")
    assert probed["engine"] == "django.db.backends.postgresql"
    assert probed["name"] == "fh"


def test_redis_url_switches_the_task_broker_to_redis():
    probed = settings_under(REDIS_URL="redis://127.0.0.1:6379/3")
    assert probed["redis"] == "redis://127.0.0.1:6379/3"
    assert probed["orm"] is None


def test_production_mode_refuses_to_start_without_a_secret_key():
    with pytest.raises(subprocess.CalledProcessError) as error:
        settings_under(DJANGO_DEBUG="false", DJANGO_SECRET_KEY="")
    assert "DJANGO_SECRET_KEY" in error.value.stderr


def test_production_mode_passes_check_deploy_without_warnings():
    unset = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env.update(
        DJANGO_DEBUG="false", DJANGO_SECRET_KEY="x" * 20 + "-Production-Key-0123456789-abcdefghijklmnop",
        DJANGO_ALLOWED_HOSTS="ops.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr + result.stdout
