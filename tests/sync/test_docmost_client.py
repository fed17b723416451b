"""DocmostClient against the running Docmost stand-in (real HTTP, faults injected through its control API)."""

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox.docmost import BOT_PASSWORD
from sandbox.httpbase import free_port
from sync.clients.docmost import DocmostClient, marker_line
from sync.clients.docmost_login import forget_cached_tokens
from sync.clients.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotFound,
    PermanentError,
    RateLimited,
    ServiceTimeout,
    ServiceUnavailable,
)
from sync.clients.http import CallLog, RetryPolicy
from sync.models import DocmostConnection, SharedLogin
from sync.processing.pages import template_body

QUICK = RetryPolicy(max_retries=2, base=0.01, cap=0.02, max_retry_after=5)


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    forget_cached_tokens()
    yield
    forget_cached_tokens()


@pytest.fixture
def docmost(docmost_standin):
    return docmost_standin


@pytest.fixture
def space_id(docmost):
    return docmost.demo_ids["space_agence_id"]


@pytest.fixture
def make_client(docmost):
    def make(**options):
        options.setdefault("timeout", (1.0, 1.0))
        options.setdefault("retry", QUICK)
        if "api_key" not in options:
            options.setdefault("email", docmost.bot_email)
            options.setdefault("password", BOT_PASSWORD)
        client = DocmostClient(docmost.url, **options)
        client.transport.sleep = lambda seconds: None
        return client

    return make


def logins(docmost):
    return docmost.calls("/api/auth/login")


def api_calls(docmost, prefix="/api/pages/"):
    return docmost.calls(prefix)


# Authentication --------------------------------------------------------------------------------------


def test_bot_logs_in_once_and_every_client_of_the_process_reuses_the_token(docmost, make_client, space_id):
    first, second = make_client(), make_client()

    for _ in range(12):  # more calls than the 10 logins a minute Docmost allows
        first.space_info(space_id)
    second.space_info("agence")

    assert len(logins(docmost)) == 1
    call = docmost.calls("/api/spaces/info")[-1]
    assert call["headers"]["authorization"].startswith("Bearer ")
    assert "cookie" not in call["headers"]


def test_concurrent_clients_share_one_login(docmost, make_client, space_id):
    errors = []

    def work():
        try:
            make_client().space_info(space_id)
        except Exception as error:  # noqa: BLE001 - collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(logins(docmost)) == 1


def test_a_revoked_session_is_renewed_once_on_401_and_the_call_repeated(docmost, make_client, space_id):
    client = make_client()
    client.space_info(space_id)
    docmost.revoke_sessions()

    assert client.space_info(space_id)["slug"] == "agence"
    assert [call["status"] for call in docmost.calls("/api/")] == [200, 200, 401, 200, 200]
    assert len(logins(docmost)) == 2


def test_a_401_that_a_fresh_login_does_not_cure_is_permanent(docmost, make_client, space_id):
    client = make_client()
    client.space_info(space_id)
    docmost.fault(status=401, count=None, path_prefix="/api/spaces/info")

    with pytest.raises(AuthenticationFailed) as caught:
        client.space_info(space_id)

    assert caught.value.status == 401
    assert len(logins(docmost)) == 2


def test_wrong_bot_password_is_a_permanent_error(make_client):
    with pytest.raises(AuthenticationFailed, match="Email or password does not match"):
        make_client(password="wrong-password").space_info("agence")


def test_login_throttled_by_docmost_is_retryable_with_its_retry_after(docmost, make_client):
    docmost.configure(login_limit=1)
    make_client().space_info("agence")
    forget_cached_tokens()

    with pytest.raises(RateLimited) as caught:
        make_client().space_info("agence")

    assert caught.value.retry_after > 5
    assert len(logins(docmost)) == 2


def test_api_key_is_sent_as_bearer_and_no_login_happens(docmost, make_client, space_id):
    docmost.configure(edition="enterprise")
    key = docmost.control("POST", "api-keys", {"name": "formation-hub"})["token"]

    make_client(api_key=key).space_info(space_id)

    assert logins(docmost) == []
    assert docmost.calls("/api/spaces/info")[-1]["headers"]["authorization"] == f"Bearer {key}"


