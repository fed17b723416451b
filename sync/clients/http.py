"""What the Baserow and Docmost clients share: sessions with timeouts, retries with capped exponential
backoff and jitter (the errors of `sync.clients.errors` say whether a retry makes sense), and a recorder
of every call.

Retry rules (SPEC section 1, issue 4): 5xx, timeouts, connection errors and 429 are retryable; any
other 4xx is permanent. A request that is not idempotent (a POST that creates something) is retried
only when it cannot have reached the server (the connection was never made, or a 429); any other
failure is raised so the caller can look for what it created before trying again.

The recorder sees method, path, status, duration and outcome, never headers or bodies, so tokens and
passwords cannot leak into traces.
"""

import base64
import contextlib
import contextvars
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import requests
import urllib3
from requests.adapters import HTTPAdapter

from sync.clients.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotFound,
    PermanentError,
    RateLimited,
    RetryableError,
    ServiceError,
    ServiceTimeout,
    ServiceUnavailable,
)

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 3.05
DEFAULT_READ_TIMEOUT = 10.0

Timeout = float | tuple[float, float]


# Recording -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRecord:
    """One HTTP attempt as traces show it. Never holds headers, bodies, tokens or passwords."""

    service: str
    method: str
    path: str
    status: int | None
    duration_ms: int
    attempt: int
    outcome: str  # "ok" or the error class name, e.g. "ServiceTimeout"


Recorder = Callable[[CallRecord], None]

_context_recorders: contextvars.ContextVar[tuple[Recorder, ...]] = contextvars.ContextVar(
    "sync_http_recorders", default=()
)


@contextlib.contextmanager
def recording(recorder: Recorder) -> Iterator[Recorder]:
    """Send every call made inside the block (by any client, in this thread or task) to `recorder`."""
    token = _context_recorders.set((*_context_recorders.get(), recorder))
    try:
        yield recorder
    finally:
        _context_recorders.reset(token)


@dataclass
class CallLog:
    """A ready-made recorder that keeps the records in a list: `with recording(CallLog()) as log:`."""

    records: list[CallRecord] = field(default_factory=list)

    def __call__(self, record: CallRecord) -> None:
        self.records.append(record)


# Backoff ---------------------------------------------------------------------------------------------


def backoff_delay(attempt: int, *, base: float, cap: float, jitter: float = 0.5, rand: float | None = None) -> float:
    """Seconds to wait before retry number `attempt` (1 for the first retry).

    The exponential step `base * 2 ** (attempt - 1)` is capped at `cap`; `jitter` (0..1) is the share
    of that step drawn at random, so the delay lies in [step * (1 - jitter), step]. It never exceeds
    `cap`. `rand` (0..1) replaces the random draw in tests.
    """
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    step = min(cap, base * 2 ** min(attempt - 1, 62))
    draw = random.random() if rand is None else rand
    return step * (1 - jitter) + step * jitter * draw


@dataclass(frozen=True)
class RetryPolicy:
    """`max_retries` quick retries inside one call; a Retry-After longer than `max_retry_after` is
    not slept through: the RateLimited error goes up so the caller schedules the next attempt.
    `retry_server_errors` False leaves a 5xx answer to the caller (a request that may be the cause)."""

    max_retries: int = 3
    base: float = 0.25
    cap: float = 4.0
    jitter: float = 0.5
    max_retry_after: float = 10.0
    retry_server_errors: bool = True

    def delay(self, attempt: int, error: RetryableError) -> float | None:
        """Seconds to wait before retry `attempt` after `error`, or None when not to retry here."""
        if attempt > self.max_retries:
            return None
        if not self.retry_server_errors and error.status is not None and error.status >= 500:
            return None
        if error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_retry_after else None
        return backoff_delay(attempt, base=self.base, cap=self.cap, jitter=self.jitter)


NO_RETRY = RetryPolicy(max_retries=0)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# Sessions and tokens ---------------------------------------------------------------------------------


def normalize_timeout(timeout: Timeout | None) -> tuple[float, float]:
    if timeout is None:
        return (DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT)
    if isinstance(timeout, tuple):
        return (float(timeout[0]), float(timeout[1]))
    return (min(float(timeout), DEFAULT_CONNECT_TIMEOUT), float(timeout))


