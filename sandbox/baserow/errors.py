"""Baserow's mapped errors: `{"error": "<CODE>", "detail": ...}` with a status (contracts §3.3)."""

from typing import Any

from sandbox.httpbase import Response


class ApiError(Exception):
    """A mapped Baserow error: `{"error": code, "detail": detail}` with `status`."""

    def __init__(self, status: int, code: str | None, detail: Any, headers: list | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers or []

    def response(self) -> Response:
        body = {"error": self.code, "detail": self.detail} if self.code else {"detail": self.detail}
        return Response(self.status, body, self.headers)


def validation_error(detail: Any) -> ApiError:
    return ApiError(400, "ERROR_REQUEST_BODY_VALIDATION", detail)


def field_error(message: str, code: str = "invalid") -> list:
    return [{"error": message, "code": code}]


def rows_missing(row_ids) -> ApiError:
    return ApiError(404, "ERROR_ROW_DOES_NOT_EXIST", f"The rows {sorted(row_ids)} do not exist.")
