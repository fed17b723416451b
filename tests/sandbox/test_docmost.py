"""The Docmost stand-in against contracts §4 and §5: envelope, NestJS errors, auth, pages, spaces, shares."""

import http.client
import time
import urllib.error
import urllib.request

import pytest

from sandbox.docmost import DocmostStandIn
from tests.standins import http_json

LOGIN = {"email": "bot@formation-hub.local", "password": "demo-docmost-password"}


def test_login_answers_bare_envelope_and_sets_the_auth_token_cookie(docmost_standin):
    status, body, headers = http_json("POST", f"{docmost_standin.url}/api/auth/login", LOGIN)

    assert (status, body) == (200, {"success": True, "status": 200})
    cookie = headers["Set-Cookie"]
    assert cookie.startswith("authToken=ey")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    token = cookie.split(";")[0].split("=", 1)[1]
    assert docmost_standin.api("/api/users/me", token=token)[1]["data"]["user"]["email"] == LOGIN["email"]


def test_wrong_password_and_bad_email_answer_nest_errors(docmost_standin):
    wrong = http_json("POST", f"{docmost_standin.url}/api/auth/login", {**LOGIN, "password": "not-the-password"})
    invalid = http_json("POST", f"{docmost_standin.url}/api/auth/login", {"email": "bot", "password": "x"})

    assert wrong[:2] == (
        401,
        {"message": "Email or password does not match", "error": "Unauthorized", "statusCode": 401},
    )
    assert invalid[0] == 400
    assert invalid[1] == {
        "message": ["email must be an email", "password must be longer than or equal to 8 characters"],
        "error": "Bad Request",
        "statusCode": 400,
    }


def test_login_is_limited_to_10_calls_a_minute(docmost_standin):
    statuses = [http_json("POST", f"{docmost_standin.url}/api/auth/login", LOGIN)[0] for _ in range(11)]

    assert statuses == [200] * 10 + [429]
    status, body, headers = http_json("POST", f"{docmost_standin.url}/api/auth/login", LOGIN)
    assert body == {"statusCode": 429, "message": "Too many requests"}
    assert int(headers["Retry-After-Auth"]) > 0 and "Retry-After" not in headers


def test_login_window_is_configurable(docmost_standin):
    docmost_standin.configure(login_limit=1, login_window=0.2)

    first = http_json("POST", f"{docmost_standin.url}/api/auth/login", LOGIN)[0]
    second = http_json("POST", f"{docmost_standin.url}/api/auth/login", LOGIN)[0]
    time.sleep(0.25)
    third = http_json("POST", f"{docmost_standin.url}/api/auth/login", LOGIN)[0]

    assert (first, second, third) == (200, 429, 200)


def test_every_other_call_needs_a_token(docmost_standin):
    for path in ("/api/pages/info", "/api/spaces", "/api/shares", "/api/pages/recent"):
        status, body, _ = http_json("POST", f"{docmost_standin.url}{path}", {})
        assert (status, body) == (401, {"message": "Unauthorized", "statusCode": 401})
    assert docmost_standin.api("/api/spaces", token="not.a.jwt")[0] == 401


def test_token_works_as_bearer_header_and_as_cookie(docmost_standin):
    token = docmost_standin.token()

    assert docmost_standin.api("/api/spaces", token=token)[0] == 200
    assert docmost_standin.api("/api/spaces", token=token, cookie=True)[0] == 200


def test_revoked_session_answers_401(docmost_standin):
    token = docmost_standin.token()

    docmost_standin.revoke_sessions()

    assert docmost_standin.api("/api/spaces", token=token)[0] == 401
    assert docmost_standin.api("/api/spaces")[0] == 200


def test_logout_ends_the_session(docmost_standin):
    token = docmost_standin.token()

    assert docmost_standin.api("/api/auth/logout", token=token)[0] == 200
    assert docmost_standin.api("/api/spaces", token=token)[0] == 401


