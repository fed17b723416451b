"""NestJS conventions of the Docmost API: errors, `{data, success, status}`, class-validator, cursor pages."""

import base64
import json
import re
from typing import Any

from sandbox.httpbase import Response

STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class NestError(Exception):
    """A NestJS HttpException: `{"message", "error", "statusCode"}`; raised without a message (as the JWT
    guard's 401 or a bare `ForbiddenException()`) it is `{"message": <status text>, "statusCode"}`."""

    def __init__(self, status: int, message: Any = None, *, error: bool = True, headers: list | None = None):
        super().__init__(message)
        self.status = status
        self.message = message if message is not None else STATUS_TEXT.get(status, "Error")
        self.with_error = error and message is not None
        self.headers = headers or []

    def response(self) -> Response:
        body: dict[str, Any] = {"message": self.message}
        if self.with_error:
            body["error"] = STATUS_TEXT.get(self.status, "Error")
        body["statusCode"] = self.status
        return Response(self.status, body, self.headers)


def unauthorized(message: str | None = None) -> NestError:
    return NestError(401, message)


def envelope(data: Any = None) -> Response:
    body = {"data": data, "success": True, "status": 200} if data is not None else {"success": True, "status": 200}
    return Response(200, body)


class Validator:
    """class-validator with `whitelist` and `stopAtFirstError`: declared keys only, one message per property."""

    def __init__(self, body: Any):
        self.body = body if isinstance(body, dict) else {}
        self.data: dict[str, Any] = {}
        self.errors: list[str] = []

    def _present(self, name: str) -> bool:
        return self.body.get(name) is not None

    def string(
        self, name: str, *, required: bool = False, uuid_only: bool = False, choices=None, email=False, min_length=0,
        if_missing: str = "should not be empty",
    ):
        """`if_missing`: the DTO's message for an absent field (`@IsNotEmpty` or, alone, `@IsString`)."""
        if not self._present(name):
            if required:
                self.errors.append(f"{name} {if_missing}")
            return self
        value = self.body[name]
        if uuid_only and (not isinstance(value, str) or not UUID_RE.match(value)):
            self.errors.append(f"{name} must be a UUID")
        elif not isinstance(value, str):
            self.errors.append(f"{name} must be a string")
        elif required and not value:
            self.errors.append(f"{name} should not be empty")
        elif choices and value not in choices:
            self.errors.append(f"{name} must be one of the following values: {', '.join(choices)}")
        elif email and not EMAIL_RE.match(value):
            self.errors.append(f"{name} must be an email")
        elif min_length and len(value) < min_length:
            self.errors.append(f"{name} must be longer than or equal to {min_length} characters")
        else:
            self.data[name] = value
        return self

    def boolean(self, name: str):
        if self._present(name):
            if isinstance(self.body[name], bool):
                self.data[name] = self.body[name]
            else:
                self.errors.append(f"{name} must be a boolean value")
        return self

    def any(self, name: str):
        if name in self.body:
            self.data[name] = self.body[name]
        return self

    def pagination(self):
        if self._present("limit"):
            limit = self.body["limit"]
            if not isinstance(limit, int) or isinstance(limit, bool):
                self.errors.append("limit must be an integer number")
            elif limit < 1:
                self.errors.append("limit must not be less than 1")
            elif limit > 100:
                self.errors.append("limit must not be greater than 100")
            else:
                self.data["limit"] = limit
        for name in ("cursor", "beforeCursor", "query"):
            self.string(name)
        return self

    def result(self) -> dict:
        if self.errors:
            raise NestError(400, self.errors)
        return self.data


def paginate(items: list, options: dict, *, key=None, descending: bool = False) -> dict:
    """Docmost's cursor page: `{items, meta: {limit, hasNextPage, hasPrevPage, nextCursor, prevCursor}}`.

    Keyset cursors, as Docmost 0.95's (contracts/REAL-PEERS.md point 5): `items` come sorted by `key`
    (descending or not) and a cursor holds the key of the item it stops at, so pages inserted meanwhile
    neither shift nor repeat what follows. A cursor that is not one of ours is a 500, as there.
    """
    limit = options.get("limit", 20)
    key = key or (lambda item: (item.get("id") or "",))

    def decode(cursor: str) -> tuple:
        try:
            return tuple(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["key"])
        except (ValueError, KeyError, TypeError):
            raise NestError(500, "Internal server error", error=False) from None

    def encode(item) -> str:
        return base64.urlsafe_b64encode(json.dumps({"key": list(key(item))}).encode()).decode().rstrip("=")

    def after(item, mark: tuple) -> bool:
        return tuple(key(item)) < mark if descending else tuple(key(item)) > mark

    if options.get("cursor"):
        mark = decode(options["cursor"])
        start = next((index for index, item in enumerate(items) if after(item, mark)), len(items))
    elif options.get("beforeCursor"):
        mark = decode(options["beforeCursor"])
        stop = next((index for index, item in enumerate(items) if not after(item, mark) and tuple(key(item)) != mark),
                    len(items))
        start = max(0, stop - limit)
    else:
        start = 0
    page = items[start : start + limit]
    has_next = start + limit < len(items)
    has_prev = start > 0
    return {
        "items": page,
        "meta": {
            "limit": limit,
            "hasNextPage": has_next,
            "hasPrevPage": has_prev,
            "nextCursor": encode(page[-1]) if has_next and page else None,
            "prevCursor": encode(page[0]) if has_prev and page else None,
        },
    }