def test_api_key_on_the_community_edition_fails_without_a_login(docmost, make_client, space_id):
    docmost.configure(edition="community")
    key = docmost.server.create_api_key(user_id=docmost.demo_ids["bot_user_id"], name="k")["token"]

    with pytest.raises(AuthenticationFailed, match="Enterprise API Key module missing"):
        make_client(api_key=key).space_info(space_id)
    assert logins(docmost) == []


def test_a_client_without_credentials_is_refused_at_construction(docmost):
    with pytest.raises(AuthenticationFailed):
        DocmostClient(docmost.url, email="bot@x.org")


def test_calls_are_recorded_without_token_or_password(docmost, make_client, space_id):
    log = CallLog()
    client = make_client(recorder=log)

    client.space_info(space_id)

    assert [(r.method, r.path, r.status) for r in log.records] == [
        ("POST", "/api/auth/login", 200),
        ("POST", "/api/spaces/info", 200),
    ]
    token = docmost.calls("/api/spaces/info")[-1]["headers"]["authorization"].split()[1]
    assert token not in repr(log.records) and BOT_PASSWORD not in repr(log.records)


# Request whitelist -------------------------------------------------------------------------------------


def test_a_typo_in_a_request_field_fails_before_anything_is_sent(docmost, make_client, space_id):
    client = make_client()

    with pytest.raises(InvalidRequest, match="parentId"):
        client.call("/api/pages/create", {"spaceId": space_id, "title": "x", "parentId": "y"})

    assert docmost.calls("/api/") == []


def test_an_endpoint_outside_the_whitelist_is_refused(docmost, make_client):
    with pytest.raises(InvalidRequest):
        make_client().call("/api/pages/move", {"pageId": "x"})
    with pytest.raises(InvalidRequest):
        make_client().call("/api/auth/login", {"email": "a@b.c", "password": "x"})

    assert docmost.calls("/api/") == []


def test_body_update_without_operation_is_refused_locally(docmost, make_client):
    with pytest.raises(InvalidRequest, match="operation"):
        make_client().update_page("some-page", content="# new")

    assert docmost.calls("/api/") == []


# Pages -----------------------------------------------------------------------------------------------


def test_create_page_sends_markdown_with_format_and_reads_it_back(docmost, make_client, space_id):
    client = make_client()
    parent = docmost.demo_ids["project_template_page_id"]

    page = client.create_page(space_id=space_id, title="Projet Apollo - Acme", icon="📁",
                              parent_page_id=parent, content="# Apollo\n\n- Objectif 1")
    info = client.page_info(page["id"], format="markdown")

    assert page["title"] == "Projet Apollo - Acme" and page["parentPageId"] == parent
    assert "Objectif 1" in info["content"]
    assert docmost.calls("/api/pages/create")[-1]["body"]["format"] == "markdown"


def test_update_page_title_icon_and_body(docmost, make_client, space_id):
    client = make_client()
    page = client.create_page(space_id=space_id, title="Avant", content="Ancien texte")

    client.update_page(page["id"], title="Après", icon="✅")
    updated = client.update_page(page["id"], content="Nouveau texte", operation="replace", format="markdown")

    stored = docmost.page(page["id"])
    assert stored["title"] == "Après" and stored["icon"] == "✅"
    assert "Nouveau texte" in stored["content"] and "Ancien" not in stored["content"]
    assert updated["title"] == "Après"
    body = docmost.calls("/api/pages/update")[-1]["body"]
    assert body == {"pageId": page["id"], "content": "Nouveau texte", "operation": "replace", "format": "markdown"}


def test_missing_page_is_not_found_with_the_nest_message(make_client):
    with pytest.raises(NotFound) as caught:
        make_client().page_info("019c0000-0000-7000-8000-000000000000")

    assert caught.value.detail == "Page not found"
    assert caught.value.code == "Not Found"