def test_spaces_list_is_sorted_by_name_with_membership(docmost_standin):
    status, body = docmost_standin.api("/api/spaces", {"limit": 50})

    assert status == 200 and body["success"] is True and body["status"] == 200
    spaces = body["data"]["items"]
    assert [s["slug"] for s in spaces] == ["agence", "formations"]
    assert spaces[0]["membership"] == {"userId": docmost_standin.demo_ids["bot_user_id"], "role": "admin"}
    assert body["data"]["meta"] == {
        "limit": 50, "hasNextPage": False, "hasPrevPage": False, "nextCursor": None, "prevCursor": None,
    }  # fmt: skip


def test_space_info_accepts_the_slug(docmost_standin):
    _, body = docmost_standin.api("/api/spaces/info", {"spaceId": "agence"})

    assert body["data"]["id"] == docmost_standin.demo_ids["space_agence_id"]
    assert body["data"]["membership"]["permissions"]


def test_create_page_drops_unknown_fields_and_returns_base_fields_without_content(docmost_standin):
    ids = docmost_standin.demo_ids

    status, body = docmost_standin.api(
        "/api/pages/create",
        {"spaceId": ids["space_agence_id"], "parentId": ids["compte_rendu_parent_page_id"], "title": "Projet Apollo",
         "icon": "📝", "content": "# Apollo", "format": "markdown", "workspaceId": "forged"},
    )  # fmt: skip

    page = body["data"]
    assert status == 200
    assert page["parentPageId"] is None
    assert page["workspaceId"] == ids["workspace_id"]
    assert "content" not in page and "parentId" not in page
    assert page["permissions"] == {"canEdit": True, "hasRestriction": False}
    assert len(page["slugId"]) == 10
    assert {"id", "slugId", "title", "icon", "position", "creatorId", "spaceId", "createdAt", "deletedAt"} <= set(page)


def test_create_page_validates_the_space_id_as_uuid(docmost_standin):
    status, body = docmost_standin.api("/api/pages/create", {"spaceId": "agence", "title": "x"})

    assert (status, body) == (400, {"message": ["spaceId must be a UUID"], "error": "Bad Request", "statusCode": 400})


def test_create_page_under_a_parent_of_another_space_is_refused(docmost_standin):
    ids = docmost_standin.demo_ids

    status, body = docmost_standin.api(
        "/api/pages/create", {"spaceId": ids["space_formations_id"], "parentPageId": ids["compte_rendu_parent_page_id"]}
    )

    assert (status, body["message"]) == (404, "Parent page not found")


