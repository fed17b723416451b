"""The table mappings page says which Baserow events each table's webhook should subscribe to: the
ones a rule handles. A table no rule listens to needs no webhook, so it is never flagged silent."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.sync.factories import EventFactory

pytestmark = pytest.mark.django_db


def _cell(text: str, table: str) -> str:
    row = text[text.index(f'>{table}</a>'):]
    start = row.index('<td class="field-webhook_events">') + len('<td class="field-webhook_events">')
    return row[start:row.index("</td>", start)]


def test_each_mapping_names_the_events_its_webhook_needs(admin_client, demo_mappings):
    text = admin_client.get(reverse("admin:sync_tablemapping_changelist")).content.decode()
    assert _cell(text, "projet") == "rows.created, rows.deleted, rows.updated"
    assert _cell(text, "intervention") == "rows.created"
    assert _cell(text, "client") == "none: no webhook needed"


def test_a_table_no_rule_listens_to_is_never_silent(admin_client, demo_mappings):
    EventFactory(table_id=607, received_at=timezone.now() - timedelta(days=3))  # client: no rule
    EventFactory(table_id=602, received_at=timezone.now() - timedelta(days=3))  # formation: rules
    text = admin_client.get(reverse("admin:sync_tablemapping_changelist")).content.decode()
    assert text.count("silent for more than") == 1
    assert "silent for more than" in text[text.index(">formation</a>"):text.index(">formation</a>") + 2000]
