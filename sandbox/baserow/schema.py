"""Databases, tables, fields and select options of the Baserow stand-in."""

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


class TableSchema:
    """Part of RowStore: the schema a table's rows follow."""

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
