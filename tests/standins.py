"""Fixtures that run the local Baserow and Docmost stand-ins (sandbox/) in-process on a free port.

    def test_projet_row_creates_page(baserow_standin, docmost_standin, live_server):
        baserow_standin.seed_demo(webhook_url=f"{live_server.url}/api/webhooks/baserow/",
                                  webhook_headers={"X-Formation-Hub-Secret": "..."})
        baserow_standin.api("POST", "/api/database/rows/table/601/?user_field_names=true", {"nom": "Apollo"})
        baserow_standin.wait_for_deliveries()
        ...

`baserow_standin` starts empty, with webhook retries 50 ms apart (`configure(retry_base_delay=1)` for
Baserow's real 1, 2, 4 ... 128 s). `docmost_standin` starts with the demo seeded (`.demo_ids`). Helpers go
through the HTTP control API (`/_sandbox/...`); `.server` is the in-process object for anything else.
"""

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

import pytest
from django_q.conf import Conf

from sandbox.baserow import DEMO_TOKEN, BaserowStandIn
from sandbox.docmost import BOT_EMAIL, DocmostStandIn
from sandbox.forge import DEMO_REPOSITORY, ForgeStandIn
from sandbox.forge import DEMO_TOKEN as FORGE_TOKEN


class StandInError(AssertionError):
    """A control API call answered an unexpected status."""


def http_json(method: str, url: str, body: Any = None, headers: dict | None = None) -> tuple[int, Any, dict]:
    """(status, decoded JSON body or None, response headers) of one HTTP call."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw, status, response_headers = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, response_headers = error.read(), error.code, error.headers
    return status, json.loads(raw) if raw.strip() else None, dict(response_headers)


class _Handle:
    def __init__(self, server):
        self.server = server
        self.url = server.url

    def control(self, method: str, path: str, body: Any = None, *, expect: int | None = None) -> Any:
        """Call `/_sandbox/<path>`; fails the test unless the status is `expect` (any 2xx by default)."""
        status, data, _ = http_json(method, f"{self.url}/_sandbox/{path.lstrip('/')}", body)
        if (expect is None and status >= 300) or (expect is not None and status != expect):
            raise StandInError(f"{method} /_sandbox/{path} answered {status}: {data}")
        return data

    def fault(
        self,
        *,
        status: int | None = None,
        delay: float = 0.0,
        count: int | None = 1,
        path_prefix: str = "/",
        method: str | None = None,
        body: Any = None,
        close: bool = False,
    ) -> dict:
        """The next `count` matching requests (None: all until `clear_faults()`) wait `delay`, then answer
        `status` in the product's error shape (or `body`), or drop the connection (`close`)."""
        spec = {
            "status": status,
            "delay": delay,
            "count": count,
            "path_prefix": path_prefix,
            "method": method,
            "close": close,
        }
        if body is not None:
            spec["body"] = body
        return self.control("POST", "faults", spec)

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def calls(self, path_prefix: str = "") -> list[dict]:
        """Requests the product API received: method, path, query, headers, body, status, fault."""
        query = f"?{urlencode({'path_prefix': path_prefix})}" if path_prefix else ""
        return self.control("GET", f"calls{query}")["calls"]

    def configure(self, **settings) -> dict:
        return self.control("POST", "config", settings)

    def reset(self) -> None:
        self.control("POST", "reset", {})


