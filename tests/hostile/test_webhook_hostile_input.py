"""The Baserow webhook endpoint under hostile or broken input: a clear 4xx with nothing stored, never a 5xx;
and what a well-formed but unusual delivery becomes (stored, then ignored with the reason)."""

import json

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from formation_hub.access import roles
from sync.demo import load_demo_sync
from sync.models import Event, EventItem, RejectedCall, TableMapping
from sync.processing.pipeline import event_process, event_replay
from tests.hostile.conftest import ROTATED_SECRET, SECRET, URL, delivery

pytestmark = pytest.mark.django_db


def _error(response) -> str:
    assert response["Content-Type"].startswith("application/json")
    return response.json()["error"]


# ---------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    "secret",
    [
        None, "", " ", SECRET.upper(), SECRET[:-1], SECRET + "x", f" {SECRET}", f"{SECRET} ", f"Bearer {SECRET}",
        f"{SECRET},{ROTATED_SECRET}", "é" * 48, "\t", SECRET[:8],
    ],
    ids=["missing", "empty", "space", "uppercased", "truncated", "extended", "leading-space", "trailing-space",
         "bearer-prefix", "both-secrets", "non-ascii", "tab", "prefix"],
)
def test_wrong_or_missing_secret_is_401_stores_nothing_and_is_counted(post_raw, secret):
    response = post_raw(delivery(), secret=secret)
    assert response.status_code == 401
    assert _error(response) == "Missing or wrong X-Formation-Hub-Secret header."
    assert not Event.objects.exists() and not OrmQ.objects.exists()
    assert RejectedCall.objects.get().count == 1


def test_the_secret_in_another_header_or_the_query_string_is_refused(client):
    body = json.dumps(delivery())
    for extra in ({"HTTP_AUTHORIZATION": SECRET}, {"HTTP_X_BASEROW_SECRET": SECRET}):
        assert client.generic("POST", URL, body, content_type="application/json", **extra).status_code == 401
    assert client.generic("POST", f"{URL}?secret={SECRET}", body, content_type="application/json").status_code == 401
    assert not Event.objects.exists()
    assert RejectedCall.objects.get().count == 3


def test_a_secret_removed_from_the_rotation_stops_working(post_raw, monkeypatch):
    monkeypatch.setenv("BASEROW_WEBHOOK_SECRETS", SECRET)
    assert post_raw(delivery(), secret=ROTATED_SECRET).status_code == 401
    assert post_raw(delivery(), secret=SECRET).status_code == 202


def test_an_oversized_body_without_the_secret_is_401_not_413(post_raw, monkeypatch):
    monkeypatch.setenv("SYNC_WEBHOOK_MAX_BYTES", "100")
    assert post_raw(b"x" * 1000, secret=None).status_code == 401


# ---------------------------------------------------------------- size


def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read(post_raw, monkeypatch):
    monkeypatch.setenv("SYNC_WEBHOOK_MAX_BYTES", "1000")
    response = post_raw(b"{}", CONTENT_LENGTH=str(10 * 1024**3))
    assert response.status_code == 413
    assert "SYNC_WEBHOOK_MAX_BYTES" in _error(response)
    assert not Event.objects.exists()


def test_a_body_one_byte_over_the_limit_is_413_and_at_the_limit_is_stored(post_raw, monkeypatch):
    body = json.dumps(delivery()).encode()
    monkeypatch.setenv("SYNC_WEBHOOK_MAX_BYTES", str(len(body) - 1))
    assert post_raw(body).status_code == 413
    monkeypatch.setenv("SYNC_WEBHOOK_MAX_BYTES", str(len(body)))
    assert post_raw(body).status_code == 202
    assert Event.objects.count() == 1


def test_the_default_limit_is_2_mib(post_raw):
    padding = "x" * (2 * 1024 * 1024)
    response = post_raw(delivery(items=[{"id": 1, "nom": padding}]))
    assert response.status_code == 413
    assert not Event.objects.exists()


# ---------------------------------------------------------------- content types and encodings


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"event_id=1&event_type=rows.created&table_id=601&webhook_id=1"),
        ("multipart/form-data; boundary=xyz", b'--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--'),
        ("application/xml", b"<event><id>1</id></event>"),
        ("text/plain", b"rows.created 601"),
        ("application/octet-stream", bytes(range(256))),
    ],
    ids=["form", "multipart", "xml", "text", "binary"],
)
def test_a_body_that_is_not_json_is_400_whatever_the_content_type(post_raw, content_type, body):
    response = post_raw(body, content_type=content_type)
    assert response.status_code == 400
    assert _error(response).startswith("Body is not valid JSON")
    assert not Event.objects.exists()


def test_a_json_delivery_under_another_content_type_is_stored_like_baserow_json(post_raw):
    """The content type neither authenticates nor parses a delivery: refusing it would only count as a
    failed delivery toward Baserow switching the webhook off."""
    response = post_raw(delivery(), content_type="text/plain")
    assert response.status_code == 202
    assert Event.objects.get().items.get().data["nom"] == "Apollo"


