"""The environment picks the database and the task broker (checked in a fresh interpreter)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.base import ServerBindingCursor

PROJECT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    " 'orm': s.Q_CLUSTER.get('orm'), 'redis': s.Q_CLUSTER.get('redis'), 'debug': s.DEBUG,"
    " 'email': s.EMAIL_BACKEND, 'options': s.DATABASES['default'].get('OPTIONS', {})}, default=str))"
)


def settings_under(**env) -> dict:
    unset = ("DATABASE_URL", "DATABASE_PREPARED_STATEMENTS", "REDIS_URL", "DJANGO_DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
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


def test_postgresql_binds_parameters_on_the_server_and_prepares_statements_by_default():
    options = settings_under(DATABASE_URL="postgres://fh:secret@db.internal:5432/fh")["options"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 2


def test_prepared_statements_can_be_turned_off_for_an_old_transaction_pooler():
    options = settings_under(
        DATABASE_URL="postgres://fh:secret@db.internal:5432/fh", DATABASE_PREPARED_STATEMENTS="false"
    )["options"]
    assert options["server_side_binding"] is False
    assert options["prepare_threshold"] is None


def test_a_query_string_option_cannot_leave_server_side_binding_half_on():
    """django-environ gives 'true' as a string, which Django's `is True` check would ignore."""
    options = settings_under(DATABASE_URL="postgres://fh:secret@db.internal:5432/fh?server_side_binding=true")["options"]
    assert options["server_side_binding"] is True


def test_sqlite_gets_no_postgresql_statement_options():
    options = settings_under()["options"]
    assert "server_side_binding" not in options and "prepare_threshold" not in options


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_postgresql_connection_binds_on_the_server_and_prepares_statements():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    if settings.DATABASES["default"]["OPTIONS"]["server_side_binding"] is not True:
        pytest.skip("DATABASE_PREPARED_STATEMENTS is off in this environment")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, ServerBindingCursor)
    assert connection.connection.prepare_threshold == 2


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
