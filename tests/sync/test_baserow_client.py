"""BaserowClient against the running Baserow stand-in (real HTTP, faults injected through its control API)."""

import pytest

from sandbox.httpbase import free_port
from sync.clients.baserow import BaserowClient, forget_cached_tokens
from sync.clients.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotFound,
    PermanentError,
    RateLimited,
    ServiceTimeout,
    ServiceUnavailable,
)
from sync.clients.http import CallLog, RetryPolicy, recording
from sync.models import BaserowConnection

PROJET = 601
PERSONNE = 606
TOKEN = "demo-baserow-token"
ADMIN = ("admin@formation-hub.local", "demo-baserow-admin")
QUICK = RetryPolicy(max_retries=2, base=0.01, cap=0.02, max_retry_after=5)


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    forget_cached_tokens()
    yield
    forget_cached_tokens()


@pytest.fixture
def baserow(baserow_standin):
    """The stand-in with the demo dataset (tables 601-608, the demo token and admin account)."""
    baserow_standin.seed_demo()
    return baserow_standin


@pytest.fixture
def make_client(baserow):
    def make(**options):
        options.setdefault("timeout", (1.0, 1.0))
        options.setdefault("retry", QUICK)
        options.setdefault("admin_email", ADMIN[0])
        options.setdefault("admin_password", ADMIN[1])
        client = BaserowClient(baserow.url, options.pop("token", TOKEN), **options)
        client.transport.sleep = lambda seconds: None
        return client

    return make


def api_calls(stand_in, path_prefix="/api/"):
    return stand_in.calls(path_prefix)


def test_get_row_uses_the_database_token_and_user_field_names(baserow, make_client):
    row = make_client().get_row(PROJET, 1)

    assert row["nom"] == "Refonte LMS"
    call = api_calls(baserow)[-1]
    assert call["headers"]["authorization"] == f"Token {TOKEN}"
    assert call["query"]["user_field_names"] == "true"


def test_missing_row_raises_not_found_with_baserow_error_code(make_client):
    with pytest.raises(NotFound) as caught:
        make_client().get_row(PROJET, 999)

    assert caught.value.status == 404
    assert caught.value.code == "ERROR_ROW_DOES_NOT_EXIST"
    assert "999" in caught.value.detail
    assert isinstance(caught.value, PermanentError)


def test_wrong_database_token_is_a_permanent_authentication_error(make_client):
    with pytest.raises(AuthenticationFailed) as caught:
        make_client(token="not-a-token").get_row(PROJET, 1)

    assert caught.value.code == "ERROR_TOKEN_DOES_NOT_EXIST"


def test_invalid_value_is_a_permanent_error_with_the_parsed_body_and_no_retry(baserow, make_client):
    with pytest.raises(PermanentError) as caught:
        make_client().update_row(PROJET, 1, {"statut": 999999})

    assert caught.value.code == "ERROR_REQUEST_BODY_VALIDATION"
    assert "statut" in caught.value.detail
    assert len(api_calls(baserow)) == 1


def test_iter_rows_walks_every_page(baserow, make_client):
    client = make_client()
    for number in range(7):
        client.create_row(PERSONNE, {"nom": f"Formateur {number}"})

    names = [row["nom"] for row in client.iter_rows(PERSONNE, size=4)]

    assert len(names) == 10
    assert names[-1] == "Formateur 6"
    pages = [call["query"].get("page") for call in api_calls(baserow) if call["method"] == "GET"]
    assert pages == ["1", "2", "3"]


def test_list_rows_passes_filters_and_refuses_a_page_size_over_the_limit(make_client):
    client = make_client()

    page = client.list_rows(PERSONNE, filters={"filter__nom__contains": "Claire"})

    assert [row["nom"] for row in page.results] == ["Claire Martin"]
    assert page.count == 1 and not page.has_next
    with pytest.raises(InvalidRequest):
        client.list_rows(PERSONNE, size=500)
    with pytest.raises(InvalidRequest):
        client.list_rows(PERSONNE, filters={"nom": "Claire"})


def test_create_update_delete_roundtrip(baserow, make_client):
    client = make_client()

    created = client.create_row(PROJET, {"nom": "Nouveau projet", "client": [1]})
    updated = client.update_row(PROJET, created["id"], {"docmost_page_id": "abc"})
    client.delete_row(PROJET, created["id"])

    assert updated["docmost_page_id"] == "abc"
    assert updated["client"][0]["value"] == "Acme Formation"
    with pytest.raises(NotFound):
        client.get_row(PROJET, created["id"])


@pytest.fixture
def projet_webhook(baserow, http_receiver):
    baserow.add_webhook(PROJET, http_receiver.url, include_all_events=True)
    return http_receiver


