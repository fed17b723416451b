"""The shared inbound-webhook mechanism (formation_hub.inbound): secrets, signatures, size, content type,
JSON decoding, evidence headers, refusal counting and the database-restart retry."""

import hashlib
import hmac
import json

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.request import Request
from rest_framework.test import APIClient

from formation_hub import inbound
from formation_hub.models import RefusedCall

# --- secrets and signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "secrets", "matches"),
    [
        ("new", ["old", "new"], True),
        ("old", ["old", "new"], True),
        ("other", ["old", "new"], False),
        ("", ["old", "new"], False),
        ("", [""], False),
        ("x", [], False),
        ("néw", ["néw"], True),
    ],
    ids=["new-during-rotation", "old-during-rotation", "wrong", "empty", "empty-secret", "none-configured", "utf8"],
)
def test_a_secret_matches_exactly_one_of_the_valid_ones(given_value, secrets, matches):
    assert inbound.secret_matches(given_value, secrets) is matches


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_signature_under_any_valid_secret_matches_and_case_does_not_matter():
    body = b'{"a": 1}'
    assert inbound.signature_matches(body, sign(body, "second"), ["first", "second"])
    assert inbound.signature_matches(body, sign(body, "first").upper(), ["first", "second"])
    assert not inbound.signature_matches(body + b" ", sign(body, "first"), ["first", "second"])
    assert not inbound.signature_matches(body, sign(body, "first"), [])


@given(st.binary(max_size=200), st.text(min_size=1, max_size=40))
def test_the_signature_of_any_body_matches_only_that_body(body, secret):
    signature = sign(body, secret)
    assert inbound.signature_matches(body, signature, [secret])
    assert not inbound.signature_matches(body + b"x", signature, [secret])


# --- size and content type --------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_by_its_declared_length_or_its_bytes():
    factory = RequestFactory()

    def request(body: bytes, **extra):
        return Request(factory.post("/", body, content_type="application/json", **extra))

    assert inbound.body_read(request(b"x" * 10), limit=10, setting="LIMIT") == b"x" * 10
    with pytest.raises(inbound.BodyTooLarge, match=r"the 10 bytes accepted \(LIMIT\)"):
        inbound.body_read(request(b"x" * 11), limit=10, setting="LIMIT")
    with pytest.raises(inbound.BodyTooLarge):
        inbound.body_read(request(b"x" * 5, CONTENT_LENGTH="11"), limit=10, setting="LIMIT")


def test_the_content_type_must_be_an_accepted_one_unless_the_body_is_empty():
    factory = RequestFactory()
    request = factory.post("/", b"{}", content_type="application/json; charset=utf-8")
    assert inbound.content_type_check(request, ("application/json",), body=b"{}") == "application/json"
    with pytest.raises(inbound.UnsupportedContentType) as refused:
        inbound.content_type_check(factory.post("/", b"<x/>", content_type="text/xml"), ("application/json",),
                                   body=b"<x/>")
    assert refused.value.status == 415 and "application/json" in refused.value.message
    assert inbound.content_type_check(factory.generic("POST", "/"), ("application/json",), body=b"") == ""


# --- decoding --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"[" * 101 + b"]" * 101, "nested too deeply"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": 1e999}', "out of range"),
        (b'{"a": "\\ud800"}', "unpaired UTF-16 surrogate"),
        (b'{"a": "\xff"}', "not UTF-8"),
        (b"{", "Body is not valid JSON"),
    ],
    ids=["deep-100000", "deep-101", "nan", "infinite", "lone-surrogate", "not-utf8", "truncated"],
)
def test_bad_json_is_refused_with_what_is_wrong(raw, words):
    with pytest.raises(inbound.InboundRefused, match=words) as refused:
        inbound.json_parse(raw)
    assert refused.value.status == 400


def test_good_json_is_parsed_with_a_bom_paired_surrogates_and_100_levels():
    assert inbound.json_parse(b'\xef\xbb\xbf{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}
    assert inbound.json_depth(inbound.json_parse(b"[" * 100 + b"]" * 100)) == 100


@given(st.recursive(st.none() | st.integers() | st.text(), lambda inner: st.lists(inner) | st.dictionaries(
    st.text(), inner), max_leaves=30))
def test_json_depth_is_the_nesting_a_recursive_count_gives(value):
    def depth(item):
        if isinstance(item, dict | list):
            children = item.values() if isinstance(item, dict) else item
            return 1 + max((depth(child) for child in children), default=0)
        return 0
    assert inbound.json_depth(value) == depth(value)


def test_nul_characters_are_removed_from_keys_and_values_at_any_depth():
    assert inbound.without_nul({"a\x00": ["b\x00", {"c": "\x00d"}], "n": 1}) == {"a": ["b", {"c": "d"}], "n": 1}


def test_evidence_headers_keep_what_explains_a_call_and_never_a_secret():
    headers = {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/1", "X-GitHub-Event": "ping",
               "Authorization": "Bearer s", "Cookie": "sessionid=s", "X-Alert-Token": "s",
               "X-Formation-Hub-Secret": "s", "X-Other": "dropped"}
    kept = inbound.evidence_headers(headers, prefixes=("x-github-", "x-formation-hub-"),
                                    secret=("X-Formation-Hub-Secret",))
    assert kept == {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/1", "X-GitHub-Event": "ping"}


def test_a_form_body_is_read_as_fields_and_a_json_list_is_refused():
    factory = RequestFactory()
    form = factory.post("/", b"a=1&b=2&b=3", content_type="application/x-www-form-urlencoded")
    assert inbound.fields_parse(form, b"a=1&b=2&b=3") == {"a": "1", "b": ["2", "3"]}
    with pytest.raises(inbound.InboundRefused, match="JSON object"):
        inbound.fields_parse(factory.post("/", b"[]", content_type="application/json"), b"[]")


# --- refusals and the database -----------------------------------------------------------------------------


def test_refusals_accumulate_in_one_row_per_source_and_hour(db):
    for _ in range(3):
        inbound.refusal_record(source="dependabot", reason="bad signature", remote_addr="203.0.113.9")
    inbound.refusal_record(source="generic", reason="wrong token")
    row = RefusedCall.objects.get(source="dependabot")
    assert (row.count, row.last_reason, row.last_remote_addr) == (3, "bad signature", "203.0.113.9")
    assert RefusedCall.objects.get(source="generic").count == 1


def test_refused_webhook_calls_are_listed_in_the_console(admin_client, monkeypatch):
    monkeypatch.setenv("ALERT_TOKENS", "right-token")
    APIClient().post("/api/alerts/generic/?token=wrong", {"monitor": "m"}, format="json")
    page = admin_client.get("/admin/formation_hub/refusedcall/")
    assert page.status_code == 200
    assert "missing or wrong alert token" in page.content.decode()


def test_a_database_restart_is_retried_then_the_operation_answers():
    calls = []

    def store():
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return "stored"

    assert inbound.with_database_retry(store, budget_seconds=5, what="a test delivery") == "stored"
    assert len(calls) == 3


def test_a_database_down_past_the_budget_is_a_503_with_retry_after():
    def store():
        raise InterfaceError("connection already closed")

    with pytest.raises(inbound.DatabaseUnavailable) as refused:
        inbound.with_database_retry(store, budget_seconds=0.3, what="a test delivery")
    response = refused.value.response()
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert json.dumps(response.data).startswith('{"error": "The database is unreachable')
