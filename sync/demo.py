"""Demo configuration for `make run`: the connections and table mappings point at the local
stand-ins (python -m sandbox.baserow / sandbox.docmost), with fixed table ids."""

from datetime import timedelta

from django.utils import timezone
from django_q.models import Schedule

from sync import conf
from sync.models import BaserowConnection, DocmostConnection, TableMapping

DEMO_TABLES = {
    "projet": (601, {"nom": "nom", "client": "client", "statut": "statut", "docmost_page_id": "docmost_page_id"}),
    "formation": (602, {"nom": "nom", "statut": "statut", "blocs": "blocs", "docmost_page_id": "docmost_page_id"}),
    "bloc": (603, {}),
    "intervention": (604, {"formateur": "formateur", "heures": "heures", "date": "date"}),
    "attribution": (605, {"formateur": "formateur", "projet": "projet", "heures": "heures"}),
    "personne": (
        606,
        {"nom": "nom", "email": "email", "heures_contrat": "heures_contrat", "heures_restantes": "heures_restantes"},
    ),
    "client": (607, {}),
    "comptes_rendus": (608, {}),
}
# Page ids of the Docmost stand-in's demo workspace (UUIDv7 from a fixed seed, the same on every start).
DEMO_DOCMOST_PAGES = {
    "project_template_page_id": "019ba6eb-5806-7eb9-85e6-70d8dc0fa4ba",
    "compte_rendu_parent_page_id": "019ba6eb-5807-7025-b298-554c699792c2",
    "formation_template_page_id": "019ba6eb-5809-7380-b220-5c664b648bae",
}
DEMO_STATUS_ICONS = {
    "Prospect": "🔵", "En cours": "🟢", "Terminé": "✅", "Brouillon": "📝", "Publiée": "📗", "Archivée": "📦",
}
DEMO_BASEROW_ADMIN = "admin@formation-hub.local"
DEMO_DOCMOST_BOT = "bot@formation-hub.local"
DEMO_SPACE_SLUG = "agence"
# The Baserow stand-in starts with projet and formation rows that no webhook ever announced: one reconciliation,
# a minute after `make run` (its stand-ins are listening by then), gives them their Docmost pages.
DEMO_RECONCILIATION = "sync: demo rows get their Docmost pages"


def load_demo_sync() -> str:
    """Creates what is missing; an admin's later edits are kept."""
    BaserowConnection.objects.get_or_create(
        key="default",
        defaults={
            "url": f"http://127.0.0.1:{conf.standin_baserow_port()}",
            "token_env_var": "BASEROW_DATABASE_TOKEN",
            "admin_email": DEMO_BASEROW_ADMIN,
            "admin_password_env_var": "BASEROW_ADMIN_PASSWORD",
        },
    )
    DocmostConnection.objects.get_or_create(
        key="default",
        defaults={
            "url": f"http://127.0.0.1:{conf.standin_docmost_port()}",
            "bot_email": DEMO_DOCMOST_BOT,
            "bot_password_env_var": "DOCMOST_BOT_PASSWORD",
            "space_slug": DEMO_SPACE_SLUG,
            "formation_space_slug": "formations",
            "status_icons": DEMO_STATUS_ICONS,
            **DEMO_DOCMOST_PAGES,
        },
    )
    for logical_table, (table_id, fields) in DEMO_TABLES.items():
        TableMapping.objects.get_or_create(
            logical_table=logical_table, defaults={"baserow_table_id": table_id, "fields": fields}
        )
    Schedule.objects.update_or_create(name=DEMO_RECONCILIATION, defaults={
        "func": "sync.tasks.reconcile_unmapped", "schedule_type": Schedule.ONCE, "repeats": -1,
        "next_run": timezone.now() + timedelta(minutes=1),
    })
    return (f"Baserow and Docmost stand-ins configured, {len(DEMO_TABLES)} table mappings (ids 601-608); the seeded "
            "rows get their Docmost pages from a reconciliation a minute after the worker starts")