def test_writes_send_no_webhook_when_configured_off(baserow, make_client, projet_webhook):
    client = make_client(send_webhook_events=False)

    row = client.create_row(PROJET, {"nom": "Silencieux"})
    client.update_row(PROJET, row["id"], {"docmost_page_id": "page-1"})
    client.delete_row(PROJET, row["id"])
    baserow.wait_for_deliveries(timeout=2)

    assert projet_webhook.requests == []
    writes = [call for call in api_calls(baserow) if call["method"] != "GET"]
    assert {call["query"]["send_webhook_events"] for call in writes} == {"false"}


def test_writes_fire_webhooks_when_configured_on_and_a_call_can_override(baserow, make_client, projet_webhook):
    client = make_client(send_webhook_events=True)

    row = client.create_row(PROJET, {"nom": "Bruyant"})
    client.update_row(PROJET, row["id"], {"docmost_page_id": "page-1"}, send_webhook_events=False)
    baserow.wait_for_deliveries(timeout=2)

    assert [body["event_type"] for body in projet_webhook.json_bodies()] == ["rows.created"]


def test_default_is_the_loop_breaker_send_webhook_events_false(baserow, make_client):
    make_client().update_row(PROJET, 1, {"docmost_page_id": "x"})

    assert api_calls(baserow)[-1]["query"]["send_webhook_events"] == "false"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_then_raised_as_retryable(baserow, make_client, status):
    baserow.fault(status=status, count=None, path_prefix="/api/database/rows/")

    with pytest.raises(ServiceUnavailable) as caught:
        make_client().get_row(PROJET, 1)

    assert caught.value.retryable
    assert caught.value.status == status
    assert caught.value.code == "ERROR_SANDBOX_FAULT"
    assert len(api_calls(baserow)) == 1 + QUICK.max_retries


def test_a_passing_server_error_is_absorbed_by_the_quick_retries(baserow, make_client):
    baserow.fault(status=503, count=2, path_prefix="/api/database/rows/")

    assert make_client().get_row(PROJET, 1)["id"] == 1
    assert [call["status"] for call in api_calls(baserow)] == [503, 503, 200]


def test_deadlock_409_is_retryable(baserow, make_client):
    baserow.fault(
        status=409, count=1, path_prefix="/api/database/rows/",
        body={"error": "ERROR_DATABASE_DEADLOCK", "detail": "try again"},
    )

    assert make_client().update_row(PROJET, 1, {"docmost_page_id": "y"})["docmost_page_id"] == "y"


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_client_errors_are_permanent_and_never_retried(baserow, make_client, status):
    baserow.fault(status=status, count=None, path_prefix="/api/database/rows/")

    with pytest.raises(PermanentError) as caught:
        make_client().get_row(PROJET, 1)

    assert not caught.value.retryable
    assert caught.value.status == status
    assert len(api_calls(baserow)) == 1


def test_timeout_is_retryable_when_the_stand_in_answers_later_than_the_read_timeout(baserow, make_client):
    baserow.fault(delay=0.6, count=None, path_prefix="/api/database/rows/")

    with pytest.raises(ServiceTimeout) as caught:
        make_client(timeout=(1.0, 0.2), retry=RetryPolicy(max_retries=0)).get_row(PROJET, 1)

    assert caught.value.retryable and caught.value.request_sent
    assert caught.value.status is None


def test_429_honours_retry_after_then_succeeds(baserow, make_client):
    baserow.fault(status=429, count=1, path_prefix="/api/database/rows/")
    client = make_client()
    slept = []
    client.transport.sleep = slept.append

    assert client.get_row(PROJET, 1)["id"] == 1
    assert slept == [1.0]


def test_429_with_a_retry_after_longer_than_allowed_goes_up_to_the_caller(baserow, make_client):
    baserow.fault(status=429, count=None, path_prefix="/api/database/rows/")
    client = make_client(retry=RetryPolicy(max_retries=3, max_retry_after=0.5))

    with pytest.raises(RateLimited) as caught:
        client.get_row(PROJET, 1)

    assert caught.value.retry_after == 1.0
    assert len(api_calls(baserow)) == 1


def test_create_row_is_not_retried_once_it_may_have_reached_baserow(baserow, make_client):
    baserow.fault(status=503, count=None, path_prefix="/api/database/rows/", method="POST")
    before = len(baserow.rows(PROJET))

    with pytest.raises(ServiceUnavailable) as caught:
        make_client().create_row(PROJET, {"nom": "Une fois"})

    assert caught.value.request_sent
    assert len(api_calls(baserow)) == 1
    assert len(baserow.rows(PROJET)) == before


def test_dropped_connection_is_retryable_and_counts_as_possibly_sent(baserow, make_client):
    baserow.fault(close=True, count=None, path_prefix="/api/database/rows/")

    with pytest.raises(ServiceUnavailable) as caught:
        make_client(retry=RetryPolicy(max_retries=0)).get_row(PROJET, 1)

    assert caught.value.request_sent