class BaserowHandle(_Handle):
    token = DEMO_TOKEN

    def seed_demo(self, *, webhook_url: str | None = None, webhook_headers: dict | None = None) -> dict:
        """Database 60, tables projet 601 ... comptes_rendus 608, token `demo-baserow-token`, admin user; with
        `webhook_url`, one webhook per table (rows.created/updated/deleted, user field names)."""
        return self.control("POST", "demo", {"webhook_url": webhook_url, "webhook_headers": webhook_headers or {}})

    def create_table(
        self, name: str, fields: list | None = None, *, table_id: int | None = None, database_id=None
    ) -> dict:
        """Fields: [{"name", "type" (text, long_text, email, url, phone_number, number, boolean, date,
        single_select, link_row), "link_row_table_id" | "link_row_table", "select_options", ...}]."""
        body = {"name": name, "fields": fields, "id": table_id, "database_id": database_id}
        return self.control("POST", "tables", {key: value for key, value in body.items() if value is not None})

    def add_rows(self, table_id: int, items: list[dict], *, send_webhook_events: bool = False) -> list[dict]:
        """Rows keyed by field name; no webhook unless `send_webhook_events` (like an import)."""
        body = {"items": items, "send_webhook_events": send_webhook_events}
        return self.control("POST", f"tables/{table_id}/rows", body)["items"]

    def rows(self, table_id: int) -> list[dict]:
        return self.control("GET", f"tables/{table_id}/rows")["rows"]

    def trashed_rows(self, table_id: int) -> list[dict]:
        return self.control("GET", f"tables/{table_id}/rows")["trashed"]

    def restore_row(self, table_id: int, row_id: int) -> dict:
        """Take a row out of the trash: Baserow sends `rows.created` with its old id."""
        return self.control("POST", f"tables/{table_id}/rows/{row_id}/restore")

    def add_webhook(self, table_id: int, url: str, **options) -> dict:
        """Options: headers, use_user_field_names, include_all_events, events, event_config, request_method,
        name, active."""
        return self.control("POST", "webhooks", {"table_id": table_id, "url": url, **options})

    def update_webhook(self, webhook_id: int, **changes) -> dict:
        return self.control("PATCH", f"webhooks/{webhook_id}", changes)

    def webhooks(self) -> list[dict]:
        return self.control("GET", "webhooks")["webhooks"]

    def webhook(self, webhook_id: int) -> dict:
        return next(w for w in self.webhooks() if w["id"] == webhook_id)

    def deliveries(self, **filters) -> list[dict]:
        """Every delivery attempt: webhook_id, event_id, event_type, batch_id, attempt, url, headers, payload,
        status, error, ok, deactivated. Filters: webhook_id, event_type, event_id, table_id."""
        query = f"?{urlencode(filters)}" if filters else ""
        return self.control("GET", f"deliveries{query}")["deliveries"]

    def wait_for_deliveries(self, timeout: float = 5.0) -> None:
        """Block until nothing is queued, waiting for a retry, or in flight."""
        self.control("POST", "deliveries/wait", {"timeout": timeout}, expect=200)

    def api(self, method: str, path: str, body: Any = None, *, token: str | None = DEMO_TOKEN, jwt: str | None = None):
        """Call the Baserow REST API (`Authorization: Token ...`, or `JWT ...` when `jwt` is given):
        (status, body)."""
        headers = {"Authorization": f"JWT {jwt}"} if jwt else ({"Authorization": f"Token {token}"} if token else {})
        status, data, _ = http_json(method, f"{self.url}{path}", body, headers)
        return status, data

    def admin_jwt(self, email: str = "admin@formation-hub.local", password: str = "demo-baserow-admin") -> str:
        status, data = self.api("POST", "/api/user/token-auth/", {"email": email, "password": password}, token=None)
        if status != 200:
            raise StandInError(f"token-auth answered {status}: {data}")
        return data["access_token"]


class DocmostHandle(_Handle):
    bot_email = BOT_EMAIL

    @property
    def demo_ids(self) -> dict:
        """workspace_id, bot_user_id, human_user_id, space_agence_id, space_formations_id,
        project_template_page_id, compte_rendu_parent_page_id, compte_rendu_template_page_id,
        formation_template_page_id."""
        return self.control("GET", "state")["demo"]

    def seed_demo(self) -> dict:
        return self.control("POST", "demo")

    def token(self, email: str = BOT_EMAIL) -> str:
        """A session JWT for a user, without spending one of the 10 login calls a minute."""
        return self.control("POST", "login-token", {"email": email})["token"]

    def api(self, path: str, body: Any = None, *, token: str | None = None, cookie: bool = False) -> tuple[int, Any]:
        """POST to the Docmost API as the bot (or `token`), as `Authorization: Bearer` or as the cookie:
        (status, body)."""
        token = token or self.token()
        headers = {"Cookie": f"authToken={token}"} if cookie else {"Authorization": f"Bearer {token}"}
        status, data, _ = http_json("POST", f"{self.url}{path}", body if body is not None else {}, headers)
        return status, data

    def pages(self, space: str | None = None) -> list[dict]:
        """Every page, trashed ones included (`deletedAt`), content as markdown."""
        query = f"?{urlencode({'space': space})}" if space else ""
        return self.control("GET", f"pages{query}")["pages"]

    def page(self, page_id: str) -> dict:
        return next(p for p in self.pages() if page_id in (p["id"], p["slugId"]))

    def create_page(self, space: str, title: str, content: str | None = None, **options) -> dict:
        """A page written by a person in the UI (default user Marie Dupont). `space` is an id or slug.
        Options: parentPageId, icon, userEmail, format."""
        return self.control("POST", "pages", {"spaceId": space, "title": title, "content": content, **options})

    def update_page(self, page_id: str, **changes) -> dict:
        """Changes: title, icon, content (markdown), operation, userEmail."""
        return self.control("POST", f"pages/{page_id}/update", changes)

    def delete_page(self, page_id: str) -> dict:
        return self.control("POST", f"pages/{page_id}/delete")

    def restore_page(self, page_id: str) -> dict:
        return self.control("POST", f"pages/{page_id}/restore")

    def create_share(self, page_id: str, **options) -> dict:
        """A public share made by a person in the UI."""
        return self.control("POST", "shares", {"pageId": page_id, **options})

    def shares(self) -> list[dict]:
        return self.control("GET", "shares")["shares"]

    def create_space(self, name: str, slug: str, *, sharing_disabled: bool = False) -> dict:
        return self.control("POST", "spaces", {"name": name, "slug": slug, "sharingDisabled": sharing_disabled})

    def revoke_sessions(self, email: str | None = None) -> int:
        """Make every issued session token (or one user's) answer 401, like an expired session."""
        return self.control("POST", "sessions/revoke", {"email": email})["revoked"]


