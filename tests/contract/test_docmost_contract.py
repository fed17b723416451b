"""What formation-hub relies on from Docmost 0.95, request by request (issue 13).

Every test runs twice: against the stand-in (`sandbox/docmost`, always) and against a real Docmost when
DOCMOST_CONTRACT_URL is set, signing in as DOCMOST_CONTRACT_EMAIL / DOCMOST_CONTRACT_PASSWORD (the
workspace owner; a space named "Contract <random>" is created for the run). Without the URL the real
variant skips, saying so. Run only these with `pytest -m contract`; docs/contracts.md has the steps.

The real server allows 10 auth calls a minute per client address: the module signs in twice (raw helper
and client) and the limiter test then exhausts the allowance, so wait a minute between two real runs.
"""

import os
import secrets
from dataclasses import dataclass, field

import pytest
import requests

from sandbox.docmost import BOT_PASSWORD
from sync.clients.docmost import DocmostClient, marker_line
from sync.clients.errors import NotFound, PermanentError, RateLimited
from sync.clients.http import CallLog, RetryPolicy
from sync.clients.shared_login import LoginStore
from sync.processing.pages import template_body

pytestmark = pytest.mark.contract

QUICK = RetryPolicy(max_retries=1, base=0.05, cap=0.1, max_retry_after=2)
REAL_URL_VARIABLE = "DOCMOST_CONTRACT_URL"

RICH_HTML = (
    "<h1>Projet {{nom}}</h1><p>Client : <strong>{{client}}</strong> 🚀</p>"
    "<ul><li><p>Objectif</p><ul><li><p>Sous-objectif</p></li></ul></li><li><p>Second</p></li></ul>"
    "<blockquote><p>Une citation</p></blockquote><pre><code>make test\n</code></pre>"
    "<table><tbody><tr><th><p>Rôle</p></th><th><p>Nom</p></th></tr>"
    "<tr><td><p>Chef de projet</p></td><td><p>{{nom}}</p></td></tr></tbody></table>"
    '<p>Voir <a href="https://example.org">le site</a> ✅</p>'
)


@dataclass
class Peer:
    """One Docmost to hold to the contract: where it is, who signs in, the space the tests write in."""

    name: str
    url: str
    email: str
    password: str
    space_id: str
    token: str = ""
    logins: LoginStore = field(default_factory=LoginStore)

    def client(self, **options) -> DocmostClient:
        options.setdefault("retry", QUICK)
        options.setdefault("timeout", (3.0, 15.0))
        options.setdefault("login_store", self.logins)
        client = DocmostClient(self.url, email=self.email, password=self.password, **options)
        client.transport.sleep = lambda seconds: None
        return client

    def raw(self, path: str, body, *, token: str | None = None) -> tuple[int, object, dict]:
        """A request the client does not make (fixtures: shares by a person, calls it refuses to send)."""
        headers = {"Authorization": f"Bearer {token if token is not None else self.token}"}
        response = requests.post(f"{self.url}{path}", json=body, headers=headers, timeout=15)
        return response.status_code, response.json() if response.content else None, response.headers


def _real_peer() -> Peer:
    url = os.environ[REAL_URL_VARIABLE].rstrip("/")
    email, password = os.environ["DOCMOST_CONTRACT_EMAIL"], os.environ["DOCMOST_CONTRACT_PASSWORD"]
    login = requests.post(f"{url}/api/auth/login", json={"email": email, "password": password}, timeout=15)
    login.raise_for_status()
    token = login.cookies["authToken"]
    slug = f"contract-{secrets.token_hex(3)}"
    space = requests.post(f"{url}/api/spaces/create", json={"name": f"Contract {slug[-6:]}", "slug": slug},
                          headers={"Authorization": f"Bearer {token}"}, timeout=15)
    space.raise_for_status()
    peer = Peer("real", url, email, password, space.json()["data"]["id"], token)
    peer.client().space_info(peer.space_id)  # the client's own login, before any test can use up the limit
    return peer


@pytest.fixture(scope="session")
def real_docmost():
    if not os.environ.get(REAL_URL_VARIABLE):
        pytest.skip(f"{REAL_URL_VARIABLE} is not set: no real Docmost to hold to the contract "
                    "(see docs/contracts.md to build and run one)")
    return _real_peer()


@pytest.fixture(params=["stand-in", "real"])
def peer(request):
    if request.param == "real":
        return request.getfixturevalue("real_docmost")
    standin = request.getfixturevalue("docmost_standin")
    peer = Peer("stand-in", standin.url, standin.bot_email, BOT_PASSWORD, standin.demo_ids["space_agence_id"],
                standin.server.login_token())
    peer.client().space_info(peer.space_id)  # signed in before a test uses up the limit, as the real peer
    return peer


