"""The fixed demo dataset the sync app's demo configuration relies on."""

from sandbox.baserow.events import ROW_EVENTS

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


class DemoData:
    """Seeds the demo dataset through the same writes the API uses."""

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