class TimeoutSession(requests.Session):
    """A requests.Session whose requests get `timeout` (connect, read) unless the call gives one."""

    def __init__(self, timeout: Timeout | None = None):
        super().__init__()
        self.timeout = normalize_timeout(timeout)

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


def make_session(*, timeout: Timeout | None = None, user_agent: str = "formation-hub-sync") -> TimeoutSession:
    """A session with connect/read timeouts and no hidden retries (ours are explicit and recorded)."""
    session = TimeoutSession(timeout)
    # requests' default Retry(0, read=False): no retry, and a read timeout stays a ReadTimeout.
    adapter = HTTPAdapter(max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})
    return session


def _environment_read_once(session: requests.Session, base_url: str) -> requests.Session:
    """The proxies (NO_PROXY included) and CA bundle the environment gives for `base_url`, read once:
    with `trust_env` requests reads them, and ~/.netrc, again on every call (~0.7 ms of CPU each)."""
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (not verified: only to renew before the server refuses it)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, KeyError, TypeError, ValueError):
        return None


class TokenCache:
    """Tokens shared by every client of one process, keyed by (base URL, account); thread-safe.

    `lock(key)` serialises renewals so that concurrent callers log in once, not once each.
    """

    def __init__(self):
        self._guard = threading.Lock()
        self._values: dict[tuple, Any] = {}
        self._locks: dict[tuple, threading.Lock] = {}

    def get(self, key: tuple) -> Any:
        with self._guard:
            return self._values.get(key)

    def set(self, key: tuple, value: Any) -> None:
        with self._guard:
            self._values[key] = value

    def discard(self, key: tuple) -> None:
        with self._guard:
            self._values.pop(key, None)

    def lock(self, key: tuple) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def clear(self) -> None:
        with self._guard:
            self._values.clear()


# Transport -------------------------------------------------------------------------------------------


ErrorParser = Callable[[Any], tuple[str, Any]]


