"""Tables, fields and rows in memory (optionally in a JSON file): the state, lookups and row writes; the
schema is in schema.py, the cell values in cells.py."""

import copy
import json
import os
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sandbox.baserow.cells import CellValues
from sandbox.baserow.errors import ApiError, field_error, rows_missing, validation_error
from sandbox.baserow.schema import TableSchema

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


class RowStore(TableSchema, CellValues):
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

    def _new_order(self, table_id: int, before_id: int | None) -> Decimal:
        if before_id is None:
            # After the last row: one pass, not a sort (a bench creates thousands of rows one by one).
            last = max(self.state["rows"][table_id].values(), key=self._row_sort_key, default=None)
            return Decimal(last["order"]).to_integral_value() + 1 if last else Decimal(1)
        rows = sorted(self.state["rows"][table_id].values(), key=self._row_sort_key)
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
