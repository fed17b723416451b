"""Webhooks sent by the Baserow stand-in: payloads, headers, batching, retries, deactivation (contracts §1, §2, §9)."""

import uuid

ROWS = "/api/database/rows/table"
SECRET = {"X-Formation-Hub-Secret": "demo-webhook-secret"}
ENVELOPE = {"table_id", "database_id", "workspace_id", "webhook_id", "event_id", "event_type"}


def bodies_for(receiver, table_id):
    return [body for body in receiver.json_bodies() if body["table_id"] == table_id]


def test_rows_created_payload_has_the_contract_envelope_and_headers(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url, webhook_headers=SECRET)

    baserow_standin.api("POST", f"{ROWS}/607/?user_field_names=true", {"nom": "Nouveau client"})
    baserow_standin.wait_for_deliveries()

    [request] = http_receiver.requests
    body = http_receiver.json_bodies()[0]
    assert set(body) == ENVELOPE | {"items"}
    assert body["table_id"] == 607 and body["database_id"] == 60 and body["webhook_id"] == 7
    assert body["event_type"] == "rows.created"
    assert uuid.UUID(body["event_id"]).version == 4
    assert body["items"] == [{"id": 4, "order": "4.00000000000000000000", "nom": "Nouveau client", "projet": []}]
    assert request["method"] == "POST"
    assert request["headers"]["Content-type"] == "application/json"
    assert request["headers"]["X-Baserow-Event"] == "rows.created"
    assert request["headers"]["X-Baserow-Delivery"] == body["event_id"]
    assert request["headers"]["X-Formation-Hub-Secret"] == "demo-webhook-secret"
    assert request["headers"]["User-Agent"].startswith("python-requests/")


def test_body_is_single_line_json_with_non_ascii_escaped(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url)

    baserow_standin.api("POST", f"{ROWS}/607/?user_field_names=true", {"nom": "Région"})
    baserow_standin.wait_for_deliveries()

    raw = http_receiver.requests[0]["body"]
    assert b"R\\u00e9gion" in raw and b"\n" not in raw and b'"table_id": 607, ' in raw


def test_rows_updated_sends_whole_rows_before_and_after(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url)

    baserow_standin.api("PATCH", f"{ROWS}/601/1/?user_field_names=true", {"statut": 60103})
    baserow_standin.wait_for_deliveries()

    [body] = bodies_for(http_receiver, 601)
    assert set(body) == ENVELOPE | {"items", "old_items"}
    assert body["items"][0]["statut"]["value"] == "Terminé"
    assert body["old_items"][0]["statut"]["value"] == "En cours"
    assert body["old_items"][0]["nom"] == body["items"][0]["nom"] == "Refonte LMS"
    assert set(body["old_items"][0]) == set(body["items"][0])


def test_rows_deleted_carries_only_row_ids(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url)

    baserow_standin.api("POST", f"{ROWS}/608/batch-delete/", {"items": [1]})
    baserow_standin.wait_for_deliveries()

    [body] = bodies_for(http_receiver, 608)
    assert body == {**{key: body[key] for key in ENVELOPE}, "event_type": "rows.deleted", "row_ids": [1]}


def test_webhook_without_user_field_names_sends_field_ids(baserow_standin, http_receiver):
    baserow_standin.seed_demo()
    baserow_standin.add_webhook(607, http_receiver.url, use_user_field_names=False)

    baserow_standin.api("PATCH", f"{ROWS}/607/1/?user_field_names=true", {"nom": "Acme"})
    baserow_standin.wait_for_deliveries()

    body = http_receiver.json_bodies()[0]
    assert body["items"][0]["field_6070"] == "Acme"
    assert body["old_items"][0]["field_6070"] == "Acme Formation"


def test_send_webhook_events_false_suppresses_every_webhook(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url)
    quiet = "user_field_names=true&send_webhook_events=false"

    baserow_standin.api("POST", f"{ROWS}/604/?{quiet}", {"nom": "Atelier", "formateur": [1]})
    baserow_standin.api("PATCH", f"{ROWS}/601/1/?{quiet}", {"docmost_page_id": "019c2b7e"})
    baserow_standin.api("DELETE", f"{ROWS}/608/1/?send_webhook_events=false")
    baserow_standin.wait_for_deliveries()

    assert http_receiver.requests == []
    assert baserow_standin.deliveries() == []


