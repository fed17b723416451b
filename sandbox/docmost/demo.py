"""The demo workspace: bot user, spaces Agence and Formations, templates, the compte-rendu parent page."""

from sandbox.docmost.content import to_doc
from sandbox.tokens import IdMaker

DEMO_EPOCH_MS = 1768032000000  # 2026-01-10T08:00:00Z: demo ids are UUIDv7 from this instant, seeded
BOT_EMAIL = "bot@formation-hub.local"
BOT_PASSWORD = "demo-docmost-password"
HUMAN_EMAIL = "marie.dupont@formation-hub.local"
HUMAN_PASSWORD = "demo-docmost-human"
PROJECT_TEMPLATE = """# Projet {{nom}} - {{client}}

## Contexte

## Objectifs

- Objectif 1

## Planning

| Étape | Date |
| --- | --- |

## Contacts
"""
FORMATION_TEMPLATE = """# Formation {{nom}}

## Public et prérequis

## Objectifs pédagogiques

## Blocs
"""
COMPTE_RENDU_TEMPLATE = """# Compte rendu - {{titre}}

**Date :** {{date}}

## Participants

## Décisions

## Actions
"""


class DemoData:
    """Seeds the demo with deterministic UUIDv7 ids."""

    def seed_demo(self) -> dict:
        """Bot and human users, spaces Agence and Formations, template pages and the compte-rendu parent.

        Ids are UUIDv7 made from a fixed instant and a fixed seed, so they are the same on every start."""
        with self.lock:
            self.ids = IdMaker(seed=60, epoch_ms=DEMO_EPOCH_MS)
            self._empty()
            bot = self.add_user(email=BOT_EMAIL, password=BOT_PASSWORD, name="formation-hub bot", role="admin")
            human = self.add_user(email=HUMAN_EMAIL, password=HUMAN_PASSWORD, name="Marie Dupont", role="member")
            agence = self.add_space(name="Agence", slug="agence", description="Projets clients de l'agence")
            formations = self.add_space(name="Formations", slug="formations", description="Supports de formation")
            project_template = self.add_page(
                space_id=agence["id"], creator_id=human["id"], title="Modèle - Projet", icon="📁",
                doc=to_doc(PROJECT_TEMPLATE, "markdown"),
            )  # fmt: skip
            reports = self.add_page(
                space_id=agence["id"], creator_id=human["id"], title="Comptes rendus", icon="🗒️",
                doc=to_doc("Les comptes rendus de réunion sont des sous-pages de cette page.", "markdown"),
            )  # fmt: skip
            report_template = self.add_page(
                space_id=agence["id"], creator_id=human["id"], title="Modèle - Compte rendu", icon="📝",
                doc=to_doc(COMPTE_RENDU_TEMPLATE, "markdown"),
            )  # fmt: skip
            formation_template = self.add_page(
                space_id=formations["id"], creator_id=human["id"], title="Modèle - Formation", icon="🎓",
                doc=to_doc(FORMATION_TEMPLATE, "markdown"),
            )  # fmt: skip
            self.ids = IdMaker()
            self.demo_ids = {
                "workspace_id": self.workspace["id"],
                "bot_user_id": bot["id"],
                "human_user_id": human["id"],
                "space_agence_id": agence["id"],
                "space_formations_id": formations["id"],
                "project_template_page_id": project_template["id"],
                "compte_rendu_parent_page_id": reports["id"],
                "compte_rendu_template_page_id": report_template["id"],
                "formation_template_page_id": formation_template["id"],
            }
            return dict(self.demo_ids)