@pytest.fixture
def baserow_standin():
    server = BaserowStandIn(retry_base_delay=0.05).start()
    yield BaserowHandle(server)
    server.stop()


@pytest.fixture
def docmost_standin():
    server = DocmostStandIn(demo=True).start()
    yield DocmostHandle(server)
    server.stop()


class ForgeHandle(_Handle):
    """The GitHub- and Forgejo-shaped forge stand-in, demo repository `formation-hub/app` whose main
    requires the `formation-hub/gates` status."""

    repository = DEMO_REPOSITORY
    token = FORGE_TOKEN

    def open_pull_request(self, **fields) -> dict:
        """Fields: head_sha, title, head_ref, user (default dependabot[bot]), repository."""
        return self.control("POST", "pulls", {"repository": self.repository, **fields})

    def push(self, number: int, head_sha: str = "") -> dict:
        return self.control("POST", "pulls/push", {"repository": self.repository, "number": number,
                                                   "head_sha": head_sha})

    def commit(self, number: int, *messages: str) -> dict:
        """Give the pull request these commits (the last is the head)."""
        return self.control("POST", "pulls/commits", {"repository": self.repository, "number": number,
                                                      "messages": list(messages)})

    def force_merge(self, number: int) -> dict:
        """An admin merges on the forge, bypassing the required status."""
        return self.control("POST", "pulls/merge", {"repository": self.repository, "number": number})

    def require(self, *contexts: str) -> None:
        self.control("POST", "protection", {"repository": self.repository, "contexts": list(contexts)})

    def state(self) -> dict:
        return self.control("GET", "state")["repositories"][self.repository]

    def pull(self, number: int) -> dict:
        return next(pull for pull in self.state()["pulls"] if pull["number"] == number)

    def statuses(self, sha: str) -> list[dict]:
        return self.state()["statuses"].get(sha, [])


@pytest.fixture
def forge_standin():
    server = ForgeStandIn(demo=True).start()
    yield ForgeHandle(server)
    server.stop()


@pytest.fixture(params=["github", "forgejo"])
def forge(request, forge_standin, db, monkeypatch):
    """The forge connection pointed at the stand-in, once GitHub-shaped and once Forgejo-shaped."""
    from formation_hub.models import ForgeConnection

    monkeypatch.setenv("FORGE_TOKEN", FORGE_TOKEN)
    ForgeConnection.objects.update_or_create(key="default", defaults={
        "kind": request.param, "url": forge_standin.url, "repository": DEMO_REPOSITORY,
        "token_env_var": "FORGE_TOKEN",
    })
    forge_standin.kind = request.param
    return forge_standin


@pytest.fixture
def run_tasks_inline(monkeypatch, django_capture_on_commit_callbacks):
    """run_tasks_inline(service, **kwargs): the service's django-q2 tasks run in-process after its commit,
    as a worker would run them."""
    monkeypatch.setattr(Conf, "SYNC", True)

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run
