"""Docmost (0.95) REST client: POST-only JSON RPC under `/api`, answers wrapped in `{data, success, status}`.

contracts/README.md sections 4 and 5. Authentication is `Authorization: Bearer <token>`: an API key
(Enterprise edition) when configured, otherwise the JWT a bot account gets from `/api/auth/login` as the
`authToken` cookie, shared and throttled as `sync.clients.docmost_login` describes, renewed once when
Docmost answers 401.

Docmost strips unknown request keys without a word (`ValidationPipe({whitelist: true})`), so each body is
checked here against the keys its endpoint takes: a typo fails in our tests instead of vanishing.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import requests

from sync import conf
from sync.clients.docmost_login import LOGIN_FIELDS, PROCESS_LOGINS, BotLogin
from sync.clients.errors import (
    AuthenticationFailed,
    InvalidRequest,
    NotFound,
    PermanentError,
    RetryableError,
    ServiceUnavailable,
)
from sync.clients.http import Recorder, RetryPolicy, Timeout, Transport, check_fields
from sync.clients.shared_login import DatabaseLoginStore, LoginStore

SERVICE = "docmost"
PAGE_LIMIT = 100
CONTENT_FORMATS = frozenset({"json", "markdown", "html"})
OPERATIONS = frozenset({"append", "prepend", "replace"})
# How far before `since` a marker search still looks (the clocks of Docmost and the bridge may differ).
CLOCK_SKEW_MARGIN = timedelta(minutes=5)

PAGINATION = frozenset({"limit", "cursor", "beforeCursor"})

# Keys each endpoint takes (the DTOs in apps/server/src/core/*/dto), and those it requires.
ENDPOINTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "/api/auth/login": (LOGIN_FIELDS, LOGIN_FIELDS),
    "/api/pages/create": (
        frozenset({"spaceId", "title", "icon", "parentPageId", "content", "format"}), frozenset({"spaceId"}),
    ),
    "/api/pages/update": (
        frozenset({"pageId", "title", "icon", "content", "operation", "format"}), frozenset({"pageId"}),
    ),
    "/api/pages/info": (frozenset({"pageId", "format"}), frozenset({"pageId"})),
    "/api/pages/delete": (frozenset({"pageId"}), frozenset({"pageId"})),
    "/api/pages/restore": (frozenset({"pageId"}), frozenset({"pageId"})),
    "/api/pages/recent": (PAGINATION | {"spaceId"}, frozenset()),
    "/api/pages/trash": (PAGINATION | {"spaceId"}, frozenset({"spaceId"})),
    "/api/spaces": (PAGINATION | {"query"}, frozenset()),
    "/api/spaces/info": (frozenset({"spaceId"}), frozenset({"spaceId"})),
    "/api/shares": (PAGINATION, frozenset()),
    "/api/shares/for-page": (frozenset({"pageId"}), frozenset({"pageId"})),
}

# Calls that change something each time they run: never retried once they may have reached Docmost.
NOT_IDEMPOTENT = frozenset({"/api/pages/create"})

MARKER_PREFIX = "formation-hub-ref:"
MARKER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:/-]{0,99}$")
# A character a marker may hold: the marker found in a page must not go on with one (601/1 is not 601/12).
MARKER_CHARACTER = "[A-Za-z0-9.:/-]"

_UNSET: Any = object()


def parse_error(body: dict) -> tuple[str, Any]:
    """NestJS `{"message": str | [str], "error": "Not Found", "statusCode": 404}`."""
    message = body.get("message")
    if isinstance(message, list):
        message = "; ".join(str(part) for part in message)
    return str(body.get("error") or ""), message


def marker_line(marker: str) -> str:
    """The line `create_page_once` appends to a page's body so the page can be found again."""
    return f"{MARKER_PREFIX}{marker}"


def marker_found(marker: str, content: str) -> bool:
    """`content` holds `marker`'s line, the whole marker (not a longer one that starts with it)."""
    pattern = re.escape(marker_line(marker)) + f"(?!{MARKER_CHARACTER})"
    return re.search(pattern, content) is not None


def with_marker(content: str, marker: str, format: str) -> str:  # noqa: A002 - Docmost's own field name
    """The body to create: `content` in `format`, then the marker as a paragraph of its own."""
    line = marker_line(marker)
    if format == "html":
        return f"{content}<p>{line}</p>"
    return f"{content.rstrip()}\n\n{line}\n" if content.strip() else f"{line}\n"


@dataclass(frozen=True)
class CursorPage:
    """One page of a cursor-paginated list: `items`, and `next_cursor` (None on the last page)."""

    items: list[dict]
    next_cursor: str | None


