"""One mechanism for inbound webhooks (Baserow, Dependabot, monitoring alerts).

Each receiver calls these in the same order, before it stores anything:

1. `body_read` (413 over the receiver's limit, read from the stream so Django's 2.5 MB
   DATA_UPLOAD_MAX_MEMORY_SIZE never answers an HTML 400) and `content_type_check` (415);
2. `secret_matches` / `signature_matches` (constant time, every valid secret tried: several are valid
   during a rotation), and on a refusal `refusal_record` (a counter per source and hour, no evidence
   row: an unauthenticated caller must not be able to fill the database);
3. `json_parse` (UTF-8, strict JSON, depth-limited, lone surrogates refused) and `without_nul`
   (PostgreSQL stores no U+0000 in text or jsonb);
4. `with_database_retry` around the store (a database restart is retried briefly, then 503).

Every refusal is an `InboundRefused` whose `response()` is the JSON `{"error": ...}` answer. The stored
evidence of a delivery is a model inheriting `formation_hub.models.InboundDelivery`.
"""

import contextlib
import hashlib
import hmac
import io
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

import environ
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils import timezone
from rest_framework.response import Response

from formation_hub.models import RefusedCall

logger = logging.getLogger(__name__)

MAX_JSON_DEPTH = 100
TOO_DEEP = "Body is not valid JSON: nested too deeply."
DB_RETRY_PAUSE = 0.2
# Never kept in the evidence: they carry a secret or a session.
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-alert-token"})
EVIDENCE_HEADERS = frozenset({"content-type", "content-length", "user-agent"})

Result = TypeVar("Result")
env = environ.Env()


def database_retry_seconds() -> float:
    """INBOUND_DB_RETRY_SECONDS: how long a receiver retries storing a delivery while the database is
    unreachable before it answers 503 (Baserow has its own, SYNC_WEBHOOK_DB_RETRY_SECONDS)."""
    return env.float("INBOUND_DB_RETRY_SECONDS", default=3.0)


