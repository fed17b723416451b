"""The pieces of sync.clients.http that need no server: backoff, retry decisions, Retry-After, field checks, tokens."""

import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from sync.clients.errors import (
    InvalidRequest,
    NotFound,
    PermanentError,
    RateLimited,
    RetryableError,
    ServiceTimeout,
    ServiceUnavailable,
)
from sync.clients.http import (
    CallLog,
    CallRecord,
    RetryPolicy,
    TimeoutSession,
    TokenCache,
    Transport,
    backoff_delay,
    check_fields,
    jwt_expiry,
    make_session,
    normalize_timeout,
    parse_retry_after,
    recording,
)


@pytest.mark.parametrize(
    ("attempt", "base", "cap", "jitter", "rand", "expected"),
    [
        (1, 0.5, 8.0, 0.0, 0.9, 0.5),
        (2, 0.5, 8.0, 0.0, 0.9, 1.0),
        (3, 0.5, 8.0, 0.0, 0.9, 2.0),
        (4, 0.5, 8.0, 0.0, 0.9, 4.0),
        (5, 0.5, 8.0, 0.0, 0.9, 8.0),
        (6, 0.5, 8.0, 0.0, 0.9, 8.0),  # capped
        (60, 0.5, 8.0, 0.0, 0.9, 8.0),
        (10_000, 0.5, 8.0, 0.0, 0.9, 8.0),  # no overflow on absurd attempt numbers
        (1, 0.5, 8.0, 0.5, 0.0, 0.25),  # jitter: lowest draw gives half the step
        (1, 0.5, 8.0, 0.5, 1.0, 0.5),  # highest draw gives the whole step
        (3, 0.5, 8.0, 0.5, 0.5, 1.5),
        (9, 0.5, 8.0, 0.5, 0.0, 4.0),  # jitter on the capped step
        (9, 0.5, 8.0, 1.0, 0.0, 0.0),  # full jitter
        (2, 1.0, 1.5, 0.0, 0.0, 1.5),  # cap between two steps
    ],
)
def test_backoff_delay_vectors(attempt, base, cap, jitter, rand, expected):
    assert backoff_delay(attempt, base=base, cap=cap, jitter=jitter, rand=rand) == pytest.approx(expected)


def test_backoff_with_random_jitter_stays_within_its_bounds_and_never_exceeds_the_cap():
    for attempt in range(1, 40):
        delay = backoff_delay(attempt, base=0.5, cap=8.0, jitter=0.5)
        step = min(8.0, 0.5 * 2 ** (attempt - 1))
        assert step / 2 <= delay <= step <= 8.0


def test_backoff_attempts_start_at_one():
    with pytest.raises(ValueError):
        backoff_delay(0, base=1, cap=1)


def _retryable(retry_after=None):
    return RetryableError("x", retry_after=retry_after)


def test_policy_stops_after_max_retries():
    policy = RetryPolicy(max_retries=3, base=1, cap=10, jitter=0)

    assert [policy.delay(attempt, _retryable()) for attempt in (1, 2, 3, 4)] == [1, 2, 4, None]


def test_policy_waits_retry_after_when_short_and_gives_up_when_long():
    policy = RetryPolicy(max_retries=3, max_retry_after=30)

    assert policy.delay(1, _retryable(retry_after=12)) == 12
    assert policy.delay(1, _retryable(retry_after=31)) is None
    assert policy.delay(4, _retryable(retry_after=1)) is None


def test_parse_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    earlier = format_datetime(now - timedelta(seconds=90), usegmt=True)

    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(90)
    assert parse_retry_after(earlier, now=now.timestamp()) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


def test_error_classes_say_whether_a_retry_makes_sense():
    assert ServiceUnavailable("x").retryable and ServiceTimeout("x").retryable and RateLimited("x").retryable
    assert not PermanentError("x").retryable and not NotFound("x").retryable and not InvalidRequest("x").retryable
    assert issubclass(NotFound, PermanentError)
    assert issubclass(ServiceTimeout, ServiceUnavailable)


def test_check_fields_refuses_an_unknown_key_and_names_it():
    allowed = frozenset({"pageId", "title"})

    with pytest.raises(InvalidRequest, match="parentId"):
        check_fields("/api/pages/update", {"pageId": "p", "parentId": "x"}, allowed=allowed)
    with pytest.raises(InvalidRequest, match="needs pageId"):
        check_fields("/api/pages/update", {"title": "t"}, allowed=allowed, required=frozenset({"pageId"}))
    check_fields("/api/pages/update", {"pageId": "p", "title": None}, allowed=allowed)


def test_normalize_timeout_gives_connect_and_read():
    assert normalize_timeout(None) == (3.05, 10.0)
    assert normalize_timeout(2) == (2.0, 2.0)
    assert normalize_timeout(30) == (3.05, 30.0)
    assert normalize_timeout((1, 5)) == (1.0, 5.0)


def test_session_factory_sets_default_timeouts_and_no_hidden_retries():
    session = make_session(timeout=(1, 4))

    assert isinstance(session, TimeoutSession)
    assert session.timeout == (1.0, 4.0)
    assert session.get_adapter("http://x").max_retries.total == 0
    assert session.headers["Accept"] == "application/json"


def test_jwt_expiry_reads_the_exp_claim_and_tolerates_garbage():
    token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3OTk5OTk5OTl9.sig"  # {"exp": 1799999999}

    assert jwt_expiry(token) == 1799999999
    assert jwt_expiry("not-a-jwt") is None
    assert jwt_expiry("a.bm90LWpzb24.c") is None


def test_token_cache_gives_one_lock_per_key():
    cache = TokenCache()
    cache.set(("u", "a"), "t1")

    assert cache.lock(("u", "a")) is cache.lock(("u", "a"))
    assert cache.lock(("u", "a")) is not cache.lock(("u", "b"))
    assert cache.get(("u", "a")) == "t1"
    cache.discard(("u", "a"))
    assert cache.get(("u", "a")) is None


def _record(path="/p"):
    return CallRecord(service="s", method="GET", path=path, status=200, duration_ms=1, attempt=1, outcome="ok")


def test_recording_collects_calls_in_nested_blocks_only_while_open():
    transport = Transport(service="s", base_url="http://x", parse_error=lambda body: ("", None))
    outer, inner = CallLog(), CallLog()

    with recording(outer):
        transport._record(_record("/a"))
        with recording(inner):
            transport._record(_record("/b"))
    transport._record(_record("/c"))

    assert [r.path for r in outer.records] == ["/a", "/b"]
    assert [r.path for r in inner.records] == ["/b"]


def test_a_failing_recorder_does_not_break_the_call():
    def broken(record):
        raise RuntimeError("trace store down")

    log = CallLog()
    transport = Transport(service="s", base_url="http://x", parse_error=lambda body: ("", None), recorder=broken)
    with recording(log):
        transport._record(_record())

    assert len(log.records) == 1


def test_recording_is_per_thread():
    log = CallLog()
    transport = Transport(service="s", base_url="http://x", parse_error=lambda body: ("", None))
    with recording(log):
        thread = threading.Thread(target=transport._record, args=(_record(),))
        thread.start()
        thread.join()

    assert log.records == []
