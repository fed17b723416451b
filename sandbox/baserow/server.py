"""The Baserow stand-in: HTTP routes of the REST API; the `/_sandbox/` control API is in control.py."""

import os
from typing import Any

from sandbox.baserow.auth import Authentication
from sandbox.baserow.control import DEFAULT_CONFIG, ControlRoutes
from sandbox.baserow.delivery import Dispatcher
from sandbox.baserow.demo import DemoData
from sandbox.baserow.errors import ApiError, field_error, rows_missing, validation_error
from sandbox.baserow.events import WebhookEvents
from sandbox.baserow.queries import RowQueries
from sandbox.baserow.store import RowStore, empty_state
from sandbox.httpbase import Request, Response, StandIn, parse_bool
from sandbox.tokens import jwt_decode, random_secret


class BaserowStandIn(RowStore, WebhookEvents, RowQueries, Authentication, DemoData, ControlRoutes, StandIn):
    product = "Baserow stand-in"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: str | None = None,
        demo: bool = False,
        webhook_url: str | None = None,
        webhook_headers: dict | None = None,
        **config,
    ):
        super().__init__(host=host, port=port)
        unknown = set(config) - set(DEFAULT_CONFIG)
        if unknown:
            raise TypeError(f"unknown Baserow stand-in settings: {sorted(unknown)}")
        self.config = {**DEFAULT_CONFIG, **config}
        self.state_file = state_file
        self.jwt_secret = random_secret()
        self.deliveries: list[dict] = []
        self.dispatcher = Dispatcher(self)
        self.state = empty_state()
        if state_file and os.path.exists(state_file):
            self._load(state_file)
        elif demo:
            self.seed_demo(webhook_url=webhook_url, webhook_headers=webhook_headers)
        self._routes()

    def stop(self) -> None:
        super().stop()
        self.dispatcher.stop()

    def _routes(self) -> None:
        api = self.router
        rows = "/api/database/rows/table/{table_id}/"
        api.add("POST", rows + "batch/", self._api_batch_create)
        api.add("PATCH", rows + "batch/", self._api_batch_update)
        api.add("POST", rows + "batch-delete/", self._api_batch_delete)
        api.add("GET", rows, self._api_list_rows)
        api.add("POST", rows, self._api_create_row)
        api.add("GET", rows + "{row_id}/", self._api_get_row)
        api.add("PATCH", rows + "{row_id}/", self._api_update_row)
        api.add("DELETE", rows + "{row_id}/", self._api_delete_row)
        api.add("PATCH", rows + "{row_id}/move/", self._api_move_row)
        api.add("GET", "/api/database/fields/table/{table_id}/", self._api_list_fields)
        api.add("POST", "/api/user/token-auth/", self._api_token_auth)
        api.add("POST", "/api/user/token-refresh/", self._api_token_refresh)
        api.add("GET", "/api/database/webhooks/table/{table_id}/", self._api_list_webhooks)
        api.add("POST", "/api/database/webhooks/table/{table_id}/", self._api_create_webhook)
        api.add("POST", "/api/database/webhooks/table/{table_id}/test-call/", self._api_test_call)
        api.add("GET", "/api/database/webhooks/{webhook_id}/", self._api_get_webhook)
        api.add("PATCH", "/api/database/webhooks/{webhook_id}/", self._api_update_webhook)
        api.add("DELETE", "/api/database/webhooks/{webhook_id}/", self._api_delete_webhook)
        api.add("PATCH", "/api/trash/restore/", self._api_trash_restore)

        control = self.control
        control.add("POST", "/_sandbox/reset", self._control_reset)
        control.add("POST", "/_sandbox/demo", self._control_demo)
        control.add("GET", "/_sandbox/state", self._control_state)
        control.add("GET", "/_sandbox/config", self._control_get_config)
        control.add("POST", "/_sandbox/config", self._control_set_config)
        control.add("GET", "/_sandbox/tables", self._control_list_tables)
        control.add("POST", "/_sandbox/tables", self._control_create_table)
        control.add("POST", "/_sandbox/tables/{table_id}/fields", self._control_create_field)
        control.add("GET", "/_sandbox/tables/{table_id}/rows", self._control_list_rows)
        control.add("POST", "/_sandbox/tables/{table_id}/rows", self._control_create_rows)
        control.add("POST", "/_sandbox/tables/{table_id}/rows/{row_id}/restore", self._control_restore)
        control.add("GET", "/_sandbox/trash", self._control_trash)
        control.add("GET", "/_sandbox/webhooks", self._control_list_webhooks)
        control.add("POST", "/_sandbox/webhooks", self._control_add_webhook)
        control.add("PATCH", "/_sandbox/webhooks/{webhook_id}", self._control_update_webhook)
        control.add("DELETE", "/_sandbox/webhooks/{webhook_id}", self._control_delete_webhook)
        control.add("GET", "/_sandbox/deliveries", self._control_deliveries)
        control.add("DELETE", "/_sandbox/deliveries", self._control_clear_deliveries)
        control.add("POST", "/_sandbox/deliveries/wait", self._control_wait)
        control.add("POST", "/_sandbox/tokens", self._control_add_token)

    def dispatch(self, request: Request) -> Response:
        try:
            return super().dispatch(request)
        except ApiError as error:
            return error.response()

    def bad_json(self, request: Request, error: ValueError) -> Response:
        if request.path.startswith("/_sandbox/"):
            return Response(400, {"error": str(error)})
        return Response(400, {"error": "ERROR_REQUEST_BODY_VALIDATION", "detail": f"JSON parse error - {error}"})

    def route_not_found(self, request: Request, allowed: list[str]) -> Response:
        if allowed:
            return Response(405, {"detail": f'Method "{request.method}" not allowed.'})
        return Response(404, {"error": "URL_NOT_FOUND", "detail": f"URL {request.path} not found."})

    def fault_body(self, status: int) -> Any:
        if status == 429:
            return {"detail": "Request was throttled. Expected available in 1 second."}
        if status >= 500:
            return {"error": "ERROR_SANDBOX_FAULT", "detail": f"Injected server error {status}."}
        return {"error": "ERROR_SANDBOX_FAULT", "detail": f"Injected error {status}."}

    @staticmethod
    def _int(value: str, what: str = "id") -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(404, "URL_NOT_FOUND", f"{what} {value!r} is not a number.") from None

    def _row_request(self, request: Request, operation: str) -> tuple[int, bool, bool]:
        table_id = self._int(request.params["table_id"], "table")
        self._authenticate(request, allow_token=True, operation=operation, table_id=table_id)
        with self.lock:
            self._require_table(table_id)
        names = parse_bool(request.arg("user_field_names"), default=False)
        send = parse_bool(request.arg("send_webhook_events"), default=True)
        return table_id, names, send

    def _api_list_rows(self, request: Request) -> Response:
        table_id, names, _ = self._row_request(request, "read")
        try:
            page = int(request.arg("page", "1") or 1)
            size = int(request.arg("size", "100") or 100)
        except ValueError:
            return Response(404, {"detail": "Invalid page."})
        if size > self.config["page_size_limit"]:
            raise ApiError(
                400, "ERROR_PAGE_SIZE_LIMIT", f"The page size is limited to {self.config['page_size_limit']}."
            )
        with self.lock:
            rows = self._filtered_rows(table_id, request, names)
            only = self._included_keys(table_id, request, names)
            count = len(rows)
            pages = max(1, -(-count // size)) if size > 0 else 1
            if page < 1 or page > pages or size < 1:
                return Response(404, {"detail": "Invalid page."})
            chosen = rows[(page - 1) * size : page * size]
            results = [self.serialize_row(table_id, row, names, only) for row in chosen]
        return Response(
            200,
            {
                "count": count,
                "next": self._page_url(request, page + 1) if page < pages else None,
                "previous": self._page_url(request, page - 1) if page > 1 else None,
                "results": results,
            },
        )

    def _api_get_row(self, request: Request) -> Response:
        table_id, names, _ = self._row_request(request, "read")
        row_id = self._int(request.params["row_id"], "row")
        with self.lock:
            row = self.state["rows"][table_id].get(row_id)
            if row is None:
                raise rows_missing([row_id])
            return Response(
                200, self.serialize_row(table_id, row, names, self._included_keys(table_id, request, names))
            )

    def _api_create_row(self, request: Request) -> Response:
        table_id, names, send = self._row_request(request, "create")
        before = request.arg("before")
        before_id = self._int(before, "row") if before else None
        created = self.rows_create(
            table_id=table_id,
            items=[request.json()],
            user_field_names=names,
            send_webhook_events=send,
            before_id=before_id,
        )
        return Response(200, created[0])

    def _api_update_row(self, request: Request) -> Response:
        table_id, names, send = self._row_request(request, "update")
        row_id = self._int(request.params["row_id"], "row")
        data = request.json()
        if not isinstance(data, dict):
            raise ApiError(
                400,
                "ERROR_REQUEST_BODY_VALIDATION",
                {"non_field_errors": field_error("Invalid data. Expected a dictionary.")},
            )
        data = {**data, "id": row_id}
        try:
            updated = self.rows_update(
                table_id=table_id, items=[data], user_field_names=names, send_webhook_events=send
            )
        except ApiError as error:
            if (
                error.code == "ERROR_REQUEST_BODY_VALIDATION"
                and isinstance(error.detail, dict)
                and "items" in error.detail
            ):
                raise validation_error(error.detail["items"].get("0", error.detail["items"])) from None
            raise
        return Response(200, updated[0])

    def _api_delete_row(self, request: Request) -> Response:
        table_id, _, send = self._row_request(request, "delete")
        self.rows_delete(
            table_id=table_id, row_ids=[self._int(request.params["row_id"], "row")], send_webhook_events=send
        )
        return Response(204)

    def _api_move_row(self, request: Request) -> Response:
        table_id, names, send = self._row_request(request, "update")
        before = request.arg("before_id")
        row = self.row_move(
            table_id=table_id,
            row_id=self._int(request.params["row_id"], "row"),
            before_id=self._int(before, "row") if before else None,
            user_field_names=names,
            send_webhook_events=send,
        )
        return Response(200, row)

    def _batch_items(self, request: Request) -> list:
        data = request.json()
        if not isinstance(data, dict) or "items" not in data:
            raise validation_error({"items": field_error("This field is required.", "required")})
        return self._check_batch(data["items"])

    def _api_batch_create(self, request: Request) -> Response:
        table_id, names, send = self._row_request(request, "create")
        items = self._batch_items(request)
        before = request.arg("before")
        try:
            created = self.rows_create(
                table_id=table_id,
                items=items,
                user_field_names=names,
                send_webhook_events=send,
                before_id=self._int(before, "row") if before else None,
            )
        except ApiError as error:
            if error.code == "ERROR_REQUEST_BODY_VALIDATION" and len(items) == 1:
                raise validation_error({"items": {"0": error.detail}}) from None
            if error.code == "ERROR_REQUEST_BODY_VALIDATION" and "items" not in error.detail:
                raise validation_error({"items": error.detail}) from None
            raise
        return Response(200, {"items": created})

    def _api_batch_update(self, request: Request) -> Response:
        table_id, names, send = self._row_request(request, "update")
        updated = self.rows_update(
            table_id=table_id, items=self._batch_items(request), user_field_names=names, send_webhook_events=send
        )
        return Response(200, {"items": updated})

    def _api_batch_delete(self, request: Request) -> Response:
        table_id, _, send = self._row_request(request, "delete")
        items = self._batch_items(request)
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in items):
            raise validation_error({"items": field_error("A valid integer is required.")})
        self.rows_delete(table_id=table_id, row_ids=items, send_webhook_events=send)
        return Response(204)

    def _api_list_fields(self, request: Request) -> Response:
        table_id = self._int(request.params["table_id"], "table")
        self._authenticate(request, allow_token=True, operation="read", table_id=table_id)
        with self.lock:
            self._require_table(table_id)
            return Response(200, [self.field_snapshot(f["id"]) for f in self._fields(table_id)])

    def _api_token_auth(self, request: Request) -> Response:
        data = request.json() or {}
        if not isinstance(data, dict):
            data = {}
        email = data.get("email") or data.get("username")
        errors = {}
        if not email:
            errors["email"] = field_error("This field is required.", "required")
        if not data.get("password"):
            errors["password"] = field_error("This field is required.", "required")
        if errors:
            raise validation_error(errors)
        with self.lock:
            user = self.state["users"].get(str(email).lower())
        if user is None or user["password"] != data["password"]:
            raise ApiError(401, "ERROR_INVALID_CREDENTIALS", "No active account found with the given credentials.")
        tokens = self._issue_tokens(user)
        return Response(
            200,
            {
                "user": self._public_user(user),
                "token": tokens["access"],
                "access_token": tokens["access"],
                "refresh_token": tokens["refresh"],
            },
        )

    def _api_token_refresh(self, request: Request) -> Response:
        data = request.json() or {}
        refresh = data.get("refresh_token") or data.get("token") if isinstance(data, dict) else None
        payload = jwt_decode(refresh or "", self.jwt_secret)
        user = self._user_by_id(payload.get("user_id")) if payload and payload.get("token_type") == "refresh" else None
        if user is None:
            raise ApiError(401, "ERROR_INVALID_REFRESH_TOKEN", "Refresh token is expired or invalid.")
        tokens = self._issue_tokens(user)
        return Response(
            200, {"user": self._public_user(user), "token": tokens["access"], "access_token": tokens["access"]}
        )

    def _webhook_request(self, request: Request) -> int:
        self._authenticate(request, allow_token=False)
        return self._int(request.params.get("table_id") or request.params.get("webhook_id"))

    def _api_list_webhooks(self, request: Request) -> Response:
        table_id = self._webhook_request(request)
        with self.lock:
            self._require_table(table_id)
            webhooks = sorted(
                (w for w in self.state["webhooks"].values() if w["table_id"] == table_id), key=lambda w: w["id"]
            )
            return Response(200, [self.public_webhook(w) for w in webhooks])

    def _api_create_webhook(self, request: Request) -> Response:
        table_id = self._webhook_request(request)
        data = request.json()
        if not isinstance(data, dict) or not data.get("url"):
            raise validation_error({"url": field_error("This field is required.", "required")})
        keys = {
            "url",
            "name",
            "headers",
            "use_user_field_names",
            "include_all_events",
            "events",
            "event_config",
            "request_method",
        }
        webhook = self.add_webhook(table_id=table_id, **{k: v for k, v in data.items() if k in keys})
        return Response(200, self.public_webhook(webhook))

    def _api_get_webhook(self, request: Request) -> Response:
        webhook = self.webhook_snapshot(self._webhook_request(request))
        if webhook is None:
            raise ApiError(404, "ERROR_TABLE_WEBHOOK_DOES_NOT_EXIST", "The requested webhook does not exist.")
        return Response(200, self.public_webhook(webhook))

    def _api_update_webhook(self, request: Request) -> Response:
        webhook_id = self._webhook_request(request)
        data = request.json()
        if not isinstance(data, dict):
            raise validation_error({"non_field_errors": field_error("Invalid data. Expected a dictionary.")})
        return Response(200, self.public_webhook(self.update_webhook(webhook_id, data)))

    def _api_delete_webhook(self, request: Request) -> Response:
        self.delete_webhook(self._webhook_request(request))
        return Response(204)

    def _api_test_call(self, request: Request) -> Response:
        table_id = self._webhook_request(request)
        data = request.json()
        return Response(200, self.test_call(table_id=table_id, data=data if isinstance(data, dict) else {}))

    def _api_trash_restore(self, request: Request) -> Response:
        self._authenticate(request, allow_token=False)
        data = request.json()
        if not isinstance(data, dict) or data.get("trash_item_type") != "row":
            raise validation_error({"trash_item_type": field_error("Only row restores are supported by the stand-in.")})
        try:
            table_id, row_id = int(data["parent_trash_item_id"]), int(data["trash_item_id"])
        except (KeyError, TypeError, ValueError):
            raise validation_error({"trash_item_id": field_error("A valid integer is required.")}) from None
        self.row_restore(table_id=table_id, row_id=row_id)
        return Response(204)
