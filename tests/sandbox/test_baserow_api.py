"""The Baserow stand-in's row REST API, authentication and control API, against contracts §2.4 and §3."""

import json
from urllib.parse import quote

from sandbox.baserow import BaserowStandIn
from tests.standins import http_json

ROWS = "/api/database/rows/table"


def test_list_rows_paginates_like_drf_with_sorted_next_url(baserow_standin):
    baserow_standin.seed_demo()

    status, body = baserow_standin.api("GET", f"{ROWS}/606/?user_field_names=true&size=1")

    assert status == 200
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert body["next"] == f"{baserow_standin.url}{ROWS}/606/?page=2&size=1&user_field_names=true"
    assert body["previous"] is None
    assert body["results"][0]["nom"] == "Claire Martin"
    status, last = baserow_standin.api("GET", f"{ROWS}/606/?user_field_names=true&size=1&page=3")
    assert last["next"] is None
    assert last["previous"] == f"{baserow_standin.url}{ROWS}/606/?page=2&size=1&user_field_names=true"


def test_page_size_over_200_is_refused_with_baserow_error(baserow_standin):
    baserow_standin.seed_demo()

    status, body = baserow_standin.api("GET", f"{ROWS}/606/?size=201")

    assert (status, body) == (400, {"error": "ERROR_PAGE_SIZE_LIMIT", "detail": "The page size is limited to 200."})


def test_user_field_names_switches_row_keys_between_names_and_field_ids(baserow_standin):
    baserow_standin.seed_demo()

    _, by_id = baserow_standin.api("GET", f"{ROWS}/601/1/")
    _, by_name = baserow_standin.api("GET", f"{ROWS}/601/1/?user_field_names")

    assert list(by_id)[:6] == ["id", "order", "field_6010", "field_6011", "field_6012", "field_6013"]
    assert list(by_name)[:6] == ["id", "order", "nom", "client", "statut", "docmost_page_id"]
    assert by_id["field_6010"] == by_name["nom"] == "Refonte LMS"


def test_created_row_has_decimal_order_link_and_select_values_in_contract_shape(baserow_standin):
    baserow_standin.seed_demo()

    status, row = baserow_standin.api(
        "POST",
        f"{ROWS}/601/?user_field_names=true&send_webhook_events=false",
        {"nom": "Apollo", "client": ["Ville de Lyon"], "statut": 60102, "docmost_page_id": "019c2b7e"},
    )

    assert status == 200
    assert row == {
        "id": 3,
        "order": "3.00000000000000000000",
        "nom": "Apollo",
        "client": [{"id": 3, "value": "Ville de Lyon", "order": "3.00000000000000000000"}],
        "statut": {"id": 60102, "value": "En cours", "color": "green"},
        "docmost_page_id": "019c2b7e",
        "attribution": [],
    }


def test_numbers_come_back_as_decimal_strings(baserow_standin):
    baserow_standin.seed_demo()

    _, row = baserow_standin.api("PATCH", f"{ROWS}/606/3/?user_field_names=true", {"heures_restantes": -2.5})

    assert row["heures_restantes"] == "-2.5"
    assert row["heures_contrat"] == "60.0"


def test_unknown_keys_in_a_row_are_ignored(baserow_standin):
    baserow_standin.seed_demo()

    status, row = baserow_standin.api("POST", f"{ROWS}/607/?user_field_names=true", {"nom": "Nouveau", "typo": 1})

    assert status == 200
    assert "typo" not in row


def test_invalid_cell_value_answers_validation_error_per_field(baserow_standin):
    baserow_standin.seed_demo()

    status, body = baserow_standin.api("PATCH", f"{ROWS}/601/1/?user_field_names=true", {"statut": 9999})

    assert status == 400
    assert body == {
        "error": "ERROR_REQUEST_BODY_VALIDATION",
        "detail": {"statut": [{"error": "Select option 9999 does not exist.", "code": "invalid"}]},
    }


