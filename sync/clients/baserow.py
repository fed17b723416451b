"""Baserow 1.35 REST client: rows with a database token, webhook management with an admin JWT.

contracts/README.md sections 2.4 and 3: rows live under `/api/database/rows/table/{table_id}/` and take
`Authorization: Token <key>`; webhooks (`/api/database/webhooks/...`) accept only a JWT from
`/api/user/token-auth/`, valid 10 minutes and renewed with `/api/user/token-refresh/` (refresh token:
7 days). Errors are `{"error": "ERROR_...", "detail": ...}`. `send_webhook_events=false` on a write
keeps that write from firing any row webhook (the bridge's loop breaker).
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from sync import conf
from sync.clients.errors import AuthenticationFailed, InvalidRequest
from sync.clients.http import Recorder, RetryPolicy, Timeout, TokenCache, Transport, check_fields, jwt_expiry

SERVICE = "baserow"
PAGE_SIZE_LIMIT = 200
ACCESS_TOKEN_LIFETIME = 600.0  # BASEROW_ACCESS_TOKEN_LIFETIME_MINUTES default, when the JWT has no exp
REFRESH_TOKEN_LIFETIME = 7 * 24 * 3600.0
RENEW_MARGIN = 30.0

# A deadlock answers 409 and asks to try again after the concurrent operation (baserow/api/errors.py).
RETRYABLE_CODES = frozenset({"ERROR_DATABASE_DEADLOCK"})

WEBHOOK_UPDATE_FIELDS = frozenset({
    "url", "request_method", "name", "include_all_events", "events", "event_config", "headers",
    "use_user_field_names", "active",
})

_JWTS = TokenCache()


def parse_error(body: dict) -> tuple[str, Any]:
    """Baserow's `{"error", "detail"}` (DRF's `{"detail"}` for throttling and plain auth errors)."""
    return str(body.get("error") or ""), body.get("detail")


@dataclass(frozen=True)
class _Jwt:
    access: str
    access_expires: float
    refresh: str
    refresh_expires: float


@dataclass(frozen=True)
class RowPage:
    """One page of `list_rows`: DRF pagination `{count, next, previous, results}`."""

    count: int
    results: list[dict]
    has_next: bool


def _flag(value: bool) -> str:
    return "true" if value else "false"


class BaserowClient:
    """Rows (database token) and webhooks (admin JWT) of one Baserow instance.

    Reads and PATCH/DELETE are retried on 5xx, timeouts and 429; a POST that creates a row is retried
    only when it cannot have reached Baserow. Writes send `send_webhook_events=<send_webhook_events>`
    unless the call says otherwise.
    """

    def __init__(
        self,
        base_url: str,
        database_token: str,
        *,
        admin_email: str | None = None,
        admin_password: str | None = None,
        timeout: Timeout | None = None,
        send_webhook_events: bool = False,
        retry: RetryPolicy | None = None,
        recorder: Recorder | None = None,
        session: requests.Session | None = None,
    ):
        self.transport = Transport(
            service=SERVICE, base_url=base_url, parse_error=parse_error, timeout=timeout, retry=retry,
            recorder=recorder, session=session, retryable_codes=RETRYABLE_CODES,
        )
        self._database_token = database_token
        self._admin_email = admin_email or ""
        self._admin_password = admin_password or ""
        self.send_webhook_events = send_webhook_events

    @classmethod
    def from_connection(cls, connection, **options) -> "BaserowClient":
        """A client for a `sync.models.BaserowConnection` row (secrets read from the variables it names)."""
        options.setdefault("timeout", conf.http_timeout_seconds())
        options.setdefault("send_webhook_events", connection.send_webhook_events_on_write)
        return cls(
            connection.api_url, connection.token(), admin_email=connection.admin_email or None,
            admin_password=connection.admin_password() or None, **options,
        )

    def __repr__(self):
        return f"BaserowClient({self.transport.base_url!r})"

    @property
    def has_admin_credentials(self) -> bool:
        return bool(self._admin_email and self._admin_password)

    # Rows ------------------------------------------------------------------------------------------

    def get_row(self, table_id: int, row_id: int) -> dict:
        """The row with user field names; NotFound when it does not exist (or is in the trash)."""
        return self._rows("GET", f"{_rows_path(table_id)}{int(row_id)}/")

    def list_rows(
        self,
        table_id: int,
        *,
        page: int = 1,
        size: int = 100,
        search: str | None = None,
        order_by: str | None = None,
        filters: dict[str, Any] | None = None,
        include: list[str] | None = None,
    ) -> RowPage:
        """One page of rows. `filters` are Baserow query filters, e.g. {"filter__Nom__equal": "X"}."""
        if not 1 <= size <= PAGE_SIZE_LIMIT:
            raise InvalidRequest(f"page size must be 1..{PAGE_SIZE_LIMIT}, not {size}", service=SERVICE)
        params: dict[str, Any] = {"page": page, "size": size}
        if search:
            params["search"] = search
        if order_by:
            params["order_by"] = order_by
        if include:
            params["include"] = ",".join(include)
        for name, value in (filters or {}).items():
            if not name.startswith(("filter__", "filters", "filter_type")):
                raise InvalidRequest(f"{name} is not a Baserow filter parameter", service=SERVICE)
            params[name] = value
        data = self._rows("GET", _rows_path(table_id), params=params)
        return RowPage(count=int(data.get("count") or 0), results=list(data.get("results") or []),
                       has_next=bool(data.get("next")))

    def iter_rows(self, table_id: int, *, size: int = PAGE_SIZE_LIMIT, **options) -> Iterator[dict]:
        """Every row of the table, page after page (same options as `list_rows`)."""
        page = 1
        while True:
            batch = self.list_rows(table_id, page=page, size=size, **options)
            yield from batch.results
            if not batch.has_next or not batch.results:
                return
            page += 1

    def create_row(self, table_id: int, values: dict[str, Any], *, send_webhook_events: bool | None = None) -> dict:
        """Create a row (keys are field names); returns it. Not retried once it may have reached Baserow."""
        return self._rows("POST", _rows_path(table_id), json_body=values, idempotent=False,
                          send_webhook_events=send_webhook_events)

    def update_row(
        self, table_id: int, row_id: int, values: dict[str, Any], *, send_webhook_events: bool | None = None
    ) -> dict:
        """Set the given fields of a row; returns the whole row. NotFound when the row is gone."""
        return self._rows("PATCH", f"{_rows_path(table_id)}{int(row_id)}/", json_body=values,
                          send_webhook_events=send_webhook_events)

    def delete_row(self, table_id: int, row_id: int, *, send_webhook_events: bool | None = None) -> None:
        """Move a row to Baserow's trash. NotFound when it is already gone."""
        self._rows("DELETE", f"{_rows_path(table_id)}{int(row_id)}/", send_webhook_events=send_webhook_events)

    def _rows(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool = True,
        send_webhook_events: bool | None = None,
    ) -> Any:
        query = {"user_field_names": "true", **(params or {})}
        if method != "GET":
            chosen = self.send_webhook_events if send_webhook_events is None else send_webhook_events
            query["send_webhook_events"] = _flag(chosen)
        return self.transport.request_json(
            method, path, params=query, json_body=json_body, idempotent=idempotent,
            headers={"Authorization": f"Token {self._database_token}"},
        )

    # Webhooks (admin JWT) --------------------------------------------------------------------------

    def list_webhooks(self, table_id: int) -> list[dict]:
        """The table's webhooks (each with `id`, `url`, `active`, `events`, ...)."""
        return self._admin("GET", f"/api/database/webhooks/table/{int(table_id)}/") or []

    def get_webhook(self, webhook_id: int) -> dict:
        return self._admin("GET", f"/api/database/webhooks/{int(webhook_id)}/")

    def update_webhook(self, webhook_id: int, **fields: Any) -> dict:
        """PATCH a webhook; only the fields Baserow's update serializer takes are allowed."""
        path = f"/api/database/webhooks/{int(webhook_id)}/"
        check_fields(path, fields, allowed=WEBHOOK_UPDATE_FIELDS, service=SERVICE, method="PATCH")
        return self._admin("PATCH", path, json_body=fields)

    def enable_webhook(self, webhook_id: int) -> dict:
        """Switch a webhook Baserow deactivated back on (this also resets its failure counter)."""
        return self.update_webhook(webhook_id, active=True)

    def _admin(self, method: str, path: str, *, json_body: Any = None) -> Any:
        token = self._access_token()
        try:
            return self._admin_call(method, path, token, json_body)
        except AuthenticationFailed as error:
            if error.status != 401:
                raise
            token = self._access_token(stale=token)
            return self._admin_call(method, path, token, json_body)

    def _admin_call(self, method: str, path: str, token: str, json_body: Any) -> Any:
        return self.transport.request_json(method, path, json_body=json_body, headers={"Authorization": f"JWT {token}"})

    @property
    def _jwt_key(self) -> tuple:
        return (self.transport.base_url, self._admin_email.lower())

    def _access_token(self, *, stale: str | None = None) -> str:
        """A valid access JWT: cached, refreshed when near expiry (or refused as `stale`), else a login."""
        if not self.has_admin_credentials:
            raise AuthenticationFailed(
                "Baserow webhook management needs an admin account: set the connection's admin email "
                "and its password variable", service=SERVICE,
            )
        key = self._jwt_key
        with _JWTS.lock(key):
            current: _Jwt | None = _JWTS.get(key)
            now = time.time()
            if current and current.access != stale and current.access_expires - RENEW_MARGIN > now:
                return current.access
            if current and current.refresh_expires - RENEW_MARGIN > now:
                try:
                    renewed = self._refresh(current)
                except AuthenticationFailed:
                    _JWTS.discard(key)
                else:
                    _JWTS.set(key, renewed)
                    return renewed.access
            fresh = self._login()
            _JWTS.set(key, fresh)
            return fresh.access

    def _login(self) -> _Jwt:
        data = self.transport.request_json(
            "POST", "/api/user/token-auth/", json_body={"email": self._admin_email, "password": self._admin_password},
        )
        access = data.get("access_token") or data.get("token")
        refresh = data.get("refresh_token") or ""
        if not access:
            raise AuthenticationFailed("Baserow token-auth answered without an access token", service=SERVICE)
        now = time.time()
        return _Jwt(access, jwt_expiry(access) or now + ACCESS_TOKEN_LIFETIME,
                    refresh, (jwt_expiry(refresh) or now + REFRESH_TOKEN_LIFETIME) if refresh else 0.0)

    def _refresh(self, current: _Jwt) -> _Jwt:
        data = self.transport.request_json(
            "POST", "/api/user/token-refresh/", json_body={"refresh_token": current.refresh},
        )
        access = data.get("access_token") or data.get("token")
        if not access:
            raise AuthenticationFailed("Baserow token-refresh answered without an access token", service=SERVICE)
        return _Jwt(access, jwt_expiry(access) or time.time() + ACCESS_TOKEN_LIFETIME,
                    current.refresh, current.refresh_expires)


def _rows_path(table_id: int) -> str:
    return f"/api/database/rows/table/{int(table_id)}/"


def forget_cached_tokens() -> None:
    """Drop every cached admin JWT of this process (tests; a password change)."""
    _JWTS.clear()
