"""Row listing: search, `filter__<field>__<type>` and `filters` JSON, `order_by`, include/exclude, page links."""

import json
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from sandbox.baserow.errors import ApiError
from sandbox.httpbase import Request, parse_bool

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


class RowQueries:
    """Selecting, ordering and paging rows for the list endpoint."""

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

    def _matches_tree(self, table_id: int, row: dict, tree, names: bool) -> bool:
        filters, groups = (tree.get("filters") or [], tree.get("groups") or []) if isinstance(tree, dict) else (0, 0)
        valid = isinstance(filters, list) and isinstance(groups, list)
        if not valid or not all(isinstance(condition, dict) for condition in filters):
            raise ApiError(
                400,
                "ERROR_FILTERS_PARAM_VALIDATION_ERROR",
                "The filters must be an object with a filter_type, a list of filters and a list of groups.",
            )
        results = [self._matches(table_id, row, condition, names) for condition in filters]
        results += [self._matches_tree(table_id, row, group, names) for group in groups]
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