def test_missing_row_and_table_answer_404_in_baserow_error_shape(baserow_standin):
    baserow_standin.seed_demo()

    assert baserow_standin.api("GET", f"{ROWS}/601/1043/") == (
        404,
        {"error": "ERROR_ROW_DOES_NOT_EXIST", "detail": "The rows [1043] do not exist."},
    )
    assert baserow_standin.api("GET", f"{ROWS}/999/")[1]["error"] == "ERROR_TABLE_DOES_NOT_EXIST"


def test_row_endpoints_need_a_known_database_token(baserow_standin):
    baserow_standin.seed_demo()

    assert baserow_standin.api("GET", f"{ROWS}/601/", token="wrong") == (
        401,
        {"error": "ERROR_TOKEN_DOES_NOT_EXIST", "detail": "The token does not exist."},
    )
    assert baserow_standin.api("GET", f"{ROWS}/601/", token=None)[0] == 401


def test_token_without_create_permission_gets_no_permission_error(baserow_standin):
    baserow_standin.seed_demo()
    baserow_standin.control("POST", "tokens", {"key": "read-only", "permissions": {"create": False}})

    status, body = baserow_standin.api("POST", f"{ROWS}/601/", {}, token="read-only")

    assert (status, body["error"]) == (401, "ERROR_NO_PERMISSION_TO_TABLE")
    assert baserow_standin.api("GET", f"{ROWS}/601/", token="read-only")[0] == 200


def test_webhook_management_needs_a_jwt_from_token_auth(baserow_standin):
    baserow_standin.seed_demo(webhook_url="http://127.0.0.1:9/hook")

    assert baserow_standin.api("GET", "/api/database/webhooks/table/601/")[0] == 401
    jwt = baserow_standin.admin_jwt()
    status, webhooks = baserow_standin.api("GET", "/api/database/webhooks/table/601/", jwt=jwt)

    assert status == 200
    assert webhooks[0]["url"] == "http://127.0.0.1:9/hook"
    assert set(webhooks[0]) >= {"id", "events", "headers", "calls", "use_user_field_names", "failed_triggers", "active"}


def test_token_auth_returns_access_and_refresh_tokens(baserow_standin):
    baserow_standin.seed_demo()

    status, body = baserow_standin.api(
        "POST",
        "/api/user/token-auth/",
        {"email": "admin@formation-hub.local", "password": "demo-baserow-admin"},
        token=None,
    )
    wrong = baserow_standin.api(
        "POST", "/api/user/token-auth/", {"email": "admin@formation-hub.local", "password": "x"}
    )
    refreshed = baserow_standin.api("POST", "/api/user/token-refresh/", {"refresh_token": body["refresh_token"]})

    assert status == 200
    assert {"access_token", "refresh_token", "token", "user"} <= set(body)
    assert wrong[0] == 401
    assert refreshed[0] == 200 and refreshed[1]["access_token"]


def test_expired_jwt_is_refused(baserow_standin):
    baserow_standin.seed_demo()
    baserow_standin.configure(access_token_lifetime=-1)

    status, body = baserow_standin.api("GET", "/api/database/webhooks/table/601/", jwt=baserow_standin.admin_jwt())

    assert (status, body["error"]) == (401, "ERROR_INVALID_ACCESS_TOKEN")