@pytest.mark.parametrize(
    "body",
    [
        b'{"event_id": "\xff\xfe", "event_type": "rows.created", "table_id": 601, "webhook_id": 1}',
        b'{"event_id": "e", "event_type": "rows.created", "table_id": 601, "webhook_id": 1, "x": "\xc3\x28"}',
        b'{"event_id": "e", "event_type": "rows.created", "table_id": 601, "webhook_id": 1, "x": "\xed\xa0\x80"}',
        json.dumps(delivery()).encode("utf-16"),
        json.dumps(delivery()).encode("utf-32"),
    ],
    ids=["invalid-bytes", "truncated-sequence", "encoded-surrogate", "utf-16", "utf-32"],
)
def test_a_body_that_is_not_utf8_is_400_and_stores_nothing(post_raw, body):
    response = post_raw(body)
    assert response.status_code == 400
    assert "UTF-8" in _error(response) or "not valid JSON" in _error(response)
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "fragment",
    [
        '"items": [{"id": 1, "nom": "\\ud800"}]',
        '"items": [{"id": 1, "\\udfff": "x"}]',
        '"items": [{"id": 1, "nom": "a\\ud83dz"}]',
    ],
    ids=["lone-high-in-value", "lone-low-in-key", "high-then-not-low"],
)
def test_unpaired_surrogate_escapes_are_400_not_a_database_error(post_raw, fragment):
    body = f'{{"table_id": 601, "webhook_id": 1, "event_id": "e1", "event_type": "rows.created", {fragment}}}'
    response = post_raw(body.encode())
    assert response.status_code == 400
    assert "surrogate" in _error(response)
    assert not Event.objects.exists()


@pytest.mark.parametrize("key", ["event_id", "event_type"])
def test_an_unpaired_surrogate_in_the_envelope_is_400(post_raw, key):
    payload = json.dumps(delivery()).replace(f'"{key}": "', f'"{key}": "\\udc00', 1)
    response = post_raw(payload.encode())
    assert response.status_code == 400
    assert not Event.objects.exists()


def test_escaped_surrogate_pairs_are_real_characters_and_are_stored(post_raw):
    body = json.dumps(delivery(items=[{"id": 1, "nom": "Fusée \U0001f680"}]), ensure_ascii=True).encode()
    assert b"\\ud83d\\ude80" in body
    assert post_raw(body).status_code == 202
    assert Event.objects.get().items.get().data["nom"] == "Fusée \U0001f680"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_non_finite_numbers_are_400_not_a_database_error(post_raw, number):
    body = json.dumps(delivery()).replace('"id": 1,', f'"id": 1, "heures": {number},', 1)
    response = post_raw(body.encode())
    assert response.status_code == 400
    assert "number" in _error(response)
    assert not Event.objects.exists()


def test_a_utf8_byte_order_mark_is_tolerated(post_raw):
    assert post_raw(b"\xef\xbb\xbf" + json.dumps(delivery()).encode()).status_code == 202


# ---------------------------------------------------------------- nesting and shapes


@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_json_nested_deeper_than_the_parser_allows_is_400(post_raw, depth):
    body = '{"table_id": 601, "webhook_id": 1, "event_id": "e", "event_type": "rows.created", "items": [{"x": '
    body += "[" * depth + "]" * depth + "}]}"
    response = post_raw(body.encode())
    assert response.status_code == 400
    assert _error(response) == "Body is not valid JSON: nested too deeply."


def test_json_nested_within_the_parser_limit_is_stored_or_refused_never_5xx(post_raw):
    nested = json.loads("[" * 400 + "]" * 400)
    response = post_raw(delivery(items=[{"id": 1, "x": nested}]))
    assert response.status_code in (202, 400)


@pytest.mark.parametrize(
    "body",
    [b"null", b"[]", b"[{}]", b'"rows.created"', b"42", b"true", b"{}", b"{", b"", b" ", b"\x00"],
    ids=["null", "empty-list", "list", "string", "number", "bool", "empty-object", "truncated", "empty", "blank",
         "nul"],
)
def test_bodies_that_are_not_a_delivery_object_are_400(post_raw, body):
    response = post_raw(body)
    assert response.status_code == 400
    assert _error(response)
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        {"table_id": -1}, {"table_id": "601"}, {"table_id": 2**63}, {"table_id": True}, {"webhook_id": "1"},
        {"webhook_id": 1.5}, {"event_id": ""}, {"event_id": 7}, {"event_id": "e" * 101}, {"event_type": ""},
        {"event_type": ["rows.created"]}, {"batch_id": -2}, {"batch_id": 2**31}, {"items": {"id": 1}},
        {"items": [1, 2]}, {"row_ids": ["1"]}, {"row_ids": [-5]}, {"old_items": "x"}, {"database_id": "60"},
    ],
)
def test_malformed_envelope_values_are_400_naming_the_key(post_raw, overrides):
    response = post_raw(delivery(**overrides))
    assert response.status_code == 400
    assert next(iter(overrides)) in _error(response)
    assert not Event.objects.exists()