def test_batch_create_sends_one_call_with_every_row(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url)

    baserow_standin.api(
        "POST", f"{ROWS}/607/batch/?user_field_names=true", {"items": [{"nom": f"C{i}"} for i in range(150)]}
    )
    baserow_standin.wait_for_deliveries()

    [body] = bodies_for(http_receiver, 607)
    assert len(body["items"]) == 150 and "batch_id" not in body


def test_linked_table_gets_rows_updated_with_the_trigger_in_the_header(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url)

    baserow_standin.api("POST", f"{ROWS}/604/?user_field_names=true", {"nom": "Atelier", "formateur": [2], "heures": 3})
    baserow_standin.wait_for_deliveries()

    own = next(r for r in http_receiver.requests if b'"table_id": 604' in r["body"])
    linked = next(r for r in http_receiver.requests if b'"table_id": 606' in r["body"])
    body = next(iter(bodies_for(http_receiver, 606)))
    assert own["headers"]["X-Baserow-Event"] == "rows.created"
    assert linked["headers"]["X-Baserow-Event"] == "rows.created"
    assert body["event_type"] == "rows.updated"
    assert body["event_id"] == next(iter(bodies_for(http_receiver, 604)))["event_id"]
    assert body["total_count"] == 1 and "old_items" not in body
    assert body["items"][0]["id"] == 2
    assert [link["value"] for link in body["items"][0]["intervention"]] == ["Atelier"]


def test_update_leaving_links_alone_still_sends_an_empty_linked_delivery(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url)

    baserow_standin.api("PATCH", f"{ROWS}/604/1/?user_field_names=true", {"heures": 15})
    baserow_standin.wait_for_deliveries()

    [linked] = bodies_for(http_receiver, 606)
    assert linked["total_count"] == 0 and linked["items"] == []


def test_large_linked_change_is_split_into_batches_sharing_the_event_id(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url)
    baserow_standin.configure(linked_batch_size=2)
    baserow_standin.add_rows(606, [{"nom": f"P{i}"} for i in range(4)])

    baserow_standin.api("PATCH", f"{ROWS}/604/1/?user_field_names=true", {"formateur": [2, 3, 4, 5, 6]})
    baserow_standin.wait_for_deliveries()

    batches = sorted(bodies_for(http_receiver, 606), key=lambda body: body["batch_id"])
    assert [b["batch_id"] for b in batches] == [1, 2, 3]
    assert [b["offset"] for b in batches] == [0, 2, 4]
    assert {b["batch_size"] for b in batches} == {2}
    assert {b["total_count"] for b in batches} == {6}
    assert len({b["event_id"] for b in batches}) == 1
    assert sum(len(b["items"]) for b in batches) == 6


def test_batches_past_the_limit_are_dropped(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url)
    baserow_standin.configure(linked_batch_size=1, batch_limit=2)

    baserow_standin.api("PATCH", f"{ROWS}/604/1/?user_field_names=true", {"formateur": [2, 3]})
    baserow_standin.wait_for_deliveries()

    assert [b["batch_id"] for b in bodies_for(http_receiver, 606)] == [1, 2]


def test_event_config_fields_narrow_rows_updated(baserow_standin, http_receiver):
    baserow_standin.seed_demo()
    baserow_standin.add_webhook(
        601,
        http_receiver.url,
        include_all_events=False,
        events=["rows.updated"],
        event_config=[{"event_type": "rows.updated", "fields": [6012]}],
    )

    baserow_standin.api("PATCH", f"{ROWS}/601/1/?user_field_names=true", {"docmost_page_id": "x"})
    baserow_standin.api("PATCH", f"{ROWS}/601/1/?user_field_names=true", {"statut": 60103})
    baserow_standin.wait_for_deliveries()

    assert [b["items"][0]["statut"]["value"] for b in http_receiver.json_bodies()] == ["Terminé"]


def test_failing_receiver_is_retried_then_the_webhook_is_switched_off(baserow_standin, http_receiver):
    baserow_standin.seed_demo()
    baserow_standin.configure(retry_base_delay=0.002)
    webhook = baserow_standin.add_webhook(607, http_receiver.url)
    http_receiver.status = 500

    baserow_standin.api("PATCH", f"{ROWS}/607/1/?user_field_names=true", {"nom": "Acme"})
    baserow_standin.wait_for_deliveries()

    attempts = baserow_standin.deliveries(webhook_id=webhook["id"])
    assert [a["attempt"] for a in attempts] == list(range(1, 10))
    assert len({a["event_id"] for a in attempts}) == 1
    assert [a["deactivated"] for a in attempts] == [False] * 8 + [True]
    assert len(http_receiver.requests) == 9
    assert {r["headers"]["X-Baserow-Delivery"] for r in http_receiver.requests} == {attempts[0]["event_id"]}
    state = baserow_standin.webhook(webhook["id"])
    assert (state["active"], state["failed_triggers"]) == (False, 8)
    assert len(state["calls"]) == 1 and state["calls"][0]["response_status"] == 500