def test_bad_request_is_permanent_with_the_validation_messages(docmost, make_client):
    with pytest.raises(PermanentError) as caught:
        make_client().create_page(space_id="agence", title="x")

    assert caught.value.status == 400
    assert "spaceId must be a UUID" in caught.value.detail
    assert len(docmost.calls("/api/pages/create")) == 1


def test_trash_and_restore_a_page(docmost, make_client, space_id):
    client = make_client()
    page = client.create_page(space_id=space_id, title="À archiver")

    client.trash_page(page["id"])
    trashed = [item["id"] for item in client.iter_trash(space_id=space_id)]
    recent = [item["id"] for item in client.iter_recent_pages(space_id=space_id)]
    client.restore_page(page["id"])

    assert page["id"] in trashed and page["id"] not in recent
    assert docmost.page(page["id"])["deletedAt"] is None
    assert "permanentlyDelete" not in docmost.calls("/api/pages/delete")[-1]["body"]


def test_recent_pages_follow_the_cursor_to_the_last_page(docmost, make_client, space_id):
    client = make_client()
    for number in range(5):
        client.create_page(space_id=space_id, title=f"Page {number}")

    first = client.recent_pages(space_id=space_id, limit=2)
    second = client.recent_pages(space_id=space_id, limit=2, cursor=first.next_cursor)
    everything = list(client.iter_recent_pages(space_id=space_id))
    limited = list(client.iter_recent_pages(space_id=space_id, max_items=3))

    assert [page["title"] for page in first.items] == ["Page 4", "Page 3"]
    assert [page["title"] for page in second.items] == ["Page 2", "Page 1"]
    assert len(everything) == len(docmost.pages("agence"))
    assert len(limited) == 3


def test_space_by_slug(docmost, make_client):
    client = make_client()

    assert client.space_by_slug("agence")["id"] == docmost.demo_ids["space_agence_id"]
    with pytest.raises(NotFound):
        client.space_by_slug("nowhere")


def test_shares_listing_and_share_for_page(docmost, make_client, space_id):
    client = make_client()
    page = client.create_page(space_id=space_id, title="Page publique")
    quiet = client.create_page(space_id=space_id, title="Page privée")
    share = docmost.create_share(page["id"])

    listed = list(client.iter_shares())

    assert [(item["key"], item["page"]["title"]) for item in listed] == [(share["key"], "Page publique")]
    assert client.share_for_page(page["id"])["id"] == share["id"]
    assert client.share_for_page(quiet["id"]) is None


# Failures: retryable or permanent ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_on_reads_are_retried_then_raised_as_retryable(docmost, make_client, space_id, status):
    docmost.fault(status=status, count=None, path_prefix="/api/spaces/info")

    with pytest.raises(ServiceUnavailable) as caught:
        make_client().space_info(space_id)

    assert caught.value.retryable and caught.value.status == status
    assert len(docmost.calls("/api/spaces/info")) == 1 + QUICK.max_retries


def test_timeout_on_a_read_is_retryable(docmost, make_client, space_id):
    docmost.fault(delay=0.5, count=None, path_prefix="/api/spaces/info")

    with pytest.raises(ServiceTimeout):
        make_client(timeout=(1.0, 0.15), retry=RetryPolicy(max_retries=0)).space_info(space_id)


def test_429_waits_retry_after_then_succeeds(docmost, make_client, space_id):
    client = make_client()
    slept = []
    client.transport.sleep = slept.append
    docmost.fault(status=429, count=1, path_prefix="/api/spaces/info")

    assert client.space_info(space_id)["id"] == space_id
    assert slept == [1.0]


@pytest.mark.parametrize("status", [400, 403, 404])
def test_client_errors_are_permanent_and_not_retried(docmost, make_client, space_id, status):
    docmost.fault(status=status, count=None, path_prefix="/api/spaces/info")

    with pytest.raises(PermanentError):
        make_client().space_info(space_id)

    assert len(docmost.calls("/api/spaces/info")) == 1


def test_docmost_down_is_retryable():
    client = DocmostClient(f"http://127.0.0.1:{free_port()}", api_key="k", retry=RetryPolicy(max_retries=0))

    with pytest.raises(ServiceUnavailable) as caught:
        client.space_info("agence")

    assert not caught.value.request_sent