# ---------------------------------------------------------------- replays and duplicates


def test_a_replayed_delivery_is_200_duplicate_and_keeps_the_first_body(post_raw):
    load_demo_sync()
    first = post_raw(delivery())
    tampered = post_raw(delivery(items=[{"id": 1, "nom": "Tampered"}]))
    assert first.status_code == 202
    assert tampered.status_code == 200 and tampered.json() == {"duplicate": True, "id": first.json()["id"]}
    event = Event.objects.get()
    assert "Apollo" in event.raw_body and "Tampered" not in event.raw_body
    assert OrmQ.objects.count() == 1


def test_a_delivery_replayed_after_processing_is_not_processed_again(post_raw):
    load_demo_sync()
    event = Event.objects.get(pk=post_raw(delivery()).json()["id"])
    event_process(event_id=event.pk)
    event.refresh_from_db()
    processed_at = event.processed_at
    for _ in range(3):
        assert post_raw(delivery()).status_code == 200
    event.refresh_from_db()
    assert event.processed_at == processed_at and event.attempts == 1
    assert Event.objects.count() == 1 and OrmQ.objects.count() == 1


def test_a_replay_with_another_secret_of_the_rotation_is_still_a_duplicate(post_raw):
    assert post_raw(delivery(), secret=SECRET).status_code == 202
    assert post_raw(delivery(), secret=ROTATED_SECRET).status_code == 200
    assert Event.objects.count() == 1


# ---------------------------------------------------------------- unknown tables and types


def test_an_unknown_table_is_stored_then_ignored_with_the_reason_and_replayable_once_mapped(post_raw, make_user):
    load_demo_sync()
    event_id = post_raw(delivery(table_id=999_999)).json()["id"]
    event = Event.objects.get(pk=event_id)
    assert event.state == Event.State.IGNORED and event.enqueued_at is None
    assert event.reason == "Baserow table 999999 is not mapped"
    assert event.items.get().reason == "Baserow table 999999 is not mapped"
    client = TableMapping.objects.get(logical_table="client")
    client.baserow_table_id = 999_999
    client.save()
    admin = make_user("hostile-admin", roles.ADMIN)
    assert event_replay(event=event, user=admin) == 1
    event.refresh_from_db()
    assert event.state == Event.State.RECEIVED


@pytest.mark.parametrize("event_type", ["rows.exploded", "view.rows_entered", "field.deleted", "x" * 60])
def test_an_event_type_with_no_rule_is_stored_and_ends_ignored(post_raw, event_type):
    load_demo_sync()
    response = post_raw(delivery(event_type=event_type))
    assert response.status_code == 202
    event = Event.objects.get(pk=response.json()["id"])
    assert event.state == Event.State.IGNORED and event.reason and not OrmQ.objects.exists()


# ---------------------------------------------------------------- row counts


def test_items_past_200_rows_are_stored_one_unit_of_work_each(post_raw):
    rows = [{"id": n, "nom": f"Projet {n}"} for n in range(1, 202)]
    response = post_raw(delivery(items=rows))
    assert response.status_code == 202
    event = Event.objects.get()
    assert event.row_count == 201
    assert list(EventItem.objects.order_by("position").values_list("row_id", flat=True)) == list(range(1, 202))


def test_a_delivery_of_1000_rows_is_accepted(post_raw):
    payload = delivery(event_type="rows.deleted", row_ids=list(range(1, 1001)))
    payload.pop("items")
    response = post_raw(payload)
    assert response.status_code == 202
    assert EventItem.objects.count() == 1000


@pytest.mark.parametrize("key", ["items", "row_ids", "rows"])
def test_more_rows_than_the_limit_is_413_before_anything_is_stored(post_raw, key, monkeypatch):
    """Baserow sends at most 200 rows a call; 200,000 tiny rows fit in 2 MiB and took 20 s of a web worker."""
    rows = list(range(1, 1002)) if key == "row_ids" else [{"id": n} for n in range(1, 1002)]
    payload = delivery(event_type="rows.deleted" if key == "row_ids" else "rows.created", **{key: rows})
    if key != "items":
        payload.pop("items")
    started = timezone.now()
    response = post_raw(payload)
    assert response.status_code == 413
    assert "1001 rows" in _error(response) and "SYNC_WEBHOOK_MAX_ROWS" in _error(response)
    assert not Event.objects.exists() and not EventItem.objects.exists()
    assert (timezone.now() - started).total_seconds() < 5


def test_the_row_limit_is_configurable(post_raw, monkeypatch):
    monkeypatch.setenv("SYNC_WEBHOOK_MAX_ROWS", "10")
    assert post_raw(delivery(items=[{"id": n} for n in range(11)])).status_code == 413
    assert post_raw(delivery(items=[{"id": n} for n in range(10)])).status_code == 202

