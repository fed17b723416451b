"""A local stand-in for Baserow 1.35.3: the row REST API, JWT login, webhook management and webhook delivery.

Behaviour follows /work/shared/contracts/README.md (sections 1 to 3 and 9), field for field for what
formation-hub uses. Run `python -m sandbox.baserow --port 8010 --demo` or start `BaserowStandIn` in-process.
The control API under `/_sandbox/` is not part of Baserow.
"""

import argparse
import copy
import json
import os
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from sandbox.httpbase import Request, Response, StandIn, parse_bool, serve_forever
from sandbox.tokens import jwt_decode, jwt_encode, random_secret
from sandbox.webhooks import REQUESTS_DEFAULT_HEADERS, Dispatcher, send_http

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
FIELD_TYPES = (
    "text",
    "long_text",
    "email",
    "url",
    "phone_number",
    "number",
    "boolean",
    "date",
    "single_select",
    "link_row",
)
TEXT_TYPES = ("text", "long_text", "email", "url", "phone_number")
FILTER_TYPES = (
    "equal",
    "not_equal",
    "contains",
    "contains_not",
    "empty",
    "not_empty",
    "higher_than",
    "lower_than",
    "boolean",
    "link_row_has",
    "link_row_has_not",
    "single_select_equal",
    "single_select_not_equal",
    "date_equal",
)
ORDER_PLACES = Decimal("0.00000000000000000000")

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

DEMO_DATABASE_ID = 60
DEMO_TOKEN = "demo-baserow-token"
DEMO_ADMIN_EMAIL = "admin@formation-hub.local"
DEMO_ADMIN_PASSWORD = "demo-baserow-admin"
DEMO_TABLE_IDS = {
    "projet": 601,
    "formation": 602,
    "bloc": 603,
    "intervention": 604,
    "attribution": 605,
    "personne": 606,
    "client": 607,
    "comptes_rendus": 608,
}


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


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def format_order(value: Decimal) -> str:
    return str(value.quantize(ORDER_PLACES))


def empty_state() -> dict:
    return {
        "workspace_id": 1,
        "databases": {},
        "tables": {},
        "fields": {},
        "rows": {},
        "trash": {},
        "webhooks": {},
        "tokens": {},
        "users": {},
        "next": {"table": 700, "field": 7000, "webhook": 1, "option": 1, "call": 1, "user": 1, "row": {}},
    }


