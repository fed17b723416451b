"""Cell values of the Baserow stand-in: a row as the REST API shows it, and the values a write sends, checked
and parsed per field type."""

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.baserow.errors import ApiError, field_error, validation_error

TEXT_TYPES = ("text", "long_text", "email", "url", "phone_number")


class CellValues:
    """Part of RowStore: reading and writing the cells of a row, per field type."""

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