def test_filter_search_and_order_by_select_rows(baserow_standin):
    baserow_standin.seed_demo()
    baserow_standin.api("PATCH", f"{ROWS}/601/2/?user_field_names=true", {"docmost_page_id": "page-2"})

    _, equal = baserow_standin.api("GET", f"{ROWS}/601/?user_field_names=true&filter__docmost_page_id__equal=page-2")
    _, empty = baserow_standin.api("GET", f"{ROWS}/601/?user_field_names=true&filter__docmost_page_id__empty=")
    _, by_field_id = baserow_standin.api("GET", f"{ROWS}/601/?filter__field_6013__equal=page-2")
    _, search = baserow_standin.api("GET", f"{ROWS}/606/?user_field_names=true&search=leroy")
    _, ordered = baserow_standin.api("GET", f"{ROWS}/606/?user_field_names=true&order_by=-heures_restantes")
    _, links = baserow_standin.api("GET", f"{ROWS}/604/?user_field_names=true&filter__formateur__link_row_has=3")
    tree = json.dumps({"filter_type": "OR", "filters": [{"field": "nom", "type": "contains", "value": "julien"}]})
    _, filters = baserow_standin.api("GET", f"{ROWS}/606/?user_field_names=true&filters={quote(tree)}")

    assert [r["id"] for r in equal["results"]] == [2]
    assert [r["id"] for r in empty["results"]] == [1]
    assert [r["id"] for r in by_field_id["results"]] == [2]
    assert [r["nom"] for r in search["results"]] == ["Sophie Leroy"]
    assert [r["nom"] for r in ordered["results"]] == ["Julien Bernard", "Claire Martin", "Sophie Leroy"]
    assert [r["id"] for r in links["results"]] == [2]
    assert [r["nom"] for r in filters["results"]] == ["Julien Bernard"]


def test_unknown_filter_field_is_a_400(baserow_standin):
    baserow_standin.seed_demo()

    status, body = baserow_standin.api("GET", f"{ROWS}/601/?user_field_names=true&filter__nope__equal=1")

    assert (status, body["error"]) == (400, "ERROR_FILTER_FIELD_NOT_FOUND")


def test_batch_create_update_and_delete(baserow_standin):
    baserow_standin.seed_demo()

    status, created = baserow_standin.api(
        "POST", f"{ROWS}/607/batch/?user_field_names=true", {"items": [{"nom": "A"}, {"nom": "B"}]}
    )
    ids = [row["id"] for row in created["items"]]
    _, updated = baserow_standin.api(
        "PATCH", f"{ROWS}/607/batch/?user_field_names=true", {"items": [{"id": ids[0], "nom": "A2"}]}
    )
    deleted = baserow_standin.api("POST", f"{ROWS}/607/batch-delete/", {"items": ids})

    assert status == 200 and [r["nom"] for r in created["items"]] == ["A", "B"]
    assert updated["items"][0]["nom"] == "A2"
    assert deleted == (204, None)
    assert [r["id"] for r in baserow_standin.trashed_rows(607)] == ids


def test_batch_limits_and_unknown_rows_are_refused(baserow_standin):
    baserow_standin.seed_demo()

    too_many = baserow_standin.api("POST", f"{ROWS}/607/batch/", {"items": [{}] * 201})
    missing = baserow_standin.api("PATCH", f"{ROWS}/607/batch/", {"items": [{"id": 77}]})
    duplicate = baserow_standin.api("POST", f"{ROWS}/607/batch-delete/", {"items": [1, 1]})

    assert too_many[0] == 400 and too_many[1]["error"] == "ERROR_REQUEST_BODY_VALIDATION"
    assert missing == (404, {"error": "ERROR_ROW_DOES_NOT_EXIST", "detail": "The rows [77] do not exist."})
    assert duplicate[1]["error"] == "ERROR_ROW_IDS_NOT_UNIQUE"


def test_delete_answers_204_and_keeps_the_row_in_the_trash(baserow_standin):
    baserow_standin.seed_demo()

    assert baserow_standin.api("DELETE", f"{ROWS}/601/2/") == (204, None)
    assert baserow_standin.api("DELETE", f"{ROWS}/601/2/")[0] == 404
    assert [row["id"] for row in baserow_standin.trashed_rows(601)] == [2]
    assert [row["id"] for row in baserow_standin.rows(601)] == [1]


def test_link_fields_are_mirrored_on_the_related_table(baserow_standin):
    baserow_standin.seed_demo()

    baserow_standin.api("POST", f"{ROWS}/604/?user_field_names=true", {"nom": "Atelier", "formateur": [2], "heures": 3})

    julien = baserow_standin.rows(606)[1]
    assert [link["value"] for link in julien["intervention"]] == ["Atelier"]


