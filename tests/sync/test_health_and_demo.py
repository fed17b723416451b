"""Health checks "baserow" and "docmost", the demo configuration and the companion processes."""

import sys

import pytest

from formation_hub.dev.companions import companion_processes
from formation_hub.observability.health import FAILING, NOT_CONFIGURED, OK
from sandbox.docmost import BOT_PASSWORD
from sync.clients.docmost_login import forget_cached_tokens
from sync.clients.health import check_baserow, check_docmost
from sync.demo import load_demo_sync
from sync.models import BaserowConnection, DocmostConnection, TableMapping
from tests.conftest import free_port

pytestmark = pytest.mark.django_db


def test_checks_are_not_configured_until_a_connection_exists():
    assert check_baserow().status == NOT_CONFIGURED
    assert check_docmost().status == NOT_CONFIGURED


def test_baserow_check_lists_one_row_of_a_mapped_table_with_the_token(http_receiver, monkeypatch):
    monkeypatch.setenv("BASEROW_DATABASE_TOKEN", "tok-123")
    BaserowConnection.objects.create(url=http_receiver.url.removesuffix("/hook"))
    TableMapping.objects.create(baserow_table_id=601, logical_table="projet")
    result = check_baserow()
    assert result.status == OK, result.detail
    request = http_receiver.requests[0]
    assert request["method"] == "GET" and request["path"] == "/api/database/rows/table/601/?size=1"
    assert request["headers"]["Authorization"] == "Token tok-123"
    http_receiver.status = 401
    assert check_baserow().status == FAILING


def test_baserow_check_fails_when_unreachable():
    BaserowConnection.objects.create(url=f"http://127.0.0.1:{free_port()}")
    result = check_baserow()
    assert result.status == FAILING and "unreachable" in result.detail


@pytest.fixture
def docmost_connection(docmost_standin, monkeypatch):
    monkeypatch.setenv("DOCMOST_BOT_PASSWORD", BOT_PASSWORD)
    monkeypatch.delenv("DOCMOST_API_KEY", raising=False)
    forget_cached_tokens()
    yield DocmostConnection.objects.create(url=docmost_standin.url, bot_email=docmost_standin.bot_email,
                                           space_slug="agence")
    forget_cached_tokens()


def test_docmost_check_signs_in_as_the_bot_once_and_reads_the_space(docmost_standin, docmost_connection):
    results = [check_docmost() for _ in range(3)]

    assert [result.status for result in results] == [OK] * 3, results[0].detail
    assert len(docmost_standin.calls("/api/auth/login")) == 1
    assert len(docmost_standin.calls("/api/spaces/info")) == 3


def test_docmost_check_fails_when_the_bot_password_is_wrong_and_does_not_retry_the_login(
    docmost_standin, docmost_connection, monkeypatch
):
    monkeypatch.setenv("DOCMOST_BOT_PASSWORD", "wrong-password-123")

    results = [check_docmost() for _ in range(3)]

    assert {result.status for result in results} == {FAILING}
    assert "cannot sign in" in results[0].detail and "Email or password does not match" in results[0].detail
    assert len(docmost_standin.calls("/api/auth/login")) == 1  # the refusal is remembered, not re-tried


def test_docmost_check_fails_when_docmost_answers_5xx(docmost_standin, docmost_connection):
    docmost_standin.fault(status=503, count=None, path_prefix="/api/")

    result = check_docmost()

    assert result.status == FAILING and "503" in result.detail


def test_demo_configuration_points_at_the_stand_ins_and_is_idempotent():
    load_demo_sync()
    TableMapping.objects.filter(logical_table="projet").update(fields={"nom": "Nom"})
    load_demo_sync()
    assert dict(TableMapping.objects.values_list("logical_table", "baserow_table_id")) == {
        "projet": 601, "formation": 602, "bloc": 603, "intervention": 604, "attribution": 605,
        "personne": 606, "client": 607, "comptes_rendus": 608,
    }
    assert TableMapping.objects.get(logical_table="projet").fields == {"nom": "Nom"}
    assert TableMapping.objects.get(logical_table="personne").field_name("heures_restantes") == "heures_restantes"
    baserow, docmost = BaserowConnection.objects.get(), DocmostConnection.objects.get()
    assert baserow.url == "http://127.0.0.1:8010" and baserow.admin_email == "admin@formation-hub.local"
    assert docmost.url == "http://127.0.0.1:8020" and docmost.bot_email == "bot@formation-hub.local"
    assert docmost.space_slug == "agence"


def test_demo_secrets_fill_in_only_in_debug(settings, monkeypatch):
    load_demo_sync()
    monkeypatch.delenv("BASEROW_DATABASE_TOKEN", raising=False)
    monkeypatch.delenv("DOCMOST_BOT_PASSWORD", raising=False)
    settings.DEBUG = True
    assert BaserowConnection.objects.get().token() == "demo-baserow-token"
    assert BaserowConnection.objects.get().admin_password() == "demo-baserow-admin"
    assert DocmostConnection.objects.get().bot_password() == "demo-docmost-password"
    settings.DEBUG = False
    assert BaserowConnection.objects.get().token() == ""


def test_make_run_starts_both_stand_ins_configured_for_the_app(settings):
    processes = dict(companion_processes())
    var = settings.BASE_DIR / "var"
    assert processes["baserow stand-in"] == [
        sys.executable, "-m", "sandbox.baserow", "--port", "8010", "--demo",
        "--state", str(var / "baserow-standin.json"),
        "--webhook-url", "http://127.0.0.1:8000/api/webhooks/baserow/",
        "--webhook-header", "X-Formation-Hub-Secret=demo-webhook-secret-0123456789abcdef0123456789abcdef",
    ]
    assert processes["docmost stand-in"] == [
        sys.executable, "-m", "sandbox.docmost", "--port", "8020", "--demo",
        "--state", str(var / "docmost-standin.json"),
    ]