def test_markdown_content_is_stored_as_prosemirror_and_converted_on_read(docmost_standin):
    ids = docmost_standin.demo_ids
    _, created = docmost_standin.api(
        "/api/pages/create",
        {
            "spaceId": ids["space_agence_id"],
            "title": "Notes",
            "content": "# Highlights\n\n- Faster sync",
            "format": "markdown",
        },
    )
    page_id = created["data"]["id"]

    _, as_json = docmost_standin.api("/api/pages/info", {"pageId": page_id})
    _, as_markdown = docmost_standin.api("/api/pages/info", {"pageId": created["data"]["slugId"], "format": "markdown"})
    _, as_html = docmost_standin.api("/api/pages/info", {"pageId": page_id, "format": "html"})

    assert as_json["data"]["content"] == {
        "type": "doc",
        "content": [
            {"type": "heading", "attrs": {"level": 1}, "content": [{"type": "text", "text": "Highlights"}]},
            {"type": "bulletList", "content": [{"type": "listItem", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": "Faster sync"}]}]}]},
        ],
    }  # fmt: skip
    assert as_markdown["data"]["content"] == "# Highlights\n\n- Faster sync"
    assert as_html["data"]["content"] == "<h1>Highlights</h1><ul><li><p>Faster sync</p></li></ul>"
    assert as_json["data"]["space"] == {"id": ids["space_agence_id"], "name": "Agence", "slug": "agence"}
    assert as_json["data"]["creator"]["id"] == ids["bot_user_id"]
    assert as_json["data"]["deletedBy"] is None


def test_invalid_json_content_is_a_400(docmost_standin):
    ids = docmost_standin.demo_ids

    status, body = docmost_standin.api("/api/pages/create", {"spaceId": ids["space_agence_id"], "content": {"nope": 1},
                                                             "format": "json"})

    assert (status, body["message"]) == (400, "Invalid content format")


def test_content_without_format_is_a_400_as_in_docmost_0_95(docmost_standin):
    ids = docmost_standin.demo_ids

    status, body = docmost_standin.api("/api/pages/create", {"spaceId": ids["space_agence_id"], "content": "# x"})

    assert (status, body["message"]) == (400, ["format must be one of the following values: json, markdown, html"])


def test_body_update_requires_an_operation(docmost_standin):
    page_id = docmost_standin.demo_ids["project_template_page_id"]

    status, body = docmost_standin.api("/api/pages/update", {"pageId": page_id, "content": "x", "format": "markdown"})

    assert status == 400
    assert body["message"] == ["operation must be one of the following values: append, prepend, replace"]


def test_update_replaces_or_appends_the_body_and_changes_title_and_icon(docmost_standin):
    ids = docmost_standin.demo_ids
    _, created = docmost_standin.api(
        "/api/pages/create",
        {"spaceId": ids["space_agence_id"], "title": "v1", "content": "first", "format": "markdown"},
    )
    page_id = created["data"]["id"]

    _, appended = docmost_standin.api(
        "/api/pages/update",
        {"pageId": page_id, "content": "second", "operation": "append", "format": "markdown"},
    )
    _, replaced = docmost_standin.api(
        "/api/pages/update",
        {
            "pageId": page_id,
            "title": "v2",
            "icon": "✅",
            "content": "only",
            "operation": "replace",
            "format": "markdown",
        },
    )

    assert appended["data"]["content"] == "first\n\nsecond"
    assert replaced["data"]["content"] == "only"
    assert (replaced["data"]["title"], replaced["data"]["icon"]) == ("v2", "✅")
    assert replaced["data"]["updatedAt"] > created["data"]["updatedAt"]
    assert {"space", "creator", "lastUpdatedBy", "contributors", "permissions"} <= set(replaced["data"])


def test_missing_page_answers_404(docmost_standin):
    status, body = docmost_standin.api("/api/pages/info", {"pageId": "aZ3kP9wQ2x"})

    assert (status, body) == (404, {"message": "Page not found", "error": "Not Found", "statusCode": 404})


def test_delete_moves_the_page_and_its_children_to_the_trash_and_restore_brings_them_back(docmost_standin):
    ids = docmost_standin.demo_ids
    child = docmost_standin.create_page("agence", "CR du lundi", parentPageId=ids["compte_rendu_parent_page_id"])

    deleted = docmost_standin.api("/api/pages/delete", {"pageId": ids["compte_rendu_parent_page_id"]})
    _, trash = docmost_standin.api("/api/pages/trash", {"spaceId": ids["space_agence_id"]})
    _, recent = docmost_standin.api("/api/pages/recent", {"spaceId": ids["space_agence_id"]})
    child_deleted = docmost_standin.page(child["id"])["deletedAt"]
    docmost_standin.api("/api/pages/restore", {"pageId": ids["compte_rendu_parent_page_id"]})

    assert deleted == (200, {"success": True, "status": 200})
    assert [p["id"] for p in trash["data"]["items"]] == [ids["compte_rendu_parent_page_id"]]
    assert trash["data"]["items"][0]["deletedBy"]["id"] == ids["bot_user_id"]
    assert ids["compte_rendu_parent_page_id"] not in [p["id"] for p in recent["data"]["items"]]
    assert child_deleted is not None
    assert docmost_standin.page(child["id"])["deletedAt"] is None


def test_permanent_delete_removes_the_page(docmost_standin):
    page_id = docmost_standin.create_page("agence", "Brouillon")["id"]

    docmost_standin.api("/api/pages/delete", {"pageId": page_id, "permanentlyDelete": True})

    assert docmost_standin.api("/api/pages/info", {"pageId": page_id})[0] == 404


def test_recent_pages_are_newest_first_with_cursor_pagination(docmost_standin):
    space_id = docmost_standin.demo_ids["space_agence_id"]
    made = [docmost_standin.create_page("agence", f"Page {i}")["id"] for i in range(3)]
    docmost_standin.update_page(made[0], title="Page 0 bis")

    _, first = docmost_standin.api("/api/pages/recent", {"spaceId": space_id, "limit": 2})
    _, second = docmost_standin.api("/api/pages/recent", {"spaceId": space_id, "limit": 2,
                                                          "cursor": first["data"]["meta"]["nextCursor"]})  # fmt: skip

    assert [p["id"] for p in first["data"]["items"]] == [made[0], made[2]]
    assert first["data"]["meta"]["hasNextPage"] is True
    assert second["data"]["items"][0]["id"] == made[1]
    assert second["data"]["meta"]["hasPrevPage"] is True
    assert first["data"]["items"][0]["space"] == {"id": space_id, "name": "Agence", "slug": "agence"}
    assert docmost_standin.api("/api/pages/recent", {"limit": 101})[1]["message"] == [
        "limit must not be greater than 100"
    ]


def test_share_create_is_idempotent_and_listed_with_page_space_and_creator(docmost_standin):
    page_id = docmost_standin.demo_ids["project_template_page_id"]

    _, first = docmost_standin.api("/api/shares/create", {"pageId": page_id, "includeSubPages": False})
    _, again = docmost_standin.api("/api/shares/create", {"pageId": page_id})
    _, listed = docmost_standin.api("/api/shares", {})
    _, for_page = docmost_standin.api("/api/shares/for-page", {"pageId": page_id})

    share = first["data"]
    assert again["data"]["id"] == share["id"]
    assert len(share["key"]) == 10 and share["key"] == share["key"].lower()
    assert listed["data"]["items"][0]["page"]["id"] == page_id
    assert listed["data"]["items"][0]["space"]["slug"] == "agence"
    assert listed["data"]["items"][0]["creator"]["id"] == docmost_standin.demo_ids["bot_user_id"]
    assert for_page["data"]["id"] == share["id"]


def test_share_for_a_page_without_one_has_no_data(docmost_standin):
    page_id = docmost_standin.demo_ids["project_template_page_id"]

    assert docmost_standin.api("/api/shares/for-page", {"pageId": page_id}) == (200, {"success": True, "status": 200})


def test_sharing_disabled_space_refuses_shares(docmost_standin):
    space = docmost_standin.create_space("Interne", "interne", sharing_disabled=True)
    page_id = docmost_standin.create_page("interne", "Secret")["id"]

    status, body = docmost_standin.api("/api/shares/create", {"pageId": page_id})

    assert space["settings"] == {"sharing": {"disabled": True}}
    assert (status, body) == (403, {"message": "Public sharing is disabled", "error": "Forbidden", "statusCode": 403})


def test_shares_made_by_people_show_up_newest_first(docmost_standin):
    ids = docmost_standin.demo_ids
    docmost_standin.create_share(ids["project_template_page_id"])
    docmost_standin.create_share(ids["formation_template_page_id"])

    _, listed = docmost_standin.api("/api/shares", {})

    assert [s["pageId"] for s in listed["data"]["items"]] == [
        ids["formation_template_page_id"],
        ids["project_template_page_id"],
    ]
    assert listed["data"]["items"][0]["creator"]["id"] == ids["human_user_id"]


def test_pages_made_by_people_show_up_in_recent_and_in_the_control_listing(docmost_standin):
    ids = docmost_standin.demo_ids

    page = docmost_standin.create_page(
        "agence", "CR réunion", "## Décisions", parentPageId=ids["compte_rendu_parent_page_id"]
    )
    _, recent = docmost_standin.api("/api/pages/recent", {"spaceId": ids["space_agence_id"], "limit": 1})

    assert recent["data"]["items"][0]["id"] == page["id"]
    assert recent["data"]["items"][0]["creatorId"] == ids["human_user_id"]
    assert docmost_standin.page(page["id"])["content"] == "## Décisions"


def test_sidebar_pages_list_the_children_of_a_page(docmost_standin):
    ids = docmost_standin.demo_ids
    docmost_standin.create_page("agence", "CR 1", parentPageId=ids["compte_rendu_parent_page_id"])

    _, body = docmost_standin.api(
        "/api/pages/sidebar-pages", {"spaceId": ids["space_agence_id"], "pageId": ids["compte_rendu_parent_page_id"]}
    )

    assert [p["title"] for p in body["data"]["items"]] == ["CR 1"]


def test_api_keys_exist_only_in_the_enterprise_edition(docmost_standin):
    key = docmost_standin.control("POST", "api-keys", {"name": "bridge"})["token"]

    community = docmost_standin.api("/api/spaces", token=key)
    route = docmost_standin.api("/api/api-keys/create", {"name": "x"})
    docmost_standin.configure(edition="enterprise")
    enterprise = docmost_standin.api("/api/spaces", token=key)
    _, created = docmost_standin.api("/api/api-keys/create", {"name": "bridge 2"})

    assert community == (
        401,
        {"message": "Enterprise API Key module missing", "error": "Unauthorized", "statusCode": 401},
    )
    assert route[0] == 404 and route[1]["message"] == "Cannot POST /api/api-keys/create"
    assert enterprise[0] == 200
    assert docmost_standin.api("/api/spaces", token=created["data"]["token"])[0] == 200


def test_non_post_methods_and_unknown_paths_answer_nest_404(docmost_standin):
    status, body, _ = http_json("GET", f"{docmost_standin.url}/api/pages/info")

    assert (status, body) == (404, {"message": "Cannot GET /api/pages/info", "error": "Not Found", "statusCode": 404})


def test_injected_status_answers_the_next_calls_then_stops(docmost_standin):
    docmost_standin.fault(status=503, count=2, path_prefix="/api/pages")

    statuses = [docmost_standin.api("/api/pages/recent", {})[0] for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert docmost_standin.api("/api/spaces")[0] == 200
    assert [c["status"] for c in docmost_standin.calls("/api/pages")] == [503, 503, 200]


def test_injected_delay_slows_the_answer(docmost_standin):
    docmost_standin.fault(delay=0.3, count=1, path_prefix="/api/spaces")

    started = time.monotonic()
    status, _ = docmost_standin.api("/api/spaces")

    assert status == 200 and time.monotonic() - started >= 0.3


def test_injected_connection_drop_gives_no_answer(docmost_standin):
    docmost_standin.fault(close=True, path_prefix="/api/spaces")

    request = urllib.request.Request(f"{docmost_standin.url}/api/spaces", data=b"{}", method="POST")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        urllib.request.urlopen(request, timeout=5)


def test_call_log_records_what_the_client_sent(docmost_standin):
    token = docmost_standin.token()

    docmost_standin.api("/api/pages/info", {"pageId": "x", "extra": True}, token=token)

    [call] = docmost_standin.calls("/api/pages/info")
    assert call["body"] == {"pageId": "x", "extra": True}
    assert call["headers"]["authorization"] == f"Bearer {token}"
    assert call["status"] == 404


def test_demo_ids_are_the_same_on_every_start():
    first, second = DocmostStandIn(demo=True), DocmostStandIn(demo=True)

    assert first.demo_ids == second.demo_ids
    assert first.demo_ids["space_agence_id"][14] == "7"


def test_state_file_keeps_pages_and_sessions_across_restarts(tmp_path):
    state = str(tmp_path / "docmost.json")
    first = DocmostStandIn(demo=True, state_file=state).start()
    token = first.login_token()
    headers = {"Authorization": f"Bearer {token}"}
    space_id = first.demo_ids["space_agence_id"]
    _, created, _ = http_json("POST", f"{first.url}/api/pages/create", {"spaceId": space_id, "title": "Kept"}, headers)
    first.stop()

    second = DocmostStandIn(state_file=state).start()
    status, body, _ = http_json("POST", f"{second.url}/api/pages/info", {"pageId": created["data"]["id"]}, headers)
    second.stop()

    assert status == 200 and body["data"]["title"] == "Kept"


def test_update_can_answer_with_the_body_from_before_the_collab_write(docmost_standin):
    page_id = docmost_standin.create_page("agence", "Page", "before")["id"]
    docmost_standin.configure(update_returns_old_content=True)

    _, answer = docmost_standin.api(
        "/api/pages/update", {"pageId": page_id, "content": "after", "operation": "replace", "format": "markdown"}
    )

    assert answer["data"]["content"] == "before"
    assert docmost_standin.page(page_id)["content"] == "after"