def _never_connected(error: requests.RequestException) -> bool:
    """True when the request cannot have reached the server (refused, DNS, connect timeout)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    seen = set()
    current: Any = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, urllib3.exceptions.NewConnectionError):
            return True
        reason = getattr(current, "reason", None)
        if reason is not None and reason is not current:
            current = reason
            continue
        args = getattr(current, "args", ())
        current = args[0] if args and isinstance(args[0], BaseException) else None
    return False


class Transport:
    """One service's HTTP calls: base URL, session, retry policy, error mapping and recording.

    `parse_error(body) -> (code, detail)` reads the product's error shape; `retryable_codes` are
    error codes worth a retry whatever their status (e.g. a database deadlock); `retry_after_headers`
    the headers a 429 may carry its wait in (Docmost's auth limiter sends `Retry-After-Auth`).
    """

    def __init__(
        self,
        *,
        service: str,
        base_url: str,
        parse_error: ErrorParser,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
        recorder: Recorder | None = None,
        session: requests.Session | None = None,
        retryable_codes: frozenset[str] = frozenset(),
        retry_after_headers: tuple[str, ...] = ("Retry-After",),
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.parse_error = parse_error
        self.timeout = normalize_timeout(timeout)
        self.retry = retry or RetryPolicy()
        self.recorder = recorder
        self.session = session or _environment_read_once(make_session(timeout=self.timeout), self.base_url)
        self.retryable_codes = retryable_codes
        self.retry_after_headers = retry_after_headers
        self.sleep = sleep

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = True,
        retry: RetryPolicy | None = None,
    ) -> requests.Response:
        """Send with retries; return the 2xx response or raise a ServiceError subclass."""
        policy = retry or self.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._send(method, path, params=params, json_body=json_body, headers=headers, attempt=attempt)
            except RetryableError as error:
                if not idempotent and error.request_sent:
                    raise
                delay = policy.delay(attempt, error)
                if delay is None:
                    raise
                logger.info("%s %s %s: %s; retry %d in %.2f s", self.service, method, path, error, attempt, delay)
                self.sleep(delay)

    def request_json(self, method: str, path: str, **kwargs) -> Any:
        """Like `request`, with the body parsed as JSON (None for an empty 2xx body)."""
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as error:
            raise ServiceUnavailable(
                f"{self.service} answered {method} {path} with {response.status_code} and a body that is not JSON",
                service=self.service, method=method, path=path, status=response.status_code,
            ) from error

    def _send(self, method, path, *, params, json_body, headers, attempt) -> requests.Response:
        shown_path = f"{path}?{urlencode(params, doseq=True)}" if params else path
        started = time.monotonic()
        status = None
        outcome = "ok"
        try:
            try:
                response = self.session.request(
                    method, self.base_url + path, params=params, json=json_body, headers=headers,
                    timeout=self.timeout,
                )
            except requests.Timeout as error:
                raise ServiceTimeout(
                    f"{self.service} did not answer {method} {path} in time ({error.__class__.__name__})",
                    request_sent=not isinstance(error, requests.ConnectTimeout),
                    service=self.service, method=method, path=path,
                ) from error
            except requests.RequestException as error:
                raise ServiceUnavailable(
                    f"{self.service} unreachable for {method} {path} ({error.__class__.__name__})",
                    request_sent=not _never_connected(error),
                    service=self.service, method=method, path=path,
                ) from error
            status = response.status_code
            if status >= 400:
                raise self._error_for(method, path, response)
            return response
        except ServiceError as error:
            outcome = error.__class__.__name__
            raise
        finally:
            self._record(
                CallRecord(
                    service=self.service, method=method, path=shown_path, status=status,
                    duration_ms=int((time.monotonic() - started) * 1000), attempt=attempt, outcome=outcome,
                )
            )

    def _error_for(self, method: str, path: str, response: requests.Response) -> ServiceError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = response.text[:500]
        code, detail = self.parse_error(body) if isinstance(body, dict) else ("", body)
        summary = f"{self.service} {method} {path} -> {status}"
        if code:
            summary += f" {code}"
        if detail:
            summary += f": {detail}"
        common = {"service": self.service, "method": method, "path": path, "status": status, "code": code,
                  "detail": detail, "body": body}
        if status == 429:
            return RateLimited(summary, request_sent=False, retry_after=self._retry_after(response), **common)
        if status >= 500 or code in self.retryable_codes:
            return ServiceUnavailable(summary, retry_after=parse_retry_after(response.headers.get("Retry-After")),
                                      **common)
        if status == 404:
            return NotFound(summary, **common)
        if status in (401, 403):
            return AuthenticationFailed(summary, **common)
        return PermanentError(summary, **common)

    def _retry_after(self, response: requests.Response) -> float | None:
        for name in self.retry_after_headers:
            seconds = parse_retry_after(response.headers.get(name))
            if seconds is not None:
                return seconds
        return None

    def _record(self, record: CallRecord) -> None:
        logger.debug(
            "%s %s %s -> %s in %d ms (attempt %d, %s)", record.service, record.method, record.path, record.status,
            record.duration_ms, record.attempt, record.outcome,
        )
        recorders = (self.recorder, *_context_recorders.get()) if self.recorder else _context_recorders.get()
        for recorder in recorders:
            try:
                recorder(record)
            except Exception:  # a broken trace must never break the sync call it traces
                logger.exception("call recorder failed")


def check_fields(
    endpoint: str,
    body: dict[str, Any],
    *,
    allowed: frozenset[str],
    required: frozenset[str] = frozenset(),
    service: str = "",
    method: str = "POST",
) -> None:
    """Refuse a request body with a key the endpoint does not take, or without a required one.

    Docmost silently drops unknown keys (ValidationPipe whitelist), so a typo would otherwise vanish.
    """
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidRequest(
            f"{endpoint} takes no field {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})",
            service=service, method=method, path=endpoint,
        )
    missing = sorted(name for name in required if body.get(name) in (None, ""))
    if missing:
        raise InvalidRequest(
            f"{endpoint} needs {', '.join(missing)}", service=service, method=method, path=endpoint,
        )
