"""The Baserow stand-in's `/_sandbox/` control API: reset, demo, state and settings, tables, fields and rows
made without the REST API, webhooks and their deliveries, tokens."""

import copy

from sandbox.baserow.demo import DEMO_DATABASE_ID
from sandbox.httpbase import Request, Response, parse_bool

DEFAULT_CONFIG = {
    "retry_base_delay": 1.0,  # Celery countdown 2**n s: 1, 2, 4 ... 128
    "max_retries": 8,  # BASEROW_WEBHOOKS_MAX_RETRIES_PER_CALL
    "max_consecutive_failures": 8,  # BASEROW_WEBHOOKS_MAX_CONSECUTIVE_TRIGGER_FAILURES
    "timeout": 5.0,  # BASEROW_WEBHOOKS_REQUEST_TIMEOUT_SECONDS
    "linked_batch_size": 200,  # BATCH_ROWS_SIZE_LIMIT, pages of the linked-table rows.updated
    "batch_limit": 5,  # BASEROW_WEBHOOKS_BATCH_LIMIT
    "max_webhooks_per_table": 20,  # BASEROW_WEBHOOKS_MAX_PER_TABLE
    "max_call_log_entries": 10,  # BASEROW_WEBHOOKS_MAX_CALL_LOG_ENTRIES
    "access_token_lifetime": 600,  # BASEROW_ACCESS_TOKEN_LIFETIME_MINUTES = 10
    "refresh_token_lifetime": 7 * 24 * 3600,
    "page_size_limit": 200,  # BASEROW_ROW_PAGE_SIZE_LIMIT
    "batch_rows_limit": 200,  # BATCH_ROWS_SIZE_LIMIT
}