def _text(node: dict) -> str:
    return node.get("text", "") + "".join(_text(child) for child in node.get("content", []))


def _table_rows(doc: dict) -> list[list[tuple[str, str]]]:
    [table] = [node for node in doc["content"] if node["type"] == "table"]
    return [[(cell["type"], _text(cell)) for cell in row["content"]] for row in table["content"]]


def test_the_bot_signs_in_and_reads_its_space_by_uuid(peer):
    space = peer.client().space_info(peer.space_id)

    assert space["id"] == peer.space_id and space["slug"]
    assert peer.client().space_by_slug(space["slug"])["id"] == peer.space_id


def test_an_unknown_space_or_page_is_not_found(peer):
    client = peer.client()

    with pytest.raises(NotFound, match="Space not found"):
        client.space_info("no-such-space-slug")
    with pytest.raises(NotFound, match="Page not found"):
        client.page_info("01a24000-0000-7000-8000-000000000000")


def test_an_html_body_keeps_its_table_once_while_the_markdown_export_demotes_the_header(peer):
    client = peer.client()
    page = client.create_page(space_id=peer.space_id, title="Contrat tableau", content=RICH_HTML, format="html")

    doc = client.page_info(page["id"])["content"]
    html_body = client.page_info(page["id"], format="html")["content"]
    copy = client.create_page(space_id=peer.space_id, title="Contrat copie", content=html_body, format="html")
    markdown = client.page_info(page["id"], format="markdown")["content"]

    header = [("tableHeader", "Rôle"), ("tableHeader", "Nom")]
    assert _table_rows(doc) == [header, [("tableCell", "Chef de projet"), ("tableCell", "{{nom}}")]]
    assert _table_rows(client.page_info(copy["id"])["content"]) == _table_rows(doc)  # html round trip: lossless
    for kept in ("<blockquote", "make test", 'href="https://example.org"', "🚀", "✅", "Sous-objectif"):
        assert kept in html_body
    assert "|     |     |\n| --- | --- |\n| Rôle | Nom |" in markdown  # why formation-hub never reads markdown


def test_create_page_once_marks_an_html_page_and_matches_the_whole_marker(peer):
    client = peer.client()
    suffix = secrets.token_hex(3)
    twelve, _ = client.create_page_once(space_id=peer.space_id, title=f"Projet {suffix}", marker=f"c/{suffix}/12",
                                        content=RICH_HTML, format="html")

    one, created = client.create_page_once(space_id=peer.space_id, title=f"Projet {suffix}", marker=f"c/{suffix}/1",
                                           content=RICH_HTML, format="html")
    again, created_again = client.create_page_once(space_id=peer.space_id, title=f"Projet {suffix}",
                                                   marker=f"c/{suffix}/1", content=RICH_HTML, format="html")

    assert created and one["id"] != twelve["id"]
    assert (again["id"], created_again) == (one["id"], False)
    assert marker_line(f"c/{suffix}/1") in client.page_info(one["id"], format="html")["content"]
    assert one["contributorIds"] == []


def test_a_page_from_a_template_with_a_table_has_the_table_exactly_once_and_no_blank_row(peer):
    client = peer.client()
    template = client.create_page(space_id=peer.space_id, title="Contrat modèle", content=RICH_HTML, format="html")
    body = template_body(client, template["id"], {"nom": "Apollo & Co", "client": "Acme"})

    page, created = client.create_page_once(space_id=peer.space_id, title=f"Projet {secrets.token_hex(3)}",
                                            marker=f"c/{secrets.token_hex(3)}/1", content=body, format="html")

    assert created
    assert _table_rows(client.page_info(page["id"])["content"]) == [
        [("tableHeader", "Rôle"), ("tableHeader", "Nom")],
        [("tableCell", "Chef de projet"), ("tableCell", "Apollo & Co")],
    ]


def test_title_and_icon_update_and_null_clears_them(peer):
    client = peer.client()
    page = client.create_page(space_id=peer.space_id, title="Contrat titre", icon="🟢")

    updated = client.update_page(page["id"], title="Contrat titre v2", icon="✅")
    cleared = client.update_page(page["id"], title=None, icon=None)

    assert (updated["title"], updated["icon"]) == ("Contrat titre v2", "✅")
    assert (cleared["title"], cleared["icon"]) == (None, None)


def test_recent_pages_cursor_is_stable_while_pages_are_inserted(peer):
    client = peer.client()
    for number in range(3):
        client.create_page(space_id=peer.space_id, title=f"Contrat liste {number}")
    first = client.recent_pages(space_id=peer.space_id, limit=2)
    client.create_page(space_id=peer.space_id, title="Contrat insérée")

    second = client.recent_pages(space_id=peer.space_id, limit=2, cursor=first.next_cursor)

    first_ids = {page["id"] for page in first.items}
    assert first.next_cursor and second.items
    assert not first_ids & {page["id"] for page in second.items}
    assert "Contrat insérée" not in [page["title"] for page in second.items]
    assert {"id", "title", "parentPageId", "updatedAt", "spaceId", "space"} <= set(first.items[0])