def test_events_while_switched_off_are_lost_and_reenabling_resets_the_counter(baserow_standin, http_receiver):
    baserow_standin.seed_demo()
    webhook = baserow_standin.add_webhook(607, http_receiver.url, active=False)
    baserow_standin.update_webhook(webhook["id"], failed_triggers=5)

    baserow_standin.api("PATCH", f"{ROWS}/607/1/?user_field_names=true", {"nom": "Perdu"})
    baserow_standin.wait_for_deliveries()
    jwt = baserow_standin.admin_jwt()
    status, patched = baserow_standin.api(
        "PATCH", f"/api/database/webhooks/{webhook['id']}/", {"active": True}, jwt=jwt
    )
    baserow_standin.api("PATCH", f"{ROWS}/607/1/?user_field_names=true", {"nom": "Livré"})
    baserow_standin.wait_for_deliveries()

    assert status == 200 and patched["active"] is True and patched["failed_triggers"] == 0
    assert [b["items"][0]["nom"] for b in http_receiver.json_bodies()] == ["Livré"]


def test_a_success_resets_the_failure_counter(baserow_standin, http_receiver):
    baserow_standin.seed_demo()
    baserow_standin.configure(retry_base_delay=0.002)
    webhook = baserow_standin.add_webhook(607, http_receiver.url)
    http_receiver.status = 503

    baserow_standin.api("PATCH", f"{ROWS}/607/1/?user_field_names=true", {"nom": "A"})
    while len(http_receiver.requests) < 3:
        baserow_standin.server.dispatcher.wait_idle(0.01)
    http_receiver.status = 200
    baserow_standin.wait_for_deliveries()

    state = baserow_standin.webhook(webhook["id"])
    assert state["active"] is True and state["failed_triggers"] == 0
    assert baserow_standin.deliveries()[-1]["ok"] is True


def test_a_receiver_slower_than_the_timeout_counts_as_a_failure(baserow_standin, http_receiver):
    baserow_standin.seed_demo()
    baserow_standin.configure(timeout=0.1, max_retries=0)
    baserow_standin.add_webhook(607, http_receiver.url)
    http_receiver.delay = 0.3

    baserow_standin.api("PATCH", f"{ROWS}/607/1/?user_field_names=true", {"nom": "A"})
    baserow_standin.wait_for_deliveries()

    [attempt] = baserow_standin.deliveries()
    assert attempt["ok"] is False and attempt["status"] is None and "timed out" in attempt["error"]


def test_restored_row_is_sent_as_rows_created_with_its_old_id(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url)
    baserow_standin.api("DELETE", f"{ROWS}/601/2/")

    baserow_standin.restore_row(601, 2)
    baserow_standin.wait_for_deliveries()

    deleted, created = bodies_for(http_receiver, 601)
    assert deleted["event_type"] == "rows.deleted" and deleted["row_ids"] == [2]
    assert created["event_type"] == "rows.created" and created["items"][0]["id"] == 2
    assert created["items"][0]["nom"] == "Parcours managers"
    assert [row["id"] for row in baserow_standin.rows(601)] == [1, 2]


def test_trash_restore_endpoint_needs_a_jwt_and_fires_rows_created(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url)
    baserow_standin.api("DELETE", f"{ROWS}/608/1/")
    restore = {"trash_item_type": "row", "trash_item_id": 1, "parent_trash_item_id": 608}

    refused = baserow_standin.api("PATCH", "/api/trash/restore/", restore)
    restored = baserow_standin.api("PATCH", "/api/trash/restore/", restore, jwt=baserow_standin.admin_jwt())
    baserow_standin.wait_for_deliveries()

    assert refused[0] == 401 and restored == (204, None)
    assert [b["event_type"] for b in bodies_for(http_receiver, 608)] == ["rows.deleted", "rows.created"]