class ControlRoutes:
    """Route handlers of BaserowStandIn for the control API, which tests and `make run` use."""

    def _control_reset(self, request: Request) -> Response:
        """Empty tables, rows, webhooks, logs and faults; {"demo": true, "webhook_url", "webhook_headers"} reseeds."""
        data = request.json() or {}
        self.reset()
        result = {"reset": True}
        if data.get("demo"):
            result["demo"] = self.seed_demo(
                webhook_url=data.get("webhook_url"), webhook_headers=data.get("webhook_headers")
            )
        return Response(200, result)

    def _control_demo(self, request: Request) -> Response:
        """Seed the demo dataset: {"webhook_url"?, "webhook_headers"?} adds one webhook per table."""
        data = request.json() or {}
        if DEMO_DATABASE_ID in self.state["databases"]:
            return Response(409, {"error": 'the demo is already seeded; POST /_sandbox/reset {"demo": true} reseeds'})
        return Response(
            200, self.seed_demo(webhook_url=data.get("webhook_url"), webhook_headers=data.get("webhook_headers"))
        )

    def _control_state(self, request: Request) -> Response:
        """Tables with fields, webhooks, tokens, users, settings, pending deliveries."""
        with self.lock:
            return Response(
                200,
                {
                    "tables": [self.table_snapshot(t) for t in sorted(self.state["tables"])],
                    "webhooks": [self.public_webhook(w) for w in self.state["webhooks"].values()],
                    "tokens": list(self.state["tokens"].values()),
                    "users": [self._public_user(u) for u in self.state["users"].values()],
                    "config": dict(self.config),
                    "pending_deliveries": self.dispatcher.pending(),
                },
            )

    def _control_get_config(self, request: Request) -> Response:
        """Current settings (retry_base_delay, max_retries, timeout, linked_batch_size, ...)."""
        return Response(200, dict(self.config))

    def _control_set_config(self, request: Request) -> Response:
        """Change settings, e.g. {"retry_base_delay": 0.01, "max_retries": 2, "timeout": 1}."""
        data = request.json() or {}
        unknown = set(data) - set(DEFAULT_CONFIG)
        if unknown:
            return Response(400, {"error": f"unknown settings {sorted(unknown)}; known: {sorted(DEFAULT_CONFIG)}"})
        with self.lock:
            self.config.update(data)
            return Response(200, dict(self.config))

    def _control_list_tables(self, request: Request) -> Response:
        """Tables with their fields."""
        with self.lock:
            return Response(200, {"tables": [self.table_snapshot(t) for t in sorted(self.state["tables"])]})

    def _control_create_table(self, request: Request) -> Response:
        """Create a table: {"name", "id"?, "database_id"?, "fields": [{"name", "type", ...}]}."""
        data = request.json() or {}
        try:
            table = self.create_table(
                name=str(data["name"]),
                table_id=int(data["id"]) if data.get("id") is not None else None,
                database_id=int(data["database_id"]) if data.get("database_id") is not None else None,
                fields=list(data.get("fields") or []) or None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            return Response(400, {"error": f"cannot create table: {error}"})
        return Response(201, table)

    def _control_create_field(self, request: Request) -> Response:
        """Add a field: {"name", "type", "link_row_table_id"?, "select_options"?, ...}."""
        data = request.json() or {}
        table_id = self._int(request.params["table_id"], "table")
        try:
            if "id" in data:
                data["field_id"] = data.pop("id")
            with self._all_or_nothing():
                field = self.create_field(table_id=table_id, **data)
        except (TypeError, ValueError, AttributeError) as error:
            return Response(400, {"error": f"cannot create field: {error}"})
        return Response(201, field)

    def _control_list_rows(self, request: Request) -> Response:
        """Live and trashed rows of a table (user field names)."""
        table_id = self._int(request.params["table_id"], "table")
        names = parse_bool(request.arg("user_field_names"), default=True)
        with self.lock:
            self._require_table(table_id)
            live = sorted(self.state["rows"][table_id].values(), key=self._row_sort_key)
            trashed = sorted(self.state["trash"][table_id].values(), key=self._row_sort_key)
            return Response(
                200,
                {
                    "rows": [self.serialize_row(table_id, row, names) for row in live],
                    "trashed": [self.serialize_row(table_id, row, names) for row in trashed],
                },
            )

    def _control_create_rows(self, request: Request) -> Response:
        """Insert rows: {"items": [...], "send_webhook_events": false, "user_field_names": true}."""
        data = request.json() or {}
        table_id = self._int(request.params["table_id"], "table")
        items = data.get("items")
        if not isinstance(items, list):
            return Response(400, {"error": 'give the rows as {"items": [...]}'})
        created = self.rows_create(
            table_id=table_id,
            items=items,
            user_field_names=parse_bool(data.get("user_field_names"), default=True),
            send_webhook_events=parse_bool(data.get("send_webhook_events"), default=False),
        )
        return Response(201, {"items": created})

    def _control_restore(self, request: Request) -> Response:
        """Restore a trashed row: fires rows.created with its old id."""
        row = self.row_restore(
            table_id=self._int(request.params["table_id"], "table"), row_id=self._int(request.params["row_id"], "row")
        )
        return Response(200, row)

    def _control_trash(self, request: Request) -> Response:
        """Every trashed row."""
        with self.lock:
            return Response(
                200,
                {
                    "trash": [
                        {"table_id": table_id, **self.serialize_row(table_id, row, True)}
                        for table_id, rows in sorted(self.state["trash"].items())
                        for row in rows.values()
                    ]
                },
            )

    def _control_list_webhooks(self, request: Request) -> Response:
        """Every webhook with its table, counters and call log."""
        with self.lock:
            webhooks = sorted(self.state["webhooks"].values(), key=lambda w: w["id"])
            return Response(
                200, {"webhooks": [{**self.public_webhook(w), "table_id": w["table_id"]} for w in webhooks]}
            )

    def _control_add_webhook(self, request: Request) -> Response:
        """Add a webhook: {"table_id", "url", "headers"?, "use_user_field_names"?, "events"?, ...}."""
        data = request.json() or {}
        try:
            if "id" in data:
                data["webhook_id"] = data.pop("id")
            webhook = self.add_webhook(**data)
        except TypeError as error:
            return Response(400, {"error": f"cannot add webhook: {error}"})
        return Response(201, {**self.public_webhook(webhook), "table_id": webhook["table_id"]})

    def _control_update_webhook(self, request: Request) -> Response:
        """Like the real PATCH, and `failed_triggers` can be set to stage a webhook close to deactivation."""
        webhook_id = self._int(request.params["webhook_id"])
        data = request.json() or {}
        webhook = self.update_webhook(webhook_id, data)
        if "failed_triggers" in data:
            with self.lock:
                self.state["webhooks"][webhook_id]["failed_triggers"] = int(data["failed_triggers"])
                webhook = self.webhook_snapshot(webhook_id)
        return Response(200, {**self.public_webhook(webhook), "table_id": webhook["table_id"]})

    def _control_delete_webhook(self, request: Request) -> Response:
        """Delete a webhook and drop its queue."""
        self.delete_webhook(self._int(request.params["webhook_id"]))
        return Response(204)

    def _control_deliveries(self, request: Request) -> Response:
        """Delivery attempts (?webhook_id=&event_type=&event_id=&table_id=) and the pending count."""
        filters = {
            key: request.arg(key) for key in ("webhook_id", "event_type", "event_id", "table_id") if request.arg(key)
        }
        with self.lock:
            found = [d for d in self.deliveries if all(str(d[key]) == value for key, value in filters.items())]
            return Response(200, {"deliveries": copy.deepcopy(found), "pending": self.dispatcher.pending()})

    def _control_clear_deliveries(self, request: Request) -> Response:
        """Forget the delivery log."""
        with self.lock:
            self.deliveries.clear()
        return Response(204)

    def _control_wait(self, request: Request) -> Response:
        """Wait until no delivery is queued, retrying or in flight: {"timeout": 5}; 504 if still busy."""
        data = request.json() or {}
        idle = self.dispatcher.wait_idle(float(data.get("timeout", 5)))
        return Response(200 if idle else 504, {"idle": idle, "pending": self.dispatcher.pending()})

    def _control_add_token(self, request: Request) -> Response:
        """Add a database token: {"key"?, "name"?, "permissions"?: {"create": true | [table ids], ...}}."""
        data = request.json() or {}
        return Response(
            201,
            self.add_token(key=data.get("key"), name=data.get("name", "sandbox"), permissions=data.get("permissions")),
        )
