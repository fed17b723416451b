"""Which webhooks an action fires and their payloads (contracts §1); delivery is in `delivery.py`."""

import copy
import json
import re
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sandbox.baserow.delivery import REQUESTS_DEFAULT_HEADERS, send_http
from sandbox.baserow.errors import ApiError, field_error, validation_error
from sandbox.baserow.store import format_order, now_iso
from sandbox.httpbase import parse_bool

ROW_EVENTS = ("rows.created", "rows.updated", "rows.deleted")
EVENT_TYPES = (
    *ROW_EVENTS,
    "field.created",
    "field.updated",
    "field.deleted",
    "view.created",
    "view.updated",
    "view.deleted",
)

REQUEST_METHODS = ("POST", "GET", "PUT", "PATCH", "DELETE")
HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class WebhookEvents:
    """Webhook records, payload building and the attempt log."""

    def add_webhook(
        self,
        *,
        table_id: int,
        url: str,
        name: str = "",
        headers: dict | None = None,
        use_user_field_names: bool = True,
        include_all_events: bool = True,
        events: list | None = None,
        event_config: list | None = None,
        request_method: str = "POST",
        active: bool = True,
        webhook_id: int | None = None,
    ) -> dict:
        with self.lock:
            self._require_table(table_id)
            if (
                len([w for w in self.state["webhooks"].values() if w["table_id"] == table_id])
                >= self.config["max_webhooks_per_table"]
            ):
                raise ApiError(
                    400,
                    "ERROR_TABLE_WEBHOOK_MAX_LIMIT_EXCEEDED",
                    "The maximum number of webhooks per table has been exceeded.",
                )
            self._check_events(events or [])
            self._check_webhook(url, headers or {}, request_method)
            webhook_id = webhook_id or self._next_id("webhook")
            if webhook_id >= self.state["next"]["webhook"]:
                self.state["next"]["webhook"] = webhook_id + 1
            stamp = now_iso()
            self.state["webhooks"][webhook_id] = {
                "id": webhook_id,
                "table_id": table_id,
                "url": url,
                "name": name or f"Webhook {webhook_id}",
                "headers": dict(headers or {}),
                "use_user_field_names": bool(use_user_field_names),
                "include_all_events": bool(include_all_events),
                "events": list(events or []),
                "event_config": self._event_config(events or [], event_config),
                "request_method": request_method.upper(),
                "active": bool(active),
                "failed_triggers": 0,
                "calls": [],
                "created_on": stamp,
                "updated_on": stamp,
            }
            self._save()
            return self.webhook_snapshot(webhook_id)

    @staticmethod
    def _check_events(events: list) -> None:
        bad = [e for e in events if e not in EVENT_TYPES]
        if bad:
            raise validation_error(
                {
                    "events": {
                        str(i): field_error(f'"{e}" is not a valid choice.', "invalid_choice")
                        for i, e in enumerate(bad)
                    }
                }
            )

    @staticmethod
    def _event_config(events: list, event_config: list | None) -> list:
        configured = {c["event_type"]: c for c in event_config or [] if isinstance(c, dict) and "event_type" in c}
        return [
            {
                "event_type": event,
                "fields": list(configured.get(event, {}).get("fields") or []),
                "views": list(configured.get(event, {}).get("views") or []),
            }
            for event in events
        ]

    @staticmethod
    def _check_webhook(url, headers, request_method) -> None:
        """The checks of the create/update serializers: URL, legal header syntax, known method."""
        errors = {}
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2000:
            errors["url"] = field_error("Enter a valid URL.")
        bad = [
            name
            for name, value in (headers.items() if isinstance(headers, dict) else [(None, None)])
            if not isinstance(name, str)
            or not HEADER_NAME.match(name)
            or not isinstance(value, str)
            or "\r" in value
            or "\n" in value
        ]
        if bad:
            errors["headers"] = field_error(f"Invalid HTTP headers: {bad}.")
        if str(request_method).upper() not in REQUEST_METHODS:
            errors["request_method"] = field_error(f'"{request_method}" is not a valid choice.', "invalid_choice")
        if errors:
            raise validation_error(errors)

    def update_webhook(self, webhook_id: int, changes: dict) -> dict:
        allowed = {
            "url",
            "name",
            "headers",
            "use_user_field_names",
            "include_all_events",
            "events",
            "event_config",
            "request_method",
            "active",
        }
        with self.lock:
            webhook = self.state["webhooks"].get(webhook_id)
            if webhook is None:
                raise ApiError(404, "ERROR_TABLE_WEBHOOK_DOES_NOT_EXIST", "The requested webhook does not exist.")
            changes = {key: value for key, value in changes.items() if key in allowed}
            self._check_webhook(
                changes.get("url", webhook["url"]),
                changes.get("headers", webhook["headers"]),
                changes.get("request_method", webhook["request_method"]),
            )
            if "events" in changes:
                self._check_events(changes["events"] or [])
            for key, value in changes.items():
                if key == "request_method":
                    value = str(value).upper()
                if key in ("active", "use_user_field_names", "include_all_events"):
                    value = bool(value)
                webhook[key] = value
            if "events" in changes or "event_config" in changes:
                webhook["event_config"] = self._event_config(
                    webhook["events"], changes.get("event_config", webhook["event_config"])
                )
            if changes.get("active"):
                # Re-enabling resets the failure counter (WebhookHandler.update_table_webhook).
                webhook["failed_triggers"] = 0
            webhook["updated_on"] = now_iso()
            self._save()
            return self.webhook_snapshot(webhook_id)

    def delete_webhook(self, webhook_id: int) -> None:
        with self.lock:
            if self.state["webhooks"].pop(webhook_id, None) is None:
                raise ApiError(404, "ERROR_TABLE_WEBHOOK_DOES_NOT_EXIST", "The requested webhook does not exist.")
            self._save()
        self.dispatcher.clear(webhook_id)

    def webhook_snapshot(self, webhook_id: int) -> dict | None:
        with self.lock:
            webhook = self.state["webhooks"].get(webhook_id)
            return copy.deepcopy(webhook) if webhook else None

    def _webhooks_for(self, table_id: int, event_type: str) -> list[dict]:
        return [
            w
            for w in sorted(self.state["webhooks"].values(), key=lambda w: w["id"])
            if w["table_id"] == table_id and w["active"] and (w["include_all_events"] or event_type in w["events"])
        ]

    def _envelope(self, webhook: dict | None, table_id: int, event_id: str, event_type: str) -> dict:
        database_id = self.state["tables"][table_id]["database_id"]
        return {
            "table_id": table_id,
            "database_id": database_id,
            "workspace_id": self.state["workspace_id"],
            "webhook_id": webhook["id"] if webhook else None,
            "event_id": event_id,
            "event_type": event_type,
        }

    def _emit_rows(
        self,
        table_id: int,
        event_type: str,
        rows: list[dict],
        *,
        old_rows: list[dict] | None = None,
        changed: dict[int, set],
        touched: dict[int, set] | None = None,
        changed_fields: set[int] | None = None,
    ) -> None:
        """Queue the calls of one action: the table's own webhooks, then the linked tables' `rows.updated`."""
        event_id = str(uuid.uuid4())
        for webhook in self._webhooks_for(table_id, event_type):
            if event_type == "rows.updated" and changed_fields is not None:
                config = next((c for c in webhook["event_config"] if c["event_type"] == "rows.updated"), None)
                if config and config["fields"] and not changed_fields & set(config["fields"]):
                    continue
            names = webhook["use_user_field_names"]
            payload = self._envelope(webhook, table_id, event_id, event_type)
            if event_type == "rows.deleted":
                payload["row_ids"] = [row["id"] for row in rows]
            else:
                payload["items"] = [self.serialize_row(table_id, row, names) for row in rows]
            if old_rows is not None:
                payload["old_items"] = [self.serialize_row(table_id, row, names) for row in old_rows]
            self._queue_call(webhook, event_id, event_type, payload)
        # Linked tables get `rows.updated` (fresh rows, `total_count`, no `old_items`), paginated; the
        # header keeps the triggering event type (contracts §9.1). A write that leaves the links alone
        # still sends an empty page to tables the row links to (§9.2).
        for linked_table in sorted(self._merge_targets(changed, touched or {})):
            if linked_table == table_id or linked_table not in self.state["tables"]:
                continue
            ids = sorted(i for i in changed.get(linked_table, set()) if i in self.state["rows"][linked_table])
            for webhook in self._webhooks_for(linked_table, "rows.updated"):
                self._queue_linked(webhook, linked_table, ids, event_id, event_type)

    def _queue_linked(self, webhook: dict, table_id: int, ids: list[int], event_id: str, trigger: str) -> None:
        names = webhook["use_user_field_names"]
        live = self.state["rows"][table_id]
        items = [self.serialize_row(table_id, live[i], names) for i in ids]
        size, limit = self.config["linked_batch_size"], self.config["batch_limit"]
        pages = [items[start : start + size] for start in range(0, len(items), size)] or [[]]
        for batch_id, page in enumerate(pages[:limit], start=1):
            payload = self._envelope(webhook, table_id, event_id, "rows.updated")
            if len(pages) > 1:
                payload.update(batch_id=batch_id, offset=(batch_id - 1) * size, batch_size=size)
            payload.update(total_count=len(items), items=page)
            self._queue_call(webhook, event_id, trigger, payload, batch_id=batch_id if len(pages) > 1 else None)

    def _queue_call(self, webhook: dict, event_id: str, header_event: str, payload: dict, batch_id=None) -> None:
        headers = {**REQUESTS_DEFAULT_HEADERS, **webhook["headers"]}
        headers.update(
            {"Content-type": "application/json", "X-Baserow-Event": header_event, "X-Baserow-Delivery": event_id}
        )
        call = {
            "webhook_id": webhook["id"],
            "event_id": event_id,
            "event_type": payload["event_type"],
            "batch_id": batch_id,
            "method": webhook["request_method"],
            "url": webhook["url"],
            "headers": headers,
            "payload": payload,
        }
        self.dispatcher.enqueue(webhook["id"], call)

    def record_webhook_attempt(self, webhook_id: int, call: dict, result: dict, *, ok: bool, started: float) -> bool:
        """Log one attempt, update `failed_triggers`; True when this failure switched the webhook off."""
        with self.lock:
            entry = {
                "id": len(self.deliveries) + 1,
                "webhook_id": webhook_id,
                "table_id": call["payload"]["table_id"],
                "event_id": call["event_id"],
                "event_type": call["event_type"],
                "batch_id": call["batch_id"],
                "attempt": call["attempt"],
                "method": call["method"],
                "url": call["url"],
                "headers": dict(call["headers"]),
                "payload": copy.deepcopy(call["payload"]),
                "status": result["status"],
                "response": result["response"],
                "error": result["error"],
                "ok": ok,
                "deactivated": False,
                "sent_at": datetime.fromtimestamp(started, UTC).isoformat().replace("+00:00", "Z"),
                "duration": round(time.time() - started, 3),
            }
            self.deliveries.append(entry)
            webhook = self.state["webhooks"].get(webhook_id)
            if webhook is None:
                return False
            self._log_webhook_call(webhook, entry)
            if ok:
                webhook["failed_triggers"] = 0
            elif webhook["failed_triggers"] >= self.config["max_consecutive_failures"]:
                webhook["active"] = False
                entry["deactivated"] = True
            else:
                webhook["failed_triggers"] += 1
            self._save()
            return entry["deactivated"]

    def _log_webhook_call(self, webhook: dict, entry: dict) -> None:
        """Baserow keeps one call per (event, batch): its last attempt; the newest 10 per webhook."""
        request_text = f"{entry['method']} {entry['url']}\n" + "\n".join(
            f"{k}: {v}" for k, v in entry["headers"].items()
        )
        request_text += "\n\n" + json.dumps(entry["payload"])
        call = {
            "id": self._next_id("call"),
            "event_id": entry["event_id"],
            "event_type": entry["event_type"],
            "called_time": entry["sent_at"],
            "called_url": entry["url"],
            "request": request_text,
            "response": entry["response"],
            "response_status": entry["status"],
            "error": entry["error"],
            "batch_id": entry["batch_id"],
        }
        calls = [
            c for c in webhook["calls"] if (c["event_id"], c["batch_id"]) != (entry["event_id"], entry["batch_id"])
        ]
        webhook["calls"] = [call, *calls][: self.config["max_call_log_entries"]]

    def public_webhook(self, webhook: dict) -> dict:
        calls = [{k: v for k, v in call.items() if k != "batch_id"} for call in webhook["calls"]]
        keys = (
            "id",
            "events",
            "event_config",
            "headers",
            "created_on",
            "updated_on",
            "use_user_field_names",
            "url",
            "request_method",
            "name",
            "include_all_events",
            "failed_triggers",
            "active",
        )
        result = {key: copy.deepcopy(webhook[key]) for key in keys}
        result["calls"] = calls
        return result

    def test_call(self, *, table_id: int, data: dict) -> dict:
        """The synchronous test call: a dummy row with id 0, `webhook_id` null, not logged, not retried."""
        with self.lock:
            self._require_table(table_id)
            errors = {}
            if not isinstance(data.get("url"), str) or not data["url"]:
                errors["url"] = field_error("This field is required.", "required")
            if data.get("event_type") not in EVENT_TYPES:
                errors["event_type"] = field_error(
                    f'"{data.get("event_type")}" is not a valid choice.', "invalid_choice"
                )
            if errors:
                raise validation_error(errors)
            event_type = data["event_type"]
            event_id = str(uuid.uuid4())
            names = parse_bool(data.get("use_user_field_names"), default=True)
            dummy = {
                "id": 0,
                "order": format_order(Decimal(0)),
                "values": {f["id"]: self._empty_value(f) for f in self._fields(table_id)},
            }
            payload = self._envelope(None, table_id, event_id, event_type)
            if event_type == "rows.deleted":
                payload["row_ids"] = [0]
            elif event_type.startswith("rows."):
                payload["items"] = [self.serialize_row(table_id, dummy, names)]
                if event_type == "rows.updated":
                    payload["old_items"] = [self.serialize_row(table_id, dummy, names)]
            elif event_type.endswith(".deleted"):
                payload[event_type.split(".")[0] + "_id"] = 0
            else:
                payload[event_type.split(".")[0]] = {"id": 0, "table_id": table_id}
        headers = {**REQUESTS_DEFAULT_HEADERS, **(data.get("headers") or {})}
        headers.update(
            {"Content-type": "application/json", "X-Baserow-Event": event_type, "X-Baserow-Delivery": event_id}
        )
        body = json.dumps(payload)
        method = str(data.get("request_method") or "POST").upper()
        result = send_http(
            method=method, url=data["url"], headers=headers, body=body.encode(), timeout=self.config["timeout"]
        )
        request_text = f"{method} {data['url']}\n" + "\n".join(f"{k}: {v}" for k, v in headers.items()) + "\n\n" + body
        reached = result["status"] is not None
        response_text = ""
        if reached:
            response_text = f"{result['status']}\n" + "\n".join(
                f"{k}: {v}" for k, v in result["response_headers"].items()
            )
            response_text += "\n\n" + result["response"]
        return {
            "request": request_text,
            "response": response_text,
            "status_code": result["status"],
            "is_unreachable": not reached,
        }

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        return self.dispatcher.wait_idle(timeout)

    def delivery_log(self, **filters) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(d) for d in self.deliveries if all(d.get(k) == v for k, v in filters.items())]