class DocmostClient:
    """Pages, spaces and shares of one Docmost workspace, as a bot account or with an API key."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        email: str | None = None,
        password: str | None = None,
        timeout: Timeout | None = None,
        retry: RetryPolicy | None = None,
        recorder: Recorder | None = None,
        session: requests.Session | None = None,
        login_store: LoginStore | None = None,
    ):
        if not api_key and not (email and password):
            raise AuthenticationFailed(
                "Docmost needs an API key or a bot account (email and password variable) on its connection",
                service=SERVICE,
            )
        self.transport = Transport(
            service=SERVICE, base_url=base_url, parse_error=parse_error, timeout=timeout, retry=retry,
            recorder=recorder, session=session, retry_after_headers=("Retry-After-Auth", "Retry-After"),
        )
        self.login_store = login_store or PROCESS_LOGINS
        self._api_key = api_key or ""
        self._bot = BotLogin(self.transport, email=email or "", password=password or "", store=self.login_store)

    @classmethod
    def from_connection(cls, connection, **options) -> "DocmostClient":
        """A client for a `sync.models.DocmostConnection` row: its API key when the variable it names is
        set, else its bot account, whose session is shared by the host's processes through the database."""
        options.setdefault("timeout", conf.http_timeout_seconds())
        api_key = connection.api_key()
        if api_key:
            return cls(connection.api_url, api_key=api_key, **options)
        options.setdefault("login_store", DatabaseLoginStore())
        return cls(connection.api_url, email=connection.bot_email, password=connection.bot_password(), **options)

    def __repr__(self):
        return f"DocmostClient({self.transport.base_url!r})"

    # Pages -----------------------------------------------------------------------------------------

    def create_page(
        self,
        *,
        space_id: str,
        title: str,
        icon: str | None = None,
        parent_page_id: str | None = None,
        content: str | None = None,
        format: str = "markdown",  # noqa: A002 - Docmost's own field name
    ) -> dict:
        """Create a page (content as markdown by default); returns the page without its content.

        A timeout or 5xx is raised, not retried: the page may exist. Prefer `create_page_once`.
        """
        body = _compact({"spaceId": space_id, "title": title, "icon": icon, "parentPageId": parent_page_id})
        if content is not None:
            body.update(content=content, format=_content_format(format))
        return self.call("/api/pages/create", body)

    def create_page_once(
        self,
        *,
        space_id: str,
        title: str,
        marker: str,
        icon: str | None = None,
        parent_page_id: str | None = None,
        content: str = "",
        format: str = "markdown",  # noqa: A002 - Docmost's own field name
        lookback: int = 200,
        settle: float = 1.0,
        since: datetime | None = None,
        never_sent: bool = False,
    ) -> tuple[dict, bool]:
        """The page carrying `marker`, created only when no such page exists yet: (page, created).

        `content` is in `format` (html keeps tables intact: Docmost's markdown import and export of a
        table are not each other's inverse); the marker line ends it as a paragraph of its own. Before
        creating, the pages of the space with this title (and parent) are checked for it: every page
        changed since `since` (when an earlier create of this page was attempted at that time), else the
        newest `lookback`. When the create itself fails in a way that may have reached Docmost (timeout,
        5xx, dropped connection), the page is looked for again after `settle` seconds; if it is still not
        there the error is raised, so the caller's next attempt looks again instead of creating blindly.
        `never_sent`: the caller knows no create of this page was ever sent (it records each one before
        sending), so the first search is skipped.
        """
        if not MARKER_PATTERN.match(marker):
            raise InvalidRequest(
                f"marker {marker!r} must be letters, digits, '.', ':', '/' or '-' (it must survive markdown)",
                service=SERVICE,
            )
        found = None if never_sent else self.find_page_by_marker(
            space_id=space_id, title=title, marker=marker, parent_page_id=parent_page_id, lookback=lookback,
            since=since,
        )
        if found:
            return found, False
        body = with_marker(content, marker, _content_format(format))
        try:
            page = self.create_page(space_id=space_id, title=title, icon=icon, parent_page_id=parent_page_id,
                                    content=body, format=format)
        except RetryableError as error:
            if not error.request_sent:
                raise
            self.transport.sleep(settle)
            found = self.find_page_by_marker(space_id=space_id, title=title, marker=marker,
                                             parent_page_id=parent_page_id, lookback=lookback, since=since)
            if found:
                return found, False
            raise
        return page, True

    def find_page_by_marker(
        self, *, space_id: str, title: str, marker: str, parent_page_id: str | None = None, lookback: int = 200,
        since: datetime | None = None,
    ) -> dict | None:
        """A page of the space titled `title` whose content holds `marker`'s line (the whole marker:
        `baserow/601/1` is not found in a page marked `baserow/601/12`), among the pages changed since
        `since` (following the cursor as far back as that, whatever their number), or without it among the
        newest `lookback` pages; None when there is none."""
        oldest = since - CLOCK_SKEW_MARGIN if since is not None else None
        for candidate in self.iter_recent_pages(space_id=space_id, max_items=None if since else lookback):
            if oldest is not None and _older_than(candidate, oldest):
                return None
            if candidate.get("title") != title:
                continue
            if parent_page_id is not None and candidate.get("parentPageId") != parent_page_id:
                continue
            try:
                page = self.page_info(candidate["id"], format="markdown")
            except NotFound:
                continue
            if marker_found(marker, str(page.get("content") or "")):
                return page
        return None

    def update_page(
        self,
        page_id: str,
        *,
        title: str | None = _UNSET,
        icon: str | None = _UNSET,
        content: str | None = None,
        operation: str | None = None,
        format: str = "markdown",  # noqa: A002 - Docmost's own field name
    ) -> dict:
        """Change title and/or icon (None clears them) and/or the body (`operation`: replace, append or
        prepend, required with `content`). Retried on timeouts unless it appends or prepends."""
        body: dict[str, Any] = {"pageId": page_id}
        if title is not _UNSET:
            body["title"] = title
        if icon is not _UNSET:
            body["icon"] = icon
        if content is not None:
            if operation not in OPERATIONS:
                raise InvalidRequest(
                    f"a body update needs operation one of {', '.join(sorted(OPERATIONS))}, not {operation!r}",
                    service=SERVICE, path="/api/pages/update",
                )
            body.update(content=content, operation=operation, format=_content_format(format))
        elif operation is not None:
            raise InvalidRequest("operation is only sent with content", service=SERVICE, path="/api/pages/update")
        if len(body) == 1:
            raise InvalidRequest("update_page needs a title, an icon or content", service=SERVICE)
        return self.call("/api/pages/update", body, idempotent=operation in (None, "replace"))

    def page_info(self, page_id: str, *, format: str | None = None) -> dict:  # noqa: A002
        """The page with its content (ProseMirror JSON, or a string in `format` markdown/html)."""
        return self.call("/api/pages/info", _compact({"pageId": page_id, "format": format and _content_format(format)}))

    def trash_page(self, page_id: str) -> None:
        """Soft-delete: the page goes to the space's trash, from which `restore_page` brings it back.
        The bridge never deletes permanently, so the client does not offer it."""
        self.call("/api/pages/delete", {"pageId": page_id})

    def restore_page(self, page_id: str) -> dict | None:
        """Bring a page back from the trash."""
        return self.call("/api/pages/restore", {"pageId": page_id})

    def recent_pages(
        self, *, space_id: str | None = None, limit: int = PAGE_LIMIT, cursor: str | None = None
    ) -> CursorPage:
        """One page of the space's pages, most recently updated first (deleted pages excluded)."""
        return self._cursor_page("/api/pages/recent", {"spaceId": space_id}, limit, cursor)

    def iter_recent_pages(self, *, space_id: str | None = None, max_items: int | None = None) -> Iterator[dict]:
        """Every page, most recently updated first, following cursors (stop early with `max_items`)."""
        return self._iterate("/api/pages/recent", {"spaceId": space_id}, max_items)

    def trash(self, *, space_id: str, limit: int = PAGE_LIMIT, cursor: str | None = None) -> CursorPage:
        """One page of the space's trashed pages."""
        return self._cursor_page("/api/pages/trash", {"spaceId": space_id}, limit, cursor)

    def iter_trash(self, *, space_id: str, max_items: int | None = None) -> Iterator[dict]:
        return self._iterate("/api/pages/trash", {"spaceId": space_id}, max_items)

    # Spaces and shares -----------------------------------------------------------------------------

    def space_info(self, space_id_or_slug: str) -> dict:
        """A space by UUID or slug; NotFound when there is none."""
        return self.call("/api/spaces/info", {"spaceId": space_id_or_slug})

    def space_by_slug(self, slug: str) -> dict:
        """The space whose slug is `slug` (looked up in the list when `spaces/info` does not know it)."""
        try:
            return self.space_info(slug)
        except NotFound:
            pass
        for space in self._iterate("/api/spaces", {}, None):
            if space.get("slug") == slug:
                return space
        raise NotFound(f"Docmost has no space with slug {slug!r}", service=SERVICE, path="/api/spaces", status=404)

    def iter_spaces(self) -> Iterator[dict]:
        return self._iterate("/api/spaces", {}, None)

    def shares(self, *, limit: int = PAGE_LIMIT, cursor: str | None = None) -> CursorPage:
        """One page of public shares (each with `page` and `space`), most recently updated first."""
        return self._cursor_page("/api/shares", {}, limit, cursor)

    def iter_shares(self, *, max_items: int | None = None) -> Iterator[dict]:
        return self._iterate("/api/shares", {}, max_items)

    def share_for_page(self, page_id: str) -> dict | None:
        """The page's public share, or None."""
        return self.call("/api/shares/for-page", {"pageId": page_id}) or None

    # Plumbing --------------------------------------------------------------------------------------

    def call(
        self, endpoint: str, body: dict[str, Any], *, idempotent: bool | None = None, retry: RetryPolicy | None = None,
    ) -> Any:
        """POST `body` to `endpoint` after checking its keys; returns the unwrapped `data` (or None).

        InvalidRequest (nothing sent) for an endpoint this client does not know or a key it does not
        take; the errors of `sync.clients.errors` otherwise.
        """
        if endpoint not in ENDPOINTS or endpoint == "/api/auth/login":
            raise InvalidRequest(f"{endpoint} is not an endpoint this client calls", service=SERVICE, path=endpoint)
        allowed, required = ENDPOINTS[endpoint]
        check_fields(endpoint, body, allowed=allowed, required=required, service=SERVICE)
        if idempotent is None:
            idempotent = endpoint not in NOT_IDEMPOTENT
        token = self._api_key or self._bot.token()
        try:
            envelope = self._post(endpoint, body, token, idempotent, retry)
        except AuthenticationFailed as error:
            if error.status != 401 or self._api_key:
                raise
            envelope = self._post(endpoint, body, self._bot.token(stale=token), idempotent, retry)
        return envelope.get("data") if isinstance(envelope, dict) else None

    def _post(self, endpoint: str, body: dict, token: str, idempotent: bool, retry: RetryPolicy | None) -> Any:
        return self.transport.request_json(
            "POST", endpoint, json_body=body, idempotent=idempotent, headers={"Authorization": f"Bearer {token}"},
            retry=retry,
        )

    def _cursor_page(self, endpoint: str, filters: dict, limit: int, cursor: str | None) -> CursorPage:
        if not 1 <= limit <= PAGE_LIMIT:
            raise InvalidRequest(f"limit must be 1..{PAGE_LIMIT}, not {limit}", service=SERVICE, path=endpoint)
        body = _compact({**filters, "limit": limit, "cursor": cursor})
        if cursor is None:
            data = self.call(endpoint, body) or {}
        else:
            data = self._call_with_cursor(endpoint, body, filters) or {}
        meta = data.get("meta") or {}
        next_cursor = meta.get("nextCursor") if meta.get("hasNextPage") else None
        return CursorPage(items=list(data.get("items") or []), next_cursor=next_cursor or None)

    def _call_with_cursor(self, endpoint: str, body: dict, filters: dict) -> Any:
        """Docmost answers a cursor it cannot read with a 500 (contracts/REAL-PEERS.md point 4): a 500 is
        not retried with the same cursor; when the same list without it answers, the cursor is the cause
        and the error is permanent, else Docmost is down (retryable)."""
        try:
            return self.call(endpoint, body, retry=replace(self.transport.retry, retry_server_errors=False))
        except ServiceUnavailable as error:
            if error.status is None or error.status < 500:
                raise
            try:
                self.call(endpoint, {**filters, "limit": 1})
            except RetryableError:
                raise error from None
            raise PermanentError(
                f"Docmost cannot read the cursor {body['cursor'][:60]!r} of {endpoint} (answered {error.status});"
                " the list answers without it", service=SERVICE, method="POST", path=endpoint, status=error.status,
                code=error.code, detail=error.detail, body=error.body,
            ) from error

    def _iterate(self, endpoint: str, filters: dict, max_items: int | None) -> Iterator[dict]:
        cursor = None
        seen = 0
        while True:
            page = self._cursor_page(endpoint, filters, PAGE_LIMIT, cursor)
            for item in page.items:
                if max_items is not None and seen >= max_items:
                    return
                seen += 1
                yield item
            if not page.next_cursor or page.next_cursor == cursor:
                return
            cursor = page.next_cursor

def _older_than(page: dict, moment: datetime) -> bool:
    """The page was last changed before `moment` (False when Docmost gave no readable `updatedAt`)."""
    try:
        return datetime.fromisoformat(str(page.get("updatedAt"))) < moment
    except ValueError:
        return False


def _compact(body: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in body.items() if value is not None}


def _content_format(value: str) -> str:
    if value not in CONTENT_FORMATS:
        raise InvalidRequest(f"format must be one of {', '.join(sorted(CONTENT_FORMATS))}, not {value!r}",
                             service=SERVICE)
    return value