def test_test_call_is_synchronous_with_a_dummy_row_and_null_webhook_id(baserow_standin, http_receiver):
    baserow_standin.seed_demo()

    status, result = baserow_standin.api(
        "POST",
        "/api/database/webhooks/table/601/test-call/",
        {"url": http_receiver.url, "event_type": "rows.updated", "headers": SECRET},
        jwt=baserow_standin.admin_jwt(),
    )

    body = http_receiver.json_bodies()[0]
    assert status == 200 and result["status_code"] == 200 and result["is_unreachable"] is False
    assert body["webhook_id"] is None
    assert body["items"] == body["old_items"]
    assert body["items"][0]["id"] == 0 and body["items"][0]["client"] == []
    assert baserow_standin.deliveries() == []


def test_webhooks_of_one_table_deliver_in_order_when_the_receiver_is_healthy(baserow_standin, http_receiver):
    baserow_standin.seed_demo()
    baserow_standin.add_webhook(607, http_receiver.url)

    for index in range(5):
        baserow_standin.api("PATCH", f"{ROWS}/607/1/?user_field_names=true", {"nom": f"v{index}"})
    baserow_standin.wait_for_deliveries()

    assert [b["items"][0]["nom"] for b in http_receiver.json_bodies()] == [f"v{i}" for i in range(5)]


def test_webhook_api_creates_and_deletes_webhooks(baserow_standin, http_receiver):
    baserow_standin.seed_demo()
    jwt = baserow_standin.admin_jwt()

    status, created = baserow_standin.api(
        "POST",
        "/api/database/webhooks/table/607/",
        {"url": http_receiver.url, "events": ["rows.created"], "include_all_events": False, "headers": SECRET},
        jwt=jwt,
    )
    bad = baserow_standin.api(
        "POST", "/api/database/webhooks/table/607/", {"url": http_receiver.url, "events": ["row.created"]}, jwt=jwt
    )
    deleted = baserow_standin.api("DELETE", f"/api/database/webhooks/{created['id']}/", jwt=jwt)

    assert status == 200 and created["headers"] == SECRET and created["use_user_field_names"] is True
    assert bad[0] == 400
    assert deleted == (204, None)
    assert baserow_standin.webhooks() == []


def test_demo_registers_one_webhook_per_table_for_row_events(baserow_standin):
    result = baserow_standin.seed_demo(
        webhook_url="http://127.0.0.1:8000/api/webhooks/baserow/", webhook_headers=SECRET
    )

    webhooks = baserow_standin.webhooks()
    assert result["tables"] == {
        "projet": 601,
        "formation": 602,
        "bloc": 603,
        "intervention": 604,
        "attribution": 605,
        "personne": 606,
        "client": 607,
        "comptes_rendus": 608,
    }
    assert sorted(w["table_id"] for w in webhooks) == list(range(601, 609))
    assert {tuple(w["events"]) for w in webhooks} == {("rows.created", "rows.updated", "rows.deleted")}
    assert all(w["headers"] == SECRET and w["use_user_field_names"] for w in webhooks)


def test_moving_a_row_fires_rows_updated_without_a_field_change(baserow_standin, http_receiver):
    baserow_standin.seed_demo(webhook_url=http_receiver.url)

    status, row = baserow_standin.api("PATCH", f"{ROWS}/607/3/move/?before_id=1&user_field_names=true")
    baserow_standin.wait_for_deliveries()

    [body] = bodies_for(http_receiver, 607)
    assert status == 200 and row["order"] == "0.50000000000000000000"
    assert body["event_type"] == "rows.updated"
    assert body["items"][0]["nom"] == body["old_items"][0]["nom"]
    assert body["old_items"][0]["order"] == "3.00000000000000000000"
    assert [r["id"] for r in baserow_standin.rows(607)] == [3, 1, 2]


def test_injected_fault_answers_in_baserow_error_shape(baserow_standin):
    baserow_standin.seed_demo()
    baserow_standin.fault(status=503, count=1, path_prefix="/api/database/rows/", method="GET")

    first = baserow_standin.api("GET", f"{ROWS}/601/")
    second = baserow_standin.api("GET", f"{ROWS}/601/")
    throttled = baserow_standin.fault(status=429, count=1)

    assert first[0] == 503 and first[1]["error"] == "ERROR_SANDBOX_FAULT"
    assert second[0] == 200
    assert throttled["status"] == 429
    assert baserow_standin.api("GET", f"{ROWS}/601/")[1] == {
        "detail": "Request was throttled. Expected available in 1 second."
    }