def test_a_cursor_docmost_cannot_read_is_a_500_the_client_reports_as_permanent(peer):
    status, body, _ = peer.raw("/api/pages/recent", {"limit": 5, "cursor": "garbage"})

    assert (status, body) == (500, {"statusCode": 500, "message": "Internal server error"})
    with pytest.raises(PermanentError, match="cannot read the cursor"):
        peer.client().recent_pages(cursor="garbage")


def test_trash_keeps_content_and_space_info_still_answers_and_restore_says_has_children(peer):
    client = peer.client()
    parent = client.create_page(space_id=peer.space_id, title="Contrat parent")
    child = client.create_page(space_id=peer.space_id, title="Contrat enfant", parent_page_id=parent["id"],
                               content="<p>corps</p>", format="html")

    client.trash_page(child["id"])
    trashed = next(page for page in client.iter_trash(space_id=peer.space_id) if page["id"] == child["id"])
    info = client.page_info(child["id"])
    restored = client.restore_page(child["id"])

    assert trashed["content"]["type"] == "doc" and trashed["space"]["id"] == peer.space_id
    assert info["deletedAt"] is not None
    assert restored["deletedAt"] is None and restored["hasChildren"] is False


def test_a_sub_page_of_a_page_shared_with_sub_pages_answers_the_parents_share(peer):
    client = peer.client()
    parent = client.create_page(space_id=peer.space_id, title="Contrat partagé")
    child = client.create_page(space_id=peer.space_id, title="Contrat sous-page", parent_page_id=parent["id"])
    status, created, _ = peer.raw("/api/shares/create", {"pageId": parent["id"], "includeSubPages": True})
    assert status == 200, created

    own = client.share_for_page(parent["id"])
    inherited = client.share_for_page(child["id"])
    listed = next(share for share in client.iter_shares() if share["pageId"] == parent["id"])

    assert (own["level"], own["sharedPage"]["id"]) == (0, parent["id"])
    assert (inherited["level"], inherited["pageId"], inherited["sharedPage"]["title"]) == (
        1, parent["id"], "Contrat partagé")
    assert {"page", "space", "creator", "key", "includeSubPages", "updatedAt"} <= set(listed)
    assert client.share_for_page(client.create_page(space_id=peer.space_id, title="Contrat privé")["id"]) is None
    with pytest.raises(NotFound, match="Shared page not found"):
        client.share_for_page("zzzzzzzzzz")


def test_content_without_format_or_a_body_update_without_operation_is_a_400(peer):
    page = peer.client().create_page(space_id=peer.space_id, title="Contrat 400")

    no_format = peer.raw("/api/pages/create", {"spaceId": peer.space_id, "title": "x", "content": "# x"})
    no_operation = peer.raw("/api/pages/update", {"pageId": page["id"], "content": "x", "format": "markdown"})

    assert no_format[:2] == (400, {"message": ["format must be one of the following values: json, markdown, html"],
                                   "error": "Bad Request", "statusCode": 400})
    assert no_operation[:2] == (400, {"message": ["operation must be one of the following values: append, prepend, "
                                                  "replace"], "error": "Bad Request", "statusCode": 400})


def test_the_auth_limiter_answers_retry_after_auth_and_the_client_waits_it_out(peer):
    statuses, headers = [], None
    for _ in range(12):
        status, body, headers = peer.raw("/api/auth/login", {"email": "nobody@docmost.test",
                                                             "password": "not-the-password"}, token="")
        statuses.append(status)
        if status == 429:
            break
    log = CallLog()
    # Another password: a client that has no session yet (the peer's own is cached for the other tests).
    client = DocmostClient(peer.url, email=peer.email, password=f"{peer.password}-x", recorder=log, retry=QUICK,
                           login_store=LoginStore())

    with pytest.raises(RateLimited) as first:
        client.space_info(peer.space_id)
    with pytest.raises(RateLimited):
        client.space_info(peer.space_id)

    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}
    assert body == {"statusCode": 429, "message": "Too many requests"}
    assert int(headers["Retry-After-Auth"]) > 0 and "Retry-After" not in headers
    assert first.value.retry_after > 30
    assert [record.path for record in log.records] == ["/api/auth/login"]  # one refused login, then none
    # The peer's own session is untouched: the tests after this one still run.
    assert peer.client().space_info(peer.space_id)["id"] == peer.space_id