class BaserowStandIn(StandIn):
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

    # Persistence -----------------------------------------------------------------------------------

    def _load(self, path: str) -> None:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)

        def by_int(items):
            return {int(key): value for key, value in items.items()}

        state = empty_state()
        state["workspace_id"] = raw["workspace_id"]
        for key in ("databases", "tables", "fields", "webhooks"):
            state[key] = by_int(raw[key])
        for key in ("rows", "trash"):
            state[key] = {int(table): by_int(rows) for table, rows in raw[key].items()}
            for rows in state[key].values():
                for row in rows.values():
                    row["values"] = by_int(row["values"])
        state["tokens"], state["users"] = raw["tokens"], raw["users"]
        self.jwt_secret = raw.get("jwt_secret", self.jwt_secret)
        state["next"] = raw["next"]
        state["next"]["row"] = by_int(raw["next"]["row"])
        self.state = state

    def _save(self) -> None:
        if not self.state_file:
            return
        temporary = f"{self.state_file}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({**self.state, "jwt_secret": self.jwt_secret}, handle)
        os.replace(temporary, self.state_file)

    # Schema ----------------------------------------------------------------------------------------

    def _next_id(self, kind: str) -> int:
        value = self.state["next"][kind]
        self.state["next"][kind] = value + 1
        return value

    def reset(self) -> None:
        self.dispatcher.clear()
        with self.lock:
            self.state = empty_state()
            self.deliveries.clear()
            self.calls.clear()
            self.faults.clear()
            self._save()

    def create_database(self, *, name: str, database_id: int | None = None) -> dict:
        with self.lock:
            database_id = database_id or (max(self.state["databases"], default=0) + 1)
            database = {"id": database_id, "name": name, "workspace_id": self.state["workspace_id"]}
            self.state["databases"][database_id] = database
            self._save()
            return dict(database)

    def create_table(
        self, *, name: str, table_id: int | None = None, database_id: int | None = None, fields: list | None = None
    ) -> dict:
        """A table with a primary text field "nom" unless `fields` says otherwise (the first field is primary)."""
        with self.lock:
            if database_id is None:
                database_id = next(iter(self.state["databases"]), None) or self.create_database(name="sandbox")["id"]
            if database_id not in self.state["databases"]:
                self.create_database(name=f"database {database_id}", database_id=database_id)
            if table_id is None:
                table_id = self._next_id("table")
            if table_id in self.state["tables"]:
                raise ValueError(f"table {table_id} already exists")
            order = len([t for t in self.state["tables"].values() if t["database_id"] == database_id]) + 1
            self.state["tables"][table_id] = {"id": table_id, "name": name, "database_id": database_id, "order": order}
            self.state["rows"][table_id] = {}
            self.state["trash"][table_id] = {}
            self.state["next"]["row"][table_id] = 1
            specs = fields or [{"name": "nom", "type": "text"}]
            for index, spec in enumerate(specs):
                self.create_field(table_id=table_id, **{"primary": index == 0, **spec})
            self._save()
            return self.table_snapshot(table_id)

    def create_field(
        self,
        *,
        table_id: int,
        name: str,
        type: str = "text",  # noqa: A002 - Baserow's own key
        primary: bool = False,
        field_id: int | None = None,
        link_row_table_id: int | None = None,
        link_row_table: str | None = None,
        has_related_field: bool = True,
        related_field_name: str | None = None,
        related_field_id: int | None = None,
        select_options: list | None = None,
        number_decimal_places: int = 0,
        number_negative: bool = False,
        date_include_time: bool = False,
    ) -> dict:
        with self.lock:
            if table_id not in self.state["tables"]:
                raise ValueError(f"table {table_id} does not exist")
            if type not in FIELD_TYPES:
                raise ValueError(f"field type {type!r} is not one of {FIELD_TYPES}")
            if any(f["name"] == name for f in self._fields(table_id)):
                raise ValueError(f"table {table_id} already has a field named {name!r}")
            field_id = field_id or self._next_id("field")
            field = {
                "id": field_id,
                "table_id": table_id,
                "name": name,
                "type": type,
                "primary": bool(primary),
                "order": len(self._fields(table_id)),
            }
            if type == "number":
                field.update(number_decimal_places=number_decimal_places, number_negative=number_negative)
            if type == "date":
                field["date_include_time"] = date_include_time
            if type == "single_select":
                field["select_options"] = [self._make_option(option) for option in select_options or []]
            if type == "link_row":
                if link_row_table is not None:
                    link_row_table_id = self._table_by_name(link_row_table)
                if link_row_table_id not in self.state["tables"]:
                    raise ValueError(f"link_row_table_id {link_row_table_id} does not exist")
                field["link_row_table_id"] = link_row_table_id
                field["link_row_related_field_id"] = None
            self.state["fields"][field_id] = field
            for row in self._all_rows(table_id):
                row["values"][field_id] = self._empty_value(field)
            if type == "link_row" and has_related_field and link_row_table_id != table_id:
                related_name = related_field_name or self.state["tables"][table_id]["name"]
                if any(f["name"] == related_name for f in self._fields(link_row_table_id)):
                    related_name = f"{related_name} - {name}"
                related = self.create_field(
                    table_id=link_row_table_id,
                    name=related_name,
                    type="link_row",
                    field_id=related_field_id,
                    link_row_table_id=table_id,
                    has_related_field=False,
                )
                field["link_row_related_field_id"] = related["id"]
                self.state["fields"][related["id"]]["link_row_related_field_id"] = field_id
            self._save()
            return self.field_snapshot(field_id)

    def _make_option(self, option) -> dict:
        if isinstance(option, str):
            option = {"value": option}
        return {
            "id": option.get("id") or self._next_id("option"),
            "value": option["value"],
            "color": option.get("color", "light-blue"),
        }

    def _table_by_name(self, name: str) -> int:
        for table in self.state["tables"].values():
            if table["name"] == name:
                return table["id"]
        raise ValueError(f"no table named {name!r}")

    def _fields(self, table_id: int) -> list[dict]:
        fields = [f for f in self.state["fields"].values() if f["table_id"] == table_id]
        return sorted(fields, key=lambda f: (not f["primary"], f["order"], f["id"]))

    def _primary(self, table_id: int) -> dict | None:
        return next((f for f in self._fields(table_id) if f["primary"]), None)

    def _all_rows(self, table_id: int):
        yield from self.state["rows"][table_id].values()
        yield from self.state["trash"][table_id].values()

    @staticmethod
    def _empty_value(field: dict):
        if field["type"] == "link_row":
            return []
        if field["type"] == "boolean":
            return False
        return None

    def field_snapshot(self, field_id: int) -> dict:
        field = dict(self.state["fields"][field_id])
        database_id = self.state["tables"][field["table_id"]]["database_id"]
        field.update(database_id=database_id, workspace_id=self.state["workspace_id"])
        return field

    def table_snapshot(self, table_id: int) -> dict:
        with self.lock:
            table = dict(self.state["tables"][table_id])
            table["fields"] = [self.field_snapshot(f["id"]) for f in self._fields(table_id)]
            return table

    # Cell values -----------------------------------------------------------------------------------

    def _key(self, field: dict, user_field_names: bool) -> str:
        return field["name"] if user_field_names else f"field_{field['id']}"

    def _live_links(self, field: dict, ids: list[int]) -> list[int]:
        live = self.state["rows"].get(field["link_row_table_id"], {})
        return [row_id for row_id in ids if row_id in live]

    def _primary_text(self, table_id: int, row: dict) -> str:
        primary = self._primary(table_id)
        if primary is None:
            return ""
        value = self._serialize_value(primary, row["values"].get(primary["id"]))
        if value is None:
            return ""
        if isinstance(value, dict):
            return str(value.get("value", ""))
        if isinstance(value, list):
            return ", ".join(str(item.get("value", "")) for item in value)
        return str(value)

    def _serialize_value(self, field: dict, raw):
        kind = field["type"]
        if kind == "link_row":
            table_id = field["link_row_table_id"]
            rows = self.state["rows"].get(table_id, {})
            linked = sorted((rows[i] for i in self._live_links(field, raw or [])), key=self._row_sort_key)
            return [{"id": r["id"], "value": self._primary_text(table_id, r), "order": r["order"]} for r in linked]
        if kind == "single_select":
            option = next((o for o in field["select_options"] if o["id"] == raw), None)
            return dict(option) if option else None
        if kind == "number":
            if raw is None:
                return None
            return str(Decimal(raw).quantize(Decimal(1).scaleb(-field["number_decimal_places"])))
        if kind == "boolean":
            return bool(raw)
        return raw

    @staticmethod
    def _row_sort_key(row: dict):
        return (Decimal(row["order"]), row["id"])

    def serialize_row(self, table_id: int, row: dict, user_field_names: bool, only: set | None = None) -> dict:
        result = {"id": row["id"], "order": row["order"]}
        for field in self._fields(table_id):
            key = self._key(field, user_field_names)
            if only is not None and key not in only:
                continue
            result[key] = self._serialize_value(field, row["values"].get(field["id"]))
        return result

    def _parse_value(self, field: dict, value):
        """The stored value for a request value; raises ValueError with Baserow's message."""
        kind = field["type"]
        if value is None:
            if kind in ("boolean", "link_row"):
                return self._empty_value(field)
            return None
        if kind in TEXT_TYPES:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise ValueError("Not a valid string.")
            value = str(value)
            if kind == "email" and value and ("@" not in value or " " in value):
                raise ValueError("Enter a valid email address.")
            return value
        if kind == "number":
            if isinstance(value, bool):
                raise ValueError("A valid number is required.")
            try:
                number = Decimal(str(value).strip())
            except InvalidOperation:
                raise ValueError("A valid number is required.") from None
            if not number.is_finite():
                raise ValueError("A valid number is required.")
            if number < 0 and not field["number_negative"]:
                raise ValueError("Ensure this value is greater than or equal to 0.")
            return str(number.quantize(Decimal(1).scaleb(-field["number_decimal_places"])))
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"true", "t", "1", "yes", "y", "on", "checked"}:
                return True
            if text in {"false", "f", "0", "no", "n", "off", ""}:
                return False
            raise ValueError("Must be a valid boolean.")
        if kind == "date":
            try:
                if field["date_include_time"]:
                    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
                    return parsed.astimezone(UTC).isoformat().replace("+00:00", "Z")
                return date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise ValueError("Date has wrong format. Use one of these formats instead: YYYY-MM-DD.") from None
        if kind == "single_select":
            for option in field["select_options"]:
                if value == option["id"] or str(value) == str(option["id"]) or value == option["value"]:
                    return option["id"]
            raise ValueError(f"Select option {value} does not exist.")
        if kind == "link_row":
            return self._parse_links(field, value)
        raise ValueError("Unsupported field type.")

    def _parse_links(self, field: dict, value) -> list[int]:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list):
            raise ValueError("Expected a list of row ids or primary field values.")
        target_table = field["link_row_table_id"]
        live = self.state["rows"][target_table]
        ids, missing_ids = [], []
        for item in value:
            if isinstance(item, dict):
                item = item.get("id")
            if isinstance(item, int) and not isinstance(item, bool):
                (ids if item in live else missing_ids).append(item)
                continue
            if isinstance(item, str):
                if item.isdigit() and int(item) in live:
                    ids.append(int(item))
                    continue
                match = next((r["id"] for r in live.values() if self._primary_text(target_table, r) == item), None)
                if match is None:
                    raise ValueError(f"The provided text value '{item}' does not match any row in the linked table.")
                ids.append(match)
                continue
            raise ValueError(f"The provided value {item!r} is not a row id or a primary field value.")
        if missing_ids:
            raise ValueError(f"The provided row ids {sorted(missing_ids)} do not exist.")
        return sorted(set(ids))

    def _parse_row(self, table_id: int, data, user_field_names: bool) -> dict[int, Any]:
        """{field_id: stored value} for the keys of a request row; unknown keys are ignored like DRF does."""
        if not isinstance(data, dict):
            raise ApiError(
                400,
                "ERROR_REQUEST_BODY_VALIDATION",
                {
                    "non_field_errors": field_error(
                        f"Invalid data. Expected a dictionary, but got {type(data).__name__}."
                    )
                },
            )
        values, errors = {}, {}
        for field in self._fields(table_id):
            key = self._key(field, user_field_names)
            if key not in data:
                continue
            try:
                values[field["id"]] = self._parse_value(field, data[key])
            except ValueError as error:
                errors[key] = field_error(str(error))
        if errors:
            raise validation_error(errors)
        return values

    # Row writes (shared by the REST API and the control API) -----------------------------------------

    def _new_order(self, table_id: int, before_id: int | None) -> Decimal:
        rows = sorted(self.state["rows"][table_id].values(), key=self._row_sort_key)
        if before_id is None:
            return (Decimal(rows[-1]["order"]).to_integral_value() + 1) if rows else Decimal(1)
        index = next(i for i, r in enumerate(rows) if r["id"] == before_id)
        upper = Decimal(rows[index]["order"])
        lower = Decimal(rows[index - 1]["order"]) if index > 0 else Decimal(0)
        return (lower + upper) / 2

    def _set_values(self, table_id: int, row: dict, values: dict[int, Any]) -> dict[int, set]:
        """Write values, mirror link changes on the related fields; {linked table: row ids whose links changed}."""
        changed: dict[int, set] = {}
        for field_id, value in values.items():
            field = self.state["fields"][field_id]
            old = row["values"].get(field_id)
            row["values"][field_id] = value
            if field["type"] != "link_row":
                continue
            added, removed = set(value) - set(old or []), set(old or []) - set(value)
            if added or removed:
                changed.setdefault(field["link_row_table_id"], set()).update(added | removed)
            related_id = field["link_row_related_field_id"]
            if related_id is None:
                continue
            other_rows = {
                **self.state["trash"][field["link_row_table_id"]],
                **self.state["rows"][field["link_row_table_id"]],
            }
            for other_id in added:
                other = other_rows[other_id]["values"]
                other[related_id] = sorted(set(other.get(related_id) or []) | {row["id"]})
            for other_id in removed:
                if other_id in other_rows:
                    other = other_rows[other_id]["values"]
                    other[related_id] = sorted(set(other.get(related_id) or []) - {row["id"]})
        return changed

    def _link_targets(self, table_id: int, rows: list[dict]) -> dict[int, set]:
        """{linked table: live row ids} the given rows link to."""
        targets: dict[int, set] = {}
        for field in self._fields(table_id):
            if field["type"] != "link_row":
                continue
            for row in rows:
                ids = self._live_links(field, row["values"].get(field["id"]) or [])
                if ids:
                    targets.setdefault(field["link_row_table_id"], set()).update(ids)
        return targets

    def _require_table(self, table_id: int) -> None:
        if table_id not in self.state["tables"]:
            raise ApiError(404, "ERROR_TABLE_DOES_NOT_EXIST", "The requested table does not exist.")

    def _check_batch(self, items) -> list:
        limit = self.config["batch_rows_limit"]
        if not isinstance(items, list) or not items:
            raise validation_error({"items": field_error("This list may not be empty.", "empty")})
        if len(items) > limit:
            raise validation_error(
                {"items": field_error(f"Ensure this field has no more than {limit} elements.", "max_length")}
            )
        return items

    def rows_create(
        self,
        *,
        table_id: int,
        items: list,
        user_field_names: bool,
        send_webhook_events: bool = True,
        before_id: int | None = None,
    ) -> list[dict]:
        with self.lock:
            self._require_table(table_id)
            if before_id is not None and before_id not in self.state["rows"][table_id]:
                raise rows_missing([before_id])
            parsed, errors = [], {}
            for index, item in enumerate(items):
                try:
                    parsed.append(self._parse_row(table_id, item, user_field_names))
                except ApiError as error:
                    errors[str(index)] = error.detail
            if errors:
                raise validation_error(errors if len(items) > 1 else errors["0"])
            created, changed = [], {}
            for values in parsed:
                row_id = self.state["next"]["row"][table_id]
                self.state["next"]["row"][table_id] = row_id + 1
                order = self._new_order(table_id, before_id)
                row = {
                    "id": row_id,
                    "order": format_order(order),
                    "values": {f["id"]: self._empty_value(f) for f in self._fields(table_id)},
                }
                self.state["rows"][table_id][row_id] = row
                for table, ids in self._set_values(table_id, row, values).items():
                    changed.setdefault(table, set()).update(ids)
                created.append(row)
            self._save()
            result = [self.serialize_row(table_id, row, user_field_names) for row in created]
            if send_webhook_events:
                self._emit_rows(table_id, "rows.created", created, changed=changed)
            return result

    def rows_update(
        self, *, table_id: int, items: list, user_field_names: bool, send_webhook_events: bool = True
    ) -> list[dict]:
        with self.lock:
            self._require_table(table_id)
            live = self.state["rows"][table_id]
            ids = []
            for index, item in enumerate(items):
                row_id = item.get("id") if isinstance(item, dict) else None
                if not isinstance(row_id, int) or isinstance(row_id, bool):
                    raise validation_error(
                        {"items": {str(index): {"id": field_error("This field is required.", "required")}}}
                    )
                ids.append(row_id)
            if len(set(ids)) != len(ids):
                duplicates = sorted({i for i in ids if ids.count(i) > 1})
                raise ApiError(400, "ERROR_ROW_IDS_NOT_UNIQUE", f"The provided row ids {duplicates} are not unique.")
            missing = [i for i in ids if i not in live]
            if missing:
                raise rows_missing(missing)
            parsed, errors = [], {}
            for index, item in enumerate(items):
                try:
                    parsed.append(
                        self._parse_row(table_id, {k: v for k, v in item.items() if k != "id"}, user_field_names)
                    )
                except ApiError as error:
                    errors[str(index)] = error.detail
            if errors:
                raise validation_error({"items": errors})
            before = {row_id: copy.deepcopy(live[row_id]) for row_id in ids}
            old_targets = self._link_targets(table_id, list(before.values()))
            changed: dict[int, set] = {}
            changed_fields: set[int] = set()
            for row_id, values in zip(ids, parsed, strict=True):
                for field_id, value in values.items():
                    if live[row_id]["values"].get(field_id) != value:
                        changed_fields.add(field_id)
                for table, changed_ids in self._set_values(table_id, live[row_id], values).items():
                    changed.setdefault(table, set()).update(changed_ids)
            self._save()
            rows = [live[row_id] for row_id in ids]
            result = [self.serialize_row(table_id, row, user_field_names) for row in rows]
            if send_webhook_events:
                touched = self._merge_targets(old_targets, self._link_targets(table_id, rows))
                self._emit_rows(
                    table_id,
                    "rows.updated",
                    rows,
                    old_rows=[before[row_id] for row_id in ids],
                    changed=changed,
                    touched=touched,
                    changed_fields=changed_fields,
                )
            return result

    @staticmethod
    def _merge_targets(*targets: dict[int, set]) -> dict[int, set]:
        merged: dict[int, set] = {}
        for target in targets:
            for table, ids in target.items():
                merged.setdefault(table, set()).update(ids)
        return merged

    def rows_delete(self, *, table_id: int, row_ids: list[int], send_webhook_events: bool = True) -> None:
        with self.lock:
            self._require_table(table_id)
            live = self.state["rows"][table_id]
            if len(set(row_ids)) != len(row_ids):
                duplicates = sorted({i for i in row_ids if row_ids.count(i) > 1})
                raise ApiError(400, "ERROR_ROW_IDS_NOT_UNIQUE", f"The provided row ids {duplicates} are not unique.")
            missing = [i for i in row_ids if i not in live]
            if missing:
                raise rows_missing(missing)
            rows = [live[row_id] for row_id in row_ids]
            targets = self._link_targets(table_id, rows)
            for row_id in row_ids:
                self.state["trash"][table_id][row_id] = live.pop(row_id)
            self._save()
            if send_webhook_events:
                self._emit_rows(table_id, "rows.deleted", rows, changed=targets)

    def row_restore(self, *, table_id: int, row_id: int) -> dict:
        """Take a row out of the trash: Baserow then sends `rows.created` with the old row id."""
        with self.lock:
            self._require_table(table_id)
            trash = self.state["trash"][table_id]
            if row_id not in trash:
                raise ApiError(404, "ERROR_TRASH_ITEM_DOES_NOT_EXIST", "The requested trash item does not exist.")
            row = trash.pop(row_id)
            self.state["rows"][table_id][row_id] = row
            self._save()
            self._emit_rows(table_id, "rows.created", [row], changed=self._link_targets(table_id, [row]))
            return self.serialize_row(table_id, row, True)

    def row_move(
        self, *, table_id: int, row_id: int, before_id: int | None, user_field_names: bool, send_webhook_events: bool
    ) -> dict:
        with self.lock:
            self._require_table(table_id)
            live = self.state["rows"][table_id]
            missing = [i for i in (row_id, before_id) if i is not None and i not in live]
            if missing:
                raise rows_missing(missing)
            old = copy.deepcopy(live[row_id])
            if before_id != row_id:
                moving = live.pop(row_id)
                moving["order"] = format_order(self._new_order(table_id, before_id))
                live[row_id] = moving
            self._save()
            if send_webhook_events:
                row = live[row_id]
                self._emit_rows(
                    table_id,
                    "rows.updated",
                    [row],
                    old_rows=[old],
                    changed={},
                    touched=self._link_targets(table_id, [row]),
                )
            return self.serialize_row(table_id, live[row_id], user_field_names)

    # Webhooks --------------------------------------------------------------------------------------

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
                "sent_at": datetime.fromtimestamp(started, UTC).isoformat().replace("+00:00", "Z"),
                "duration": round(time.time() - started, 3),
            }
            self.deliveries.append(entry)
            webhook = self.state["webhooks"].get(webhook_id)
            if webhook is None:
                return False
            self._log_webhook_call(webhook, entry)
            deactivated = False
            if ok:
                webhook["failed_triggers"] = 0
            elif webhook["failed_triggers"] >= self.config["max_consecutive_failures"]:
                webhook["active"] = False
                deactivated = True
            else:
                webhook["failed_triggers"] += 1
            entry["deactivated"] = deactivated
            self._save()
            return deactivated

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

    # Authentication --------------------------------------------------------------------------------

    def add_token(self, *, key: str | None = None, name: str = "sandbox", permissions: dict | None = None) -> dict:
        """A database token; `permissions` maps create/read/update/delete to true or a list of table ids."""
        with self.lock:
            key = key or random_secret()[:32]
            all_ops = {"create": True, "read": True, "update": True, "delete": True}
            token = {
                "key": key,
                "name": name,
                "workspace_id": self.state["workspace_id"],
                "permissions": {**all_ops, **(permissions or {})},
            }
            self.state["tokens"][key] = token
            self._save()
            return dict(token)

    def add_user(self, *, email: str, password: str, first_name: str = "Admin") -> dict:
        with self.lock:
            user = {"id": self._next_id("user"), "email": email, "password": password, "first_name": first_name}
            self.state["users"][email.lower()] = user
            self._save()
            return {k: v for k, v in user.items() if k != "password"}

    def _issue_tokens(self, user: dict) -> dict:
        issued = int(time.time())
        base = {"user_id": user["id"], "iat": issued, "jti": uuid.uuid4().hex}
        access = jwt_encode(
            {**base, "token_type": "access", "exp": issued + self.config["access_token_lifetime"]}, self.jwt_secret
        )
        refresh = jwt_encode(
            {**base, "token_type": "refresh", "exp": issued + self.config["refresh_token_lifetime"]}, self.jwt_secret
        )
        return {"access": access, "refresh": refresh}

    def _public_user(self, user: dict) -> dict:
        return {
            "id": user["id"],
            "username": user["email"],
            "first_name": user["first_name"],
            "language": "en",
            "is_staff": True,
        }

    def _user_by_id(self, user_id: int) -> dict | None:
        return next((u for u in self.state["users"].values() if u["id"] == user_id), None)

    def _authenticate(
        self, request: Request, *, allow_token: bool, operation: str | None = None, table_id: int | None = None
    ):
        header = request.header("authorization").strip()
        scheme, _, credential = header.partition(" ")
        scheme = scheme.upper()
        if scheme == "JWT":
            payload = jwt_decode(credential.strip(), self.jwt_secret)
            if not payload or payload.get("token_type") != "access" or not self._user_by_id(payload.get("user_id")):
                raise ApiError(401, "ERROR_INVALID_ACCESS_TOKEN", "Access token is expired or invalid.")
            return {"user_id": payload["user_id"]}
        if scheme == "TOKEN" and allow_token:
            key = credential.strip()
            if not key or " " in key:
                raise ApiError(401, "ERROR_INVALID_TOKEN_HEADER", "Invalid token header. No credentials provided.")
            token = self.state["tokens"].get(key)
            if token is None:
                raise ApiError(401, "ERROR_TOKEN_DOES_NOT_EXIST", "The token does not exist.")
            if operation:
                allowed = token["permissions"].get(operation)
                if not (allowed is True or (isinstance(allowed, list) and table_id in allowed)):
                    raise ApiError(
                        401, "ERROR_NO_PERMISSION_TO_TABLE", "The token does not have permissions to the table."
                    )
            return {"token": key}
        raise ApiError(401, None, "Authentication credentials were not provided.")

    # Demo dataset ----------------------------------------------------------------------------------

    def seed_demo(self, *, webhook_url: str | None = None, webhook_headers: dict | None = None) -> dict:
        """The fixed demo dataset: database 60, tables 601-608, field ids `<table id><n>` (projet.nom = 6010)."""
        with self.lock:
            self.create_database(name="formation-hub", database_id=DEMO_DATABASE_ID)
            ids = DEMO_TABLE_IDS
            schema = {
                "client": [{"name": "nom"}],
                "personne": [
                    {"name": "nom"},
                    {"name": "email", "type": "email"},
                    {"name": "heures_contrat", "type": "number", "number_decimal_places": 1},
                    {"name": "heures_restantes", "type": "number", "number_decimal_places": 1, "number_negative": True},
                ],
                "projet": [
                    {"name": "nom"},
                    {"name": "client", "type": "link_row", "link_row_table": "client"},
                    {
                        "name": "statut",
                        "type": "single_select",
                        "select_options": [
                            {"id": 60101, "value": "Prospect", "color": "light-blue"},
                            {"id": 60102, "value": "En cours", "color": "green"},
                            {"id": 60103, "value": "Terminé", "color": "dark-gray"},
                        ],
                    },
                    {"name": "docmost_page_id"},
                ],
                "bloc": [{"name": "nom"}],
                "formation": [
                    {"name": "nom"},
                    {
                        "name": "statut",
                        "type": "single_select",
                        "select_options": [
                            {"id": 60201, "value": "Brouillon", "color": "light-blue"},
                            {"id": 60202, "value": "Publiée", "color": "green"},
                            {"id": 60203, "value": "Archivée", "color": "dark-gray"},
                        ],
                    },
                    {"name": "blocs", "type": "link_row", "link_row_table": "bloc", "related_field_name": "formation"},
                    {"name": "docmost_page_id"},
                ],
                "intervention": [
                    {"name": "nom"},
                    {"name": "formateur", "type": "link_row", "link_row_table": "personne"},
                    {"name": "heures", "type": "number", "number_decimal_places": 1},
                    {"name": "date", "type": "date"},
                ],
                "attribution": [
                    {"name": "nom"},
                    {"name": "formateur", "type": "link_row", "link_row_table": "personne"},
                    {"name": "projet", "type": "link_row", "link_row_table": "projet"},
                    {"name": "heures", "type": "number", "number_decimal_places": 1},
                ],
                "comptes_rendus": [
                    {"name": "titre"},
                    {"name": "docmost_page_id"},
                    {"name": "date", "type": "date"},
                ],
            }
            for name, fields in schema.items():
                specs = []
                for index, spec in enumerate(fields):
                    spec = {"type": "text", **spec, "field_id": ids[name] * 10 + index}
                    if spec["type"] == "link_row":
                        target = self.state["tables"].get(ids[spec["link_row_table"]])
                        if target is None:
                            raise ValueError(f"demo schema: {spec['link_row_table']} must come before {name}")
                        used = {f["id"] for f in self._fields(target["id"])}
                        spec["related_field_id"] = next(
                            target["id"] * 10 + n for n in range(10) if target["id"] * 10 + n not in used
                        )
                    specs.append(spec)
                self.create_table(name=name, table_id=ids[name], database_id=DEMO_DATABASE_ID, fields=specs)
            seed = [
                ("client", [{"nom": "Acme Formation"}, {"nom": "Région Sud"}, {"nom": "Ville de Lyon"}]),
                (
                    "personne",
                    [
                        {
                            "nom": "Claire Martin",
                            "email": "claire.martin@example.org",
                            "heures_contrat": 120,
                            "heures_restantes": 80,
                        },
                        {
                            "nom": "Julien Bernard",
                            "email": "julien.bernard@example.org",
                            "heures_contrat": 100,
                            "heures_restantes": 100,
                        },
                        {
                            "nom": "Sophie Leroy",
                            "email": "sophie.leroy@example.org",
                            "heures_contrat": 60,
                            "heures_restantes": 5,
                        },
                    ],
                ),
                (
                    "projet",
                    [
                        {"nom": "Refonte LMS", "client": [1], "statut": 60102},
                        {"nom": "Parcours managers", "client": [2], "statut": 60101},
                    ],
                ),
                ("bloc", [{"nom": "Bases du langage"}, {"nom": "Tests et qualité"}, {"nom": "Méthodes agiles"}]),
                (
                    "formation",
                    [
                        {"nom": "Python avancé", "statut": 60202, "blocs": [1, 2]},
                        {"nom": "Gestion de projet", "statut": 60201, "blocs": [3]},
                    ],
                ),
                (
                    "intervention",
                    [
                        {"nom": "Python avancé - session 1", "formateur": [1], "heures": 14, "date": "2026-12-03"},
                        {"nom": "Gestion de projet - jour 1", "formateur": [3], "heures": 7, "date": "2026-12-10"},
                    ],
                ),
                (
                    "attribution",
                    [{"nom": "Refonte LMS - Claire Martin", "formateur": [1], "projet": [1], "heures": 40}],
                ),
                ("comptes_rendus", [{"titre": "CR lancement Refonte LMS", "date": "2026-11-20"}]),
            ]
            for name, rows in seed:
                self.rows_create(table_id=ids[name], items=rows, user_field_names=True, send_webhook_events=False)
            if DEMO_TOKEN not in self.state["tokens"]:
                self.add_token(key=DEMO_TOKEN, name="formation-hub demo")
            if DEMO_ADMIN_EMAIL not in self.state["users"]:
                self.add_user(email=DEMO_ADMIN_EMAIL, password=DEMO_ADMIN_PASSWORD)
            webhooks = []
            if webhook_url:
                for index, (name, table_id) in enumerate(ids.items(), start=1):
                    webhooks.append(
                        self.add_webhook(
                            table_id=table_id,
                            url=webhook_url,
                            name=f"formation-hub {name}",
                            headers=webhook_headers,
                            include_all_events=False,
                            events=list(ROW_EVENTS),
                            webhook_id=index,
                        )["id"]
                    )
            return {"database_id": DEMO_DATABASE_ID, "tables": dict(ids), "token": DEMO_TOKEN, "webhooks": webhooks}

    # HTTP routes -----------------------------------------------------------------------------------

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

    def _page_url(self, request: Request, page: int) -> str:
        # DRF's replace_query_param / remove_query_param: sorted keys, page 1 drops the parameter.
        query = {key: values for key, values in request.query.items() if key != "page"}
        if page > 1:
            query["page"] = [str(page)]
        encoded = urlencode(sorted(query.items()), doseq=True)
        host = request.header("host") or f"{self.host}:{self.port}"
        return f"http://{host}{request.path}" + (f"?{encoded}" if encoded else "")

    def _field_by_ref(self, table_id: int, ref: str, names: bool) -> dict | None:
        for field in self._fields(table_id):
            if ref in (self._key(field, names), f"field_{field['id']}", str(field["id"])):
                return field
        return None

    def _included_keys(self, table_id: int, request: Request, names: bool) -> set | None:
        include, exclude = request.arg("include"), request.arg("exclude")
        keys = {self._key(f, names) for f in self._fields(table_id)}
        if include:
            wanted = {part.strip() for part in include.split(",")}
            return {
                self._key(f, names)
                for f in self._fields(table_id)
                if {self._key(f, names), f"field_{f['id']}"} & wanted
            }
        if exclude:
            unwanted = {part.strip() for part in exclude.split(",")}
            return {
                self._key(f, names)
                for f in self._fields(table_id)
                if not {self._key(f, names), f"field_{f['id']}"} & unwanted
            }
        return keys

    def _filtered_rows(self, table_id: int, request: Request, names: bool) -> list[dict]:
        rows = sorted(self.state["rows"][table_id].values(), key=self._row_sort_key)
        search = request.arg("search")
        if search:
            needle = search.lower()
            rows = [row for row in rows if needle in self._row_text(table_id, row)]
        conditions = []
        for key, values in request.query.items():
            if not key.startswith("filter__"):
                continue
            ref, _, filter_type = key[len("filter__") :].rpartition("__")
            for value in values:
                conditions.append({"field": ref, "type": filter_type, "value": value})
        tree = None
        if request.arg("filters"):
            try:
                tree = json.loads(request.arg("filters"))
            except ValueError:
                raise ApiError(
                    400, "ERROR_FILTERS_PARAM_VALIDATION_ERROR", "The provided filters are not valid JSON."
                ) from None
        elif conditions:
            tree = {"filter_type": (request.arg("filter_type") or "AND").upper(), "filters": conditions}
        if tree is not None:
            rows = [row for row in rows if self._matches_tree(table_id, row, tree, names)]
        order_by = request.arg("order_by")
        if order_by:
            for part in reversed([p.strip() for p in order_by.split(",") if p.strip()]):
                descending = part.startswith("-")
                field = self._field_by_ref(table_id, part.lstrip("+-"), names)
                if field is None:
                    raise ApiError(
                        400,
                        "ERROR_ORDER_BY_FIELD_NOT_FOUND",
                        f"The field {part.lstrip('+-')} was not found in the table.",
                    )
                rows.sort(key=lambda row, f=field: self._sort_value(f, row), reverse=descending)
        return rows

    def _row_text(self, table_id: int, row: dict) -> str:
        return json.dumps(self.serialize_row(table_id, row, True), ensure_ascii=False).lower()

    def _sort_value(self, field: dict, row: dict):
        value = self._serialize_value(field, row["values"].get(field["id"]))
        if field["type"] == "number":
            return (value is not None, Decimal(value) if value is not None else Decimal(0))
        if isinstance(value, dict):
            value = value.get("value")
        if isinstance(value, list):
            value = ", ".join(str(item["value"]) for item in value)
        return (value is not None, str(value) if value is not None else "")

    def _matches_tree(self, table_id: int, row: dict, tree: dict, names: bool) -> bool:
        results = [self._matches(table_id, row, condition, names) for condition in tree.get("filters") or []]
        results += [self._matches_tree(table_id, row, group, names) for group in tree.get("groups") or []]
        if not results:
            return True
        return any(results) if str(tree.get("filter_type", "AND")).upper() == "OR" else all(results)

    def _matches(self, table_id: int, row: dict, condition: dict, names: bool) -> bool:
        filter_type = condition.get("type")
        if filter_type not in FILTER_TYPES:
            raise ApiError(
                400, "ERROR_VIEW_FILTER_TYPE_DOES_NOT_EXIST", f"The view filter type {filter_type} doesn't exist."
            )
        field = self._field_by_ref(table_id, str(condition.get("field")), names)
        if field is None:
            raise ApiError(
                400, "ERROR_FILTER_FIELD_NOT_FOUND", f"The field {condition.get('field')} was not found in the table."
            )
        raw = row["values"].get(field["id"])
        value = "" if condition.get("value") is None else str(condition.get("value"))
        shown = self._serialize_value(field, raw)
        if isinstance(shown, dict):
            text = str(shown["value"])
        elif isinstance(shown, list):
            text = ", ".join(str(item["value"]) for item in shown)
        else:
            text = "" if shown is None else str(shown)
        empty = shown in (None, "", [], False)
        if filter_type == "empty":
            return empty
        if filter_type == "not_empty":
            return not empty
        if filter_type in ("link_row_has", "link_row_has_not"):
            ids = {str(item["id"]) for item in shown or []}
            texts = {str(item["value"]) for item in shown or []}
            has = value in ids or value in texts
            return has if filter_type == "link_row_has" else not has
        if filter_type in ("single_select_equal", "single_select_not_equal"):
            same = shown is not None and value in (str(shown["id"]), shown["value"])
            return (same or value == "") if filter_type == "single_select_equal" else not same
        if filter_type == "boolean":
            return bool(shown) == parse_bool(value, default=False) if value else not shown
        if value == "" and filter_type in (
            "equal",
            "not_equal",
            "contains",
            "contains_not",
            "higher_than",
            "lower_than",
            "date_equal",
        ):
            return True  # Baserow ignores a filter with an empty value
        if filter_type in ("higher_than", "lower_than"):
            try:
                left, right = Decimal(text), Decimal(value)
            except InvalidOperation:
                return False
            return left > right if filter_type == "higher_than" else left < right
        if filter_type in ("equal", "date_equal"):
            if field["type"] == "number" and shown is not None:
                try:
                    return Decimal(text) == Decimal(value)
                except InvalidOperation:
                    return False
            return text == value
        if filter_type == "not_equal":
            return text != value
        if filter_type == "contains":
            return value.lower() in text.lower()
        return value.lower() not in text.lower()

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

    # Control API -----------------------------------------------------------------------------------

    def _control_reset(self, request: Request) -> Response:
        data = request.json() or {}
        self.reset()
        result = {"reset": True}
        if data.get("demo"):
            result["demo"] = self.seed_demo(
                webhook_url=data.get("webhook_url"), webhook_headers=data.get("webhook_headers")
            )
        return Response(200, result)

    def _control_demo(self, request: Request) -> Response:
        data = request.json() or {}
        if DEMO_DATABASE_ID in self.state["databases"]:
            return Response(409, {"error": 'the demo is already seeded; POST /_sandbox/reset {"demo": true} reseeds'})
        return Response(
            200, self.seed_demo(webhook_url=data.get("webhook_url"), webhook_headers=data.get("webhook_headers"))
        )

    def _control_state(self, request: Request) -> Response:
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
        return Response(200, dict(self.config))

    def _control_set_config(self, request: Request) -> Response:
        data = request.json() or {}
        unknown = set(data) - set(DEFAULT_CONFIG)
        if unknown:
            return Response(400, {"error": f"unknown settings {sorted(unknown)}; known: {sorted(DEFAULT_CONFIG)}"})
        with self.lock:
            self.config.update(data)
            return Response(200, dict(self.config))

    def _control_list_tables(self, request: Request) -> Response:
        with self.lock:
            return Response(200, {"tables": [self.table_snapshot(t) for t in sorted(self.state["tables"])]})

    def _control_create_table(self, request: Request) -> Response:
        data = request.json() or {}
        try:
            table = self.create_table(
                name=data["name"],
                table_id=data.get("id"),
                database_id=data.get("database_id"),
                fields=data.get("fields"),
            )
        except (KeyError, TypeError, ValueError) as error:
            return Response(400, {"error": f"cannot create table: {error}"})
        return Response(201, table)

    def _control_create_field(self, request: Request) -> Response:
        data = request.json() or {}
        table_id = self._int(request.params["table_id"], "table")
        try:
            if "id" in data:
                data["field_id"] = data.pop("id")
            field = self.create_field(table_id=table_id, **data)
        except (TypeError, ValueError) as error:
            return Response(400, {"error": f"cannot create field: {error}"})
        return Response(201, field)

    def _control_list_rows(self, request: Request) -> Response:
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
        row = self.row_restore(
            table_id=self._int(request.params["table_id"], "table"), row_id=self._int(request.params["row_id"], "row")
        )
        return Response(200, row)

    def _control_trash(self, request: Request) -> Response:
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
        with self.lock:
            webhooks = sorted(self.state["webhooks"].values(), key=lambda w: w["id"])
            return Response(
                200, {"webhooks": [{**self.public_webhook(w), "table_id": w["table_id"]} for w in webhooks]}
            )

    def _control_add_webhook(self, request: Request) -> Response:
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
        self.delete_webhook(self._int(request.params["webhook_id"]))
        return Response(204)

    def _control_deliveries(self, request: Request) -> Response:
        filters = {
            key: request.arg(key) for key in ("webhook_id", "event_type", "event_id", "table_id") if request.arg(key)
        }
        with self.lock:
            found = [d for d in self.deliveries if all(str(d[key]) == value for key, value in filters.items())]
            return Response(200, {"deliveries": copy.deepcopy(found), "pending": self.dispatcher.pending()})

    def _control_clear_deliveries(self, request: Request) -> Response:
        with self.lock:
            self.deliveries.clear()
        return Response(204)

    def _control_wait(self, request: Request) -> Response:
        data = request.json() or {}
        idle = self.dispatcher.wait_idle(float(data.get("timeout", 5)))
        return Response(200 if idle else 504, {"idle": idle, "pending": self.dispatcher.pending()})

    def _control_add_token(self, request: Request) -> Response:
        data = request.json() or {}
        return Response(
            201,
            self.add_token(key=data.get("key"), name=data.get("name", "sandbox"), permissions=data.get("permissions")),
        )

    # Helpers for in-process use ----------------------------------------------------------------------

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        return self.dispatcher.wait_idle(timeout)

    def delivery_log(self, **filters) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(d) for d in self.deliveries if all(d.get(k) == v for k, v in filters.items())]


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.baserow", description="Local Baserow 1.35.3 stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--state", metavar="FILE", help="keep tables, rows and webhooks in this JSON file")
    parser.add_argument("--demo", action="store_true", help="seed the demo dataset (database 60, tables 601-608)")
    parser.add_argument("--webhook-url", help="with --demo: one webhook per demo table pointing here")
    parser.add_argument(
        "--webhook-header", action="append", type=parse_header, default=[], metavar="NAME=VALUE", help="repeatable"
    )
    parser.add_argument(
        "--retry-base-delay", type=float, default=DEFAULT_CONFIG["retry_base_delay"], help="seconds (default 1)"
    )
    parser.add_argument("--max-retries", type=int, default=DEFAULT_CONFIG["max_retries"])
    parser.add_argument("--webhook-timeout", type=float, default=DEFAULT_CONFIG["timeout"])
    args = parser.parse_args(argv)
    stand_in = BaserowStandIn(
        host=args.host,
        port=args.port,
        state_file=args.state,
        demo=args.demo,
        webhook_url=args.webhook_url,
        webhook_headers=dict(args.webhook_header),
        retry_base_delay=args.retry_base_delay,
        max_retries=args.max_retries,
        timeout=args.webhook_timeout,
    )
    details = []
    if args.demo:
        tables = ", ".join(f"{name}={table_id}" for name, table_id in DEMO_TABLE_IDS.items())
        details.append(f"Baserow demo: database {DEMO_DATABASE_ID}, token {DEMO_TOKEN}, tables {tables}")
        if args.webhook_url:
            details.append(f"Baserow demo: one webhook per table -> {args.webhook_url}")
    serve_forever(stand_in, "Baserow stand-in", tuple(details))


if __name__ == "__main__":
    main()