def test_create_page_is_never_retried_blindly(docmost, make_client, space_id):
    docmost.fault(status=503, count=None, path_prefix="/api/pages/create")

    with pytest.raises(ServiceUnavailable):
        make_client().create_page(space_id=space_id, title="Une seule fois")

    assert len(docmost.calls("/api/pages/create")) == 1


# create_page_once ------------------------------------------------------------------------------------


def pages_titled(docmost, title):
    return [page for page in docmost.pages() if page["title"] == title]


def wait_for_page(docmost, title, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pages_titled(docmost, title):
            return
        time.sleep(0.05)
    raise AssertionError(f"page {title!r} never appeared")


def test_create_page_once_creates_with_the_marker_then_finds_it(docmost, make_client, space_id):
    client = make_client()

    page, created = client.create_page_once(space_id=space_id, title="Projet Zeta - Acme", marker="projet-601-9",
                                            content="# Zeta")
    again, created_again = client.create_page_once(space_id=space_id, title="Projet Zeta - Acme",
                                                   marker="projet-601-9", content="# Zeta")

    assert created and not created_again
    assert again["id"] == page["id"]
    assert marker_line("projet-601-9") in docmost.page(page["id"])["content"]
    assert len(docmost.calls("/api/pages/create")) == 1


def test_create_page_once_does_not_take_a_same_titled_page_without_its_marker(docmost, make_client, space_id):
    docmost.create_page(space_id, "Projet Homonyme - Acme", "Écrit à la main")

    page, created = make_client().create_page_once(space_id=space_id, title="Projet Homonyme - Acme",
                                                   marker="projet-601-10")

    assert created
    assert len(pages_titled(docmost, "Projet Homonyme - Acme")) == 2


def test_create_page_once_after_a_timeout_does_not_create_a_second_page(docmost, make_client, space_id):
    title = "Projet Lent - Acme"
    client = make_client(timeout=(1.0, 0.2))
    docmost.fault(delay=0.6, count=1, path_prefix="/api/pages/create")

    with pytest.raises(ServiceTimeout):
        client.create_page_once(space_id=space_id, title=title, marker="projet-601-11", settle=0.0)
    wait_for_page(docmost, title)  # Docmost finished the create after the client gave up
    page, created = client.create_page_once(space_id=space_id, title=title, marker="projet-601-11")

    assert not created
    assert [found["id"] for found in pages_titled(docmost, title)] == [page["id"]]
    assert len(docmost.calls("/api/pages/create")) == 1


def test_create_page_once_finds_the_page_a_timed_out_create_made_within_the_same_call(docmost, make_client, space_id):
    title = "Projet Patient - Acme"
    client = make_client(timeout=(1.0, 0.2))
    client.transport.sleep = time.sleep
    docmost.fault(delay=0.4, count=1, path_prefix="/api/pages/create")

    page, created = client.create_page_once(space_id=space_id, title=title, marker="projet-601-12", settle=0.5)

    assert not created
    assert [found["id"] for found in pages_titled(docmost, title)] == [page["id"]]
    assert len(docmost.calls("/api/pages/create")) == 1


def test_create_page_once_after_a_server_error_raises_without_creating_again(docmost, make_client, space_id):
    docmost.fault(status=500, count=1, path_prefix="/api/pages/create")

    with pytest.raises(ServiceUnavailable):
        make_client().create_page_once(space_id=space_id, title="Projet Fragile", marker="projet-601-13")
    page, created = make_client().create_page_once(space_id=space_id, title="Projet Fragile", marker="projet-601-13")

    assert created
    assert len(pages_titled(docmost, "Projet Fragile")) == 1
    assert len(docmost.calls("/api/pages/create")) == 2


def test_create_page_once_refuses_a_marker_markdown_would_mangle(docmost, make_client, space_id):
    with pytest.raises(InvalidRequest):
        make_client().create_page_once(space_id=space_id, title="x", marker="projet_601*1")

    assert docmost.calls("/api/") == []


def test_client_from_the_connection_row_logs_in_as_its_bot(db, docmost, monkeypatch):
    monkeypatch.setenv("DOCMOST_BOT_PASSWORD", BOT_PASSWORD)
    monkeypatch.delenv("DOCMOST_API_KEY", raising=False)
    connection = DocmostConnection.objects.create(url=docmost.url, bot_email=docmost.bot_email, space_slug="agence")

    space = DocmostClient.from_connection(connection).space_by_slug(connection.space_slug)

    assert space["id"] == docmost.demo_ids["space_agence_id"]
    assert len(logins(docmost)) == 1


def test_client_from_the_connection_row_prefers_its_api_key(db, docmost, monkeypatch):
    docmost.configure(edition="enterprise")
    monkeypatch.setenv("DOCMOST_API_KEY", docmost.control("POST", "api-keys", {"name": "fh"})["token"])
    connection = DocmostConnection.objects.create(url=docmost.url, bot_email=docmost.bot_email, space_slug="agence")

    DocmostClient.from_connection(connection).space_by_slug("agence")

    assert logins(docmost) == []


def test_create_page_once_since_an_earlier_attempt_finds_the_page_behind_more_than_200_newer_ones(
    docmost, make_client, space_id
):
    title = "Projet Enfoui - Acme"
    since = timezone.now()
    client = make_client(timeout=(1.0, 0.2))
    docmost.fault(delay=0.6, count=1, path_prefix="/api/pages/create")
    with pytest.raises(ServiceTimeout):
        client.create_page_once(space_id=space_id, title=title, marker="projet-601-14", settle=0.0)
    wait_for_page(docmost, title)
    for number in range(210):
        docmost.create_page(space_id, f"Autre page {number}")

    assert client.find_page_by_marker(space_id=space_id, title=title, marker="projet-601-14") is None
    page, created = client.create_page_once(space_id=space_id, title=title, marker="projet-601-14", since=since)

    assert not created
    assert [found["id"] for found in pages_titled(docmost, title)] == [page["id"]]
    assert len(docmost.calls("/api/pages/create")) == 1


def test_a_marker_search_since_a_moment_stops_at_the_pages_older_than_it(docmost, make_client, space_id):
    client = make_client()
    client.create_page_once(space_id=space_id, title="Projet Ancien", marker="projet-601-15")
    later = timezone.now() + timedelta(minutes=10)
    before = len(docmost.calls("/api/pages/"))

    assert client.find_page_by_marker(space_id=space_id, title="Projet Ancien", marker="projet-601-15",
                                      since=later) is None
    assert len(docmost.calls("/api/pages/")) - before == 1  # one listing, no page read


# Docmost 0.95 as it really is (contracts/REAL-PEERS.md) -------------------------------------------


def test_a_throttled_login_honours_retry_after_auth_and_sends_no_login_storm(docmost, make_client):
    docmost.configure(login_limit=1)
    make_client().space_info("agence")
    forget_cached_tokens()  # a new worker process

    errors = []
    for _ in range(3):
        with pytest.raises(RateLimited) as caught:
            make_client().space_info("agence")
        errors.append(caught.value)

    assert 50 < errors[0].retry_after <= 61  # Retry-After-Auth: 60, not a quick backoff
    assert len(logins(docmost)) == 2  # the refused login is remembered: no retry, no second refusal
    assert [call["status"] for call in logins(docmost)] == [200, 429]


def test_a_restarted_worker_reuses_the_shared_login_from_the_database(db, docmost, monkeypatch):
    monkeypatch.setenv("DOCMOST_BOT_PASSWORD", BOT_PASSWORD)
    monkeypatch.delenv("DOCMOST_API_KEY", raising=False)
    connection = DocmostConnection.objects.create(url=docmost.url, bot_email=docmost.bot_email, space_slug="agence")

    for _ in range(20):
        forget_cached_tokens()  # what a restart loses: everything the process held
        DocmostClient.from_connection(connection).space_info("agence")

    assert len(logins(docmost)) == 1
    assert SharedLogin.objects.get().logins == 1


def test_a_worker_finding_the_shared_token_revoked_logs_in_once_for_everyone(db, docmost, monkeypatch):
    monkeypatch.setenv("DOCMOST_BOT_PASSWORD", BOT_PASSWORD)
    monkeypatch.delenv("DOCMOST_API_KEY", raising=False)
    connection = DocmostConnection.objects.create(url=docmost.url, bot_email=docmost.bot_email, space_slug="agence")
    DocmostClient.from_connection(connection).space_info("agence")
    docmost.revoke_sessions()

    DocmostClient.from_connection(connection).space_info("agence")
    forget_cached_tokens()
    DocmostClient.from_connection(connection).space_info("agence")

    assert len(logins(docmost)) == 2


def test_a_marker_is_matched_whole_so_row_1_never_adopts_the_page_of_row_12(docmost, make_client, space_id):
    client = make_client()
    twelve, _ = client.create_page_once(space_id=space_id, title="Projet Homonyme", marker="baserow/601/12")

    one, created = client.create_page_once(space_id=space_id, title="Projet Homonyme", marker="baserow/601/1")

    assert created and one["id"] != twelve["id"]
    assert client.find_page_by_marker(space_id=space_id, title="Projet Homonyme", marker="baserow/601/1")["id"] \
        == one["id"]


RICH_TEMPLATE = (
    "<h1>Projet {{nom}}</h1><p>Client : <strong>{{client}}</strong> 🚀</p>"
    "<ul><li><p>Objectif</p><ul><li><p>Sous-objectif</p></li></ul></li><li><p>Second</p></li></ul>"
    "<blockquote><p>Une citation</p></blockquote><pre><code>make test\n</code></pre>"
    "<table><tbody><tr><th><p>Rôle</p></th><th><p>Nom</p></th></tr>"
    "<tr><td><p>Chef de projet</p></td><td><p>{{nom}}</p></td></tr></tbody></table>"
    '<p>Voir <a href="https://example.org">le site</a> ✅</p>'
)


def test_a_page_from_a_template_with_a_table_has_the_table_once_and_no_blank_row(docmost, make_client, space_id):
    client = make_client()
    template = client.create_page(space_id=space_id, title="Modèle riche", content=RICH_TEMPLATE, format="html")
    body = template_body(client, template["id"], {"nom": "Apollo & Co", "client": "Acme <SA>"})

    page, created = client.create_page_once(space_id=space_id, title="Projet Apollo", marker="baserow/601/7",
                                            content=body, format="html")

    doc = client.page_info(page["id"])["content"]
    [table] = [node for node in doc["content"] if node["type"] == "table"]
    rows = [[_text(cell) for cell in row["content"]] for row in table["content"]]
    assert created and rows == [["Rôle", "Nom"], ["Chef de projet", "Apollo & Co"]]
    assert [cell["type"] for cell in table["content"][0]["content"]] == ["tableHeader", "tableHeader"]
    html = client.page_info(page["id"], format="html")["content"]
    for kept in ("<blockquote>", "<pre><code>make test", "https://example.org", "🚀", "✅", "Acme &lt;SA&gt;",
                 "<ul><li><p>Sous-objectif</p></li></ul>", marker_line("baserow/601/7")):
        assert kept in html
    again, created_again = client.create_page_once(space_id=space_id, title="Projet Apollo", marker="baserow/601/7",
                                                   content=body, format="html")
    assert again["id"] == page["id"] and not created_again


def _text(node: dict) -> str:
    return node.get("text", "") + "".join(_text(child) for child in node.get("content", []))


def test_a_cursor_docmost_cannot_read_is_a_permanent_error_without_retries(docmost, make_client):
    client = make_client()

    with pytest.raises(PermanentError, match="cannot read the cursor"):
        client.recent_pages(cursor="garbage")

    assert [call["body"].get("cursor") for call in docmost.calls("/api/pages/recent")] == ["garbage", None]


def test_a_500_with_a_cursor_while_docmost_is_down_stays_retryable(docmost, make_client):
    docmost.fault(status=500, count=None, path_prefix="/api/pages/recent")

    with pytest.raises(ServiceUnavailable):
        make_client().recent_pages(cursor="garbage")