class InboundRefused(Exception):  # noqa: N818 - the refusal answer, not a crash
    """A call refused with a JSON answer: `{"error": message}` and the HTTP status."""

    status = 400

    def __init__(self, message: str, *, status: int | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = headers or {}

    def response(self) -> Response:
        return Response({"error": self.message}, status=self.status, headers=self.headers)


class BodyTooLarge(InboundRefused):
    status = 413


class UnsupportedContentType(InboundRefused):
    status = 415


class Unauthorized(InboundRefused):
    status = 401


class DatabaseUnavailable(InboundRefused):
    status = 503

    def __init__(self, message: str = "The database is unreachable right now; the delivery was not stored. "
                                      "Retry later."):
        super().__init__(message, headers={"Retry-After": "5"})


# --- size and content type -----------------------------------------------------------------------------


def body_read(request, *, limit: int, setting: str) -> bytes:
    """The body, at most `limit` bytes; the declared length is checked before anything is read."""
    too_large = BodyTooLarge(f"Body larger than the {limit} bytes accepted ({setting}).")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large
    # A plain Django request is its own stream; without a declared length it has no body, as under DRF.
    stream = (request if declared else None) if isinstance(request, HttpRequest) else request.stream
    if stream is None:
        return b""
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body


def media_type(request) -> str:
    return request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()


def content_type_check(request, accepted: Iterable[str], *, body: bytes) -> str:
    """The request's media type when it is one of `accepted`, else 415 naming the accepted ones (an empty
    body has nothing to interpret: its type is not checked)."""
    accepted = tuple(accepted)
    given = media_type(request)
    if body and given not in accepted:
        raise UnsupportedContentType(
            f"Content-Type must be {' or '.join(accepted)}, not '{given[:60] or 'none'}'."
        )
    return given


# --- secrets and signatures ----------------------------------------------------------------------------


def secret_matches(given: str, secrets: Iterable[str]) -> bool:
    """`given` equals one of `secrets`, compared in constant time against every one of them (no early exit
    tells which secret nearly matched or how many there are)."""
    given_bytes = given.encode()
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(given_bytes, secret.encode())
    return matched and bool(given)


def signature_matches(body: bytes, given_hex: str, secrets: Iterable[str]) -> bool:
    """`given_hex` is the HMAC-SHA256 of `body` under one of `secrets` (GitHub, Forgejo and Gitea sign so)."""
    digests = [hmac.new(secret.encode(), body, hashlib.sha256).hexdigest() for secret in secrets if secret]
    return secret_matches(given_hex.strip().lower(), digests)


def refusal_record(*, source: str, reason: str, remote_addr: str = "", counter=None) -> None:
    """Count a refused call (one row per source and hour, never the body): visible in the console.

    `counter` is the model that counts (a subclass of formation_hub.models.RefusedCallCount); by default
    formation_hub's RefusedCall. A database that is down loses the count, never the 401 answer.
    """
    counter = counter or RefusedCall
    now = timezone.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    logger.warning("Refused %s webhook call from %s: %s", source, remote_addr or "?", reason)
    values = {"last_at": now, "last_reason": reason[:200], "last_remote_addr": remote_addr[:64]}
    try:
        if counter.objects.filter(source=source, hour=hour).update(count=F("count") + 1, **values):
            return
        try:
            with transaction.atomic():
                counter.objects.create(source=source, hour=hour, count=1, **values)
        except IntegrityError:
            counter.objects.filter(source=source, hour=hour).update(count=F("count") + 1, **values)
    except (OperationalError, InterfaceError):
        logger.exception("The refused %s call was not counted: the database is unreachable", source)


# --- body decoding -------------------------------------------------------------------------------------


# A JSON escape of a UTF-16 surrogate (U+D800-U+DFFF); paired ones decode to one character, lone ones stay.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _not_a_number(constant: str):
    raise InboundRefused(f"Body is not valid JSON: {constant} is not a JSON number.")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InboundRefused(f"Body is not valid JSON: the number {text[:40]} is out of range.")
    return value


def json_depth(value) -> int:
    """How deeply lists and objects nest in `value`, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _has_lone_surrogate(payload) -> bool:
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def text_decode(raw: bytes) -> str:
    """The body as text: UTF-8 (a BOM is dropped), or 400 naming the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InboundRefused(f"Body is not valid JSON: not UTF-8 ({error.reason} at byte {error.start}).") from error


def json_parse(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH):
    """The JSON value of `raw`, or InboundRefused (400) saying exactly what is wrong.

    Strict: NaN and Infinity are refused, so are numbers out of range, nesting deeper than `max_depth`
    (a 100,000-deep body is a 400, never a RecursionError) and unpaired UTF-16 surrogate escapes
    (PostgreSQL cannot store them).
    """
    try:
        value = json.loads(text_decode(raw), parse_constant=_not_a_number, parse_float=_finite_float)
    except ValueError as error:
        raise InboundRefused(f"Body is not valid JSON: {error}.") from error
    except RecursionError as error:
        raise InboundRefused(TOO_DEEP) from error
    if json_depth(value) > max_depth:
        raise InboundRefused(TOO_DEEP)
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(value):
        raise InboundRefused("Body is not valid JSON: a string holds an unpaired UTF-16 surrogate escape (\\ud800).")
    return value


def without_nul(value):
    """`value` with every U+0000 removed from its strings and keys (PostgreSQL cannot store them); the raw
    body keeps them, escaped."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


def raw_text(raw: bytes) -> str:
    """The body as stored evidence: text, undecodable bytes replaced, NUL removed."""
    return without_nul(raw.decode("utf-8", errors="replace"))


JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def _form_values(data) -> dict:
    """A QueryDict as a plain dict: one value per field, or the list when a field repeats."""
    return {key: values[0] if len(values) == 1 else values for key, values in data.lists()}


def fields_parse(request, raw: bytes) -> dict:
    """The fields of a JSON object or a form (urlencoded or multipart) body, for senders that can post only
    forms (UptimeRobot); 415 for another content type, 400 for a body that is not what it says."""
    kind = content_type_check(request, (JSON, FORM, MULTIPART), body=raw)
    if not raw:
        return {}
    if kind == JSON:
        value = json_parse(raw)
        if not isinstance(value, dict):
            raise InboundRefused(f"Body must be a JSON object, not {type(value).__name__}.")
        return without_nul(value)
    if kind == FORM:
        return without_nul(_form_values(QueryDict(raw, encoding="utf-8")))
    try:
        fields, _files = MultiPartParser(request.META, io.BytesIO(raw), request.upload_handlers, "utf-8").parse()
    except MultiPartParserError as error:
        raise InboundRefused(f"Body is not a valid multipart form: {error}.") from error
    return without_nul(_form_values(fields))


def evidence_headers(headers, *, prefixes: Iterable[str] = (), secret: Iterable[str] = ()) -> dict:
    """The headers worth keeping as evidence: content type, length, user agent and those starting with one
    of `prefixes`; never a header that carries a secret (Authorization, Cookie, X-Alert-Token, `secret`)."""
    prefixes = tuple(prefix.lower() for prefix in prefixes)
    hidden = SECRET_HEADERS | {name.lower() for name in secret}
    kept = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in hidden or not (lowered in EVIDENCE_HEADERS or lowered.startswith(prefixes)):
            continue
        kept[without_nul(name)] = without_nul(value)[:500]
    return kept


# --- database restarts ---------------------------------------------------------------------------------


def with_database_retry(operation: Callable[[], Result], *, budget_seconds: float, what: str) -> Result:
    """`operation()`, tried again on a fresh connection while the database is unreachable (a restart), for at
    most `budget_seconds`; then DatabaseUnavailable (503 with Retry-After), so the sender retries later."""
    deadline = time.monotonic() + budget_seconds
    while True:
        try:
            return operation()
        except (OperationalError, InterfaceError) as error:
            if time.monotonic() + DB_RETRY_PAUSE > deadline:
                logger.exception("%s not stored: the database stayed unreachable", what)
                raise DatabaseUnavailable from error
            logger.warning("Storing %s failed (%s); retrying on a new connection", what, error)
            with contextlib.suppress(DatabaseError):
                connection.close()
            time.sleep(DB_RETRY_PAUSE)