def test_refused_connection_is_retryable_and_retried_even_for_a_create():
    client = BaserowClient(f"http://127.0.0.1:{free_port()}", TOKEN, retry=QUICK, timeout=(0.5, 0.5))
    client.transport.sleep = lambda seconds: None

    with recording(CallLog()) as log, pytest.raises(ServiceUnavailable) as caught:
        client.create_row(PROJET, {"nom": "x"})

    assert not caught.value.request_sent
    assert [(record.status, record.outcome) for record in log.records] == [(None, "ServiceUnavailable")] * 3


def test_every_call_is_recorded_without_secrets(baserow, make_client):
    log = CallLog()
    client = make_client(recorder=log)
    baserow.fault(status=503, count=1, path_prefix="/api/database/rows/")

    client.get_row(PROJET, 1)
    client.list_webhooks(PROJET)

    assert [(r.method, r.status, r.attempt, r.outcome) for r in log.records] == [
        ("GET", 503, 1, "ServiceUnavailable"),
        ("GET", 200, 2, "ok"),
        ("POST", 200, 1, "ok"),
        ("GET", 200, 1, "ok"),
    ]
    assert log.records[0].path == "/api/database/rows/table/601/1/?user_field_names=true"
    assert log.records[2].path == "/api/user/token-auth/"
    text = repr(log.records)
    assert TOKEN not in text and ADMIN[1] not in text and "JWT" not in text


# Webhook management (admin JWT) ----------------------------------------------------------------------


def test_webhook_management_logs_in_once_and_reuses_the_jwt(baserow, make_client):
    baserow.add_webhook(PROJET, "http://127.0.0.1:9/hook")
    client = make_client()

    client.list_webhooks(PROJET)
    make_client().list_webhooks(PROJET)

    assert len(api_calls(baserow, "/api/user/token-auth/")) == 1
    webhook_call = api_calls(baserow, "/api/database/webhooks/")[-1]
    assert webhook_call["headers"]["authorization"].startswith("JWT ")


def test_an_access_token_near_expiry_is_refreshed_not_logged_in_again(baserow, make_client):
    baserow.configure(access_token_lifetime=5)
    client = make_client()

    client.list_webhooks(PROJET)
    client.list_webhooks(PROJET)

    assert len(api_calls(baserow, "/api/user/token-auth/")) == 1
    assert len(api_calls(baserow, "/api/user/token-refresh/")) == 1


def test_a_refused_jwt_is_renewed_once_and_the_call_repeated(baserow, make_client):
    client = make_client()
    client.list_webhooks(PROJET)
    baserow.server.jwt_secret = "rotated"  # every token issued so far, refresh included, is now refused
    baserow.control("DELETE", "calls")

    assert client.list_webhooks(PROJET) == []
    statuses = [(call["path"], call["status"]) for call in api_calls(baserow)]
    assert statuses == [
        ("/api/database/webhooks/table/601/", 401),
        ("/api/user/token-refresh/", 401),
        ("/api/user/token-auth/", 200),
        ("/api/database/webhooks/table/601/", 200),
    ]


def test_reenable_a_deactivated_webhook(baserow, make_client):
    webhook = baserow.add_webhook(PROJET, "http://127.0.0.1:9/hook")
    baserow.update_webhook(webhook["id"], active=False)
    client = make_client()

    assert [hook["active"] for hook in client.list_webhooks(PROJET)] == [False]
    enabled = client.enable_webhook(webhook["id"])

    assert enabled["active"] is True
    assert api_calls(baserow)[-1]["body"] == {"active": True}
    assert client.get_webhook(webhook["id"])["active"] is True


def test_update_webhook_refuses_a_field_baserow_does_not_take(baserow, make_client):
    with pytest.raises(InvalidRequest):
        make_client().update_webhook(1, activ=True)

    assert api_calls(baserow) == []


def test_webhook_management_without_admin_credentials_fails_permanently(baserow, make_client):
    with pytest.raises(AuthenticationFailed, match="admin account"):
        make_client(admin_email=None, admin_password=None).list_webhooks(PROJET)

    assert api_calls(baserow) == []


def test_wrong_admin_password_is_a_permanent_error(make_client):
    with pytest.raises(AuthenticationFailed) as caught:
        make_client(admin_password="wrong").list_webhooks(PROJET)

    assert caught.value.code == "ERROR_INVALID_CREDENTIALS"


def test_client_from_the_connection_row_reads_its_secrets_from_the_environment(db, baserow, monkeypatch):
    monkeypatch.setenv("BASEROW_DATABASE_TOKEN", TOKEN)
    monkeypatch.setenv("BASEROW_ADMIN_PASSWORD", ADMIN[1])
    connection = BaserowConnection.objects.create(url=baserow.url + "/", admin_email=ADMIN[0])

    client = BaserowClient.from_connection(connection)
    client.update_row(PROJET, 1, {"docmost_page_id": "p"})

    assert client.list_webhooks(PROJET) == []
    assert api_calls(baserow)[0]["query"]["send_webhook_events"] == "false"
