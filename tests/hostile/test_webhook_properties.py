"""Properties of the secret check and the webhook parser (sync/ingest/receive.py), over generated input."""

import json
import os
from unittest import mock

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sync.ingest.receive import ENVELOPE_KEYS, InvalidDelivery, TooManyRows, parse_delivery, secret_is_valid

PROPERTY = settings(
    max_examples=200, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# What an environment variable can hold in a comma-separated list of secrets.
secret_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters=","),
    min_size=1, max_size=80,
)


def _with_secrets(secrets: list[str]):
    return mock.patch.dict(os.environ, {"BASEROW_WEBHOOK_SECRETS": ",".join(secrets)})


@PROPERTY
@given(secrets=st.lists(secret_text, min_size=1, max_size=4), given_value=st.text(max_size=100))
def test_a_secret_is_valid_exactly_when_it_equals_one_of_the_configured_secrets(secrets, given_value):
    with _with_secrets(secrets):
        assert secret_is_valid(given_value) is (given_value in secrets)


@PROPERTY
@given(secrets=st.lists(secret_text, min_size=1, max_size=4), data=st.data())
def test_every_secret_of_a_rotation_is_valid_and_no_alteration_of_it_is(secrets, data):
    secret = data.draw(st.sampled_from(secrets))
    altered = data.draw(st.sampled_from([secret[:-1], secret + "x", " " + secret, secret.swapcase(), secret * 2]))
    with _with_secrets(secrets):
        assert secret_is_valid(secret)
        assume(altered not in secrets)
        assert not secret_is_valid(altered)


@PROPERTY
@given(given_value=st.text(max_size=100))
def test_an_empty_configuration_outside_debug_refuses_everything(given_value, settings_debug_off):
    with _with_secrets([]):
        assert not secret_is_valid(given_value)


@pytest.fixture
def settings_debug_off(settings):
    settings.DEBUG = False


# ---------------------------------------------------------------- the parser

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
ids = st.integers(min_value=0, max_value=2**63 - 1)
rows = st.lists(st.fixed_dictionaries({"id": ids}, optional={"nom": st.text(), "x": json_values}), max_size=5)
deliveries = st.fixed_dictionaries(
    {
        "event_id": st.text(min_size=1, max_size=100).filter(lambda text: text.strip() and "\x00" not in text),
        "event_type": st.sampled_from(["rows.created", "rows.updated", "rows.deleted", "field.created"]),
        "table_id": ids,
        "webhook_id": st.none() | ids,
    },
    optional={
        "items": rows, "old_items": rows, "database_id": ids, "workspace_id": ids,
        "batch_id": st.integers(min_value=0, max_value=2**31 - 1), "row_ids": st.lists(ids, max_size=5),
    },
)


@PROPERTY
@given(raw=st.binary(max_size=400))
def test_any_bytes_either_parse_to_a_delivery_or_raise_invalid_delivery(raw):
    try:
        payload = parse_delivery(raw)
    except InvalidDelivery as error:
        assert error.message and error.status in (400, 413)
        return
    assert isinstance(payload, dict) and all(key in payload for key in ENVELOPE_KEYS)


@PROPERTY
@given(value=json_values)
def test_any_json_value_either_parses_to_a_delivery_or_raises_invalid_delivery(value):
    try:
        payload = parse_delivery(json.dumps(value).encode())
    except InvalidDelivery:
        return
    assert isinstance(payload, dict)


def _without_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


@PROPERTY
@given(payload=deliveries, ensure_ascii=st.booleans())
def test_every_well_formed_delivery_parses_to_itself_less_nul_characters(payload, ensure_ascii):
    expected = _without_nul(payload)
    assert parse_delivery(json.dumps(payload, ensure_ascii=ensure_ascii).encode()) == expected


@PROPERTY
@given(payload=deliveries, key=st.sampled_from(ENVELOPE_KEYS))
def test_a_delivery_missing_an_envelope_key_is_refused_naming_it(payload, key):
    del payload[key]
    with pytest.raises(InvalidDelivery, match=key):
        parse_delivery(json.dumps(payload).encode())


@PROPERTY
@given(payload=deliveries, cut=st.integers(min_value=1))
def test_a_truncated_delivery_is_refused(payload, cut):
    raw = json.dumps(payload).encode()
    with pytest.raises(InvalidDelivery):
        parse_delivery(raw[: cut % len(raw)])


@PROPERTY
@given(payload=deliveries, text=st.text(min_size=1, max_size=20))
def test_strings_anywhere_are_stored_without_nul_characters(payload, text):
    payload["items"] = [{"id": 1, "nom": f"{text}\x00{text}", f"k\x00{text}": text}]
    parsed = parse_delivery(json.dumps(payload).encode())
    assert "\x00" not in json.dumps(parsed["items"], ensure_ascii=False)


@PROPERTY
@given(payload=deliveries, extra=st.integers(min_value=1, max_value=50))
def test_more_rows_than_the_limit_is_too_large(payload, extra):
    with mock.patch.dict(os.environ, {"SYNC_WEBHOOK_MAX_ROWS": "20"}):
        payload["items"] = [{"id": n} for n in range(20 + extra)]
        with pytest.raises(TooManyRows):
            parse_delivery(json.dumps(payload).encode())
        payload["items"] = payload["items"][:20]
        assert len(parse_delivery(json.dumps(payload).encode())["items"]) == 20