def test_custom_tables_can_be_created_through_the_control_api(baserow_standin):
    table = baserow_standin.create_table(
        "articles",
        [{"name": "Title"}, {"name": "Publish", "type": "boolean"}, {"name": "Status", "type": "single_select",
                                                                       "select_options": ["Draft", "Published"]}],
        table_id=412,
    )  # fmt: skip
    baserow_standin.add_rows(412, [{"Title": "Intro", "Status": "Draft"}])

    _, body = baserow_standin.api("GET", f"{ROWS}/412/?user_field_names=true", token=None, jwt=None)
    assert [f["name"] for f in table["fields"]] == ["Title", "Publish", "Status"]
    assert body["detail"] == "Authentication credentials were not provided."
    rows = baserow_standin.rows(412)
    assert rows[0]["Publish"] is False and rows[0]["Status"]["value"] == "Draft"


def test_state_file_keeps_rows_and_webhooks_between_runs(tmp_path):
    state = tmp_path / "baserow.json"
    first = BaserowStandIn(state_file=str(state), demo=True, webhook_url="http://127.0.0.1:9/hook").start()
    http_json("PATCH", f"{first.url}{ROWS}/601/1/?user_field_names=true", {"docmost_page_id": "kept"},
              {"Authorization": "Token demo-baserow-token"})  # fmt: skip
    first.stop()

    second = BaserowStandIn(state_file=str(state)).start()
    status, row, _ = http_json(
        "GET", f"{second.url}{ROWS}/601/1/?user_field_names=true", headers={"Authorization": "Token demo-baserow-token"}
    )
    webhooks = second.state["webhooks"]
    second.stop()

    assert status == 200 and row["docmost_page_id"] == "kept"
    assert len(webhooks) == 8


def test_unknown_route_answers_baserow_404(baserow_standin):
    status, body = baserow_standin.api("GET", "/api/nothing/")

    assert status == 404 and body["error"] == "URL_NOT_FOUND"


def test_include_and_exclude_choose_the_fields_returned(baserow_standin):
    baserow_standin.seed_demo()

    _, included = baserow_standin.api("GET", f"{ROWS}/606/1/?user_field_names=true&include=nom,email")
    _, excluded = baserow_standin.api("GET", f"{ROWS}/606/?user_field_names=true&exclude=intervention,attribution")

    assert included == {"id": 1, "order": "1.00000000000000000000", "nom": "Claire Martin",
                        "email": "claire.martin@example.org"}  # fmt: skip
    assert "intervention" not in excluded["results"][0] and "heures_contrat" in excluded["results"][0]


def test_webhook_headers_must_be_legal(baserow_standin):
    baserow_standin.seed_demo()

    status, body = baserow_standin.api(
        "POST",
        "/api/database/webhooks/table/601/",
        {"url": "http://127.0.0.1:9/hook", "headers": {"Bad Header": "x"}},
        jwt=baserow_standin.admin_jwt(),
    )

    assert status == 400 and "headers" in body["detail"]


def test_control_api_lists_its_routes(baserow_standin):
    routes = baserow_standin.control("GET", "")["routes"]

    assert {"method": "POST", "path": "/_sandbox/faults"} in [{k: r[k] for k in ("method", "path")} for r in routes]
    assert all(route["help"] for route in routes)


def test_malformed_filters_and_control_bodies_answer_400(baserow_standin):
    baserow_standin.seed_demo()

    status, body = baserow_standin.api("GET", f"{ROWS}/601/?filters={quote('[]')}")
    control_status, _, _ = http_json("POST", f"{baserow_standin.url}/_sandbox/reset", [1])

    assert (status, body["error"]) == (400, "ERROR_FILTERS_PARAM_VALIDATION_ERROR")
    assert control_status == 400


def test_a_table_with_a_bad_field_is_not_created_at_all(baserow_standin):
    status, body, _ = http_json(
        "POST",
        f"{baserow_standin.url}/_sandbox/tables",
        {"name": "broken", "id": 900, "fields": [{"name": "a"}, {"name": "b", "type": "formula"}]},
    )

    assert status == 400 and "formula" in body["error"]
    assert baserow_standin.control("GET", "tables")["tables"] == []
