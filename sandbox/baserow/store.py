"""Tables, fields and rows in memory (optionally in a JSON file): schema, cell values, row writes."""

import copy
import json
import os
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.baserow.errors import ApiError, field_error, rows_missing, validation_error

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
ORDER_PLACES = Decimal("0.00000000000000000000")


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


class RowStore:
    """State and row writes; every write hands its rows to `_emit_rows` (WebhookEvents)."""

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

    @contextmanager
    def _all_or_nothing(self):
        """Schema changes made through the control API either apply whole or leave the state untouched."""
        with self.lock:
            before = copy.deepcopy(self.state)
            try:
                yield
            except Exception:
                self.state = before
                raise

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
        with self._all_or_nothing():
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
