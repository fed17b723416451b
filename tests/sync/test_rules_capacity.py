"""intervention and attribution rules end to end: the trainer's remaining hours read from the stand-in
Baserow, admins notified once per trainer per day, the trainer emailed once per attribution."""

import pytest

from formation_hub.models import Notification
from sync.models import EventItem, TableMapping
from sync.rules.capacity import check_capacity_after_intervention, email_trainer_and_check_capacity

pytestmark = pytest.mark.django_db(transaction=True)


def over_capacity(bridge, name="Sophie Leroy", hours=-3):
    personne = bridge.personne_id(name)
    bridge.update_row(606, personne, {"heures_restantes": hours}, webhooks=False)
    return personne


def test_an_intervention_for_a_trainer_over_capacity_notifies_admins_once_a_day(bridge):
    sophie = over_capacity(bridge)
    bridge.create_row(604, {"nom": "Atelier 1", "formateur": [sophie], "heures": 8})
    bridge.create_row(604, {"nom": "Atelier 2", "formateur": [sophie], "heures": 4})
    bridge.sync()
    items = EventItem.objects.filter(event__table_id=604).order_by("pk")
    assert [item.state for item in items] == ["processed", "processed"]
    assert "Sophie Leroy: -3.0 h remaining, admins notified" in items[0].reason
    [alert] = Notification.objects.filter(kind="sync.capacity")
    assert alert.subject == "[sync] Sophie Leroy is over capacity: -3.0 h remaining"
    assert alert.dedupe_key.startswith(f"sync.capacity:{sophie}:")


def test_an_intervention_within_capacity_notifies_nobody(bridge):
    claire = bridge.personne_id("Claire Martin")
    bridge.create_row(604, {"nom": "Cours", "formateur": [claire], "heures": 2})
    bridge.sync()
    assert EventItem.objects.get(event__table_id=604).reason == "Claire Martin: 80.0 h remaining"
    assert not Notification.objects.filter(kind="sync.capacity").exists()


def test_an_attribution_emails_the_trainer_and_checks_capacity(bridge):
    sophie = over_capacity(bridge)
    bridge.create_row(605, {"nom": "Attribution", "formateur": [sophie], "projet": [], "heures": 10})
    bridge.sync()
    [email] = Notification.objects.filter(kind="sync.attribution")
    assert email.recipients == ["sophie.leroy@example.org"] and "10.0 h" in email.body
    assert Notification.objects.filter(kind="sync.capacity").count() == 1
    assert EventItem.objects.get(event__table_id=605).state == "processed"


def test_capacity_rules_run_twice_on_the_same_item_notify_nobody_twice(bridge):
    sophie = over_capacity(bridge)
    bridge.create_row(604, {"nom": "Atelier", "formateur": [sophie], "heures": 8})
    bridge.create_row(605, {"nom": "Attribution", "formateur": [sophie], "heures": 10})
    bridge.sync()
    intervention = EventItem.objects.get(event__table_id=604)
    attribution = EventItem.objects.get(event__table_id=605)
    check_capacity_after_intervention(intervention, TableMapping.objects.get(logical_table="intervention"))
    email_trainer_and_check_capacity(attribution, TableMapping.objects.get(logical_table="attribution"))
    assert Notification.objects.filter(kind="sync.capacity").count() == 1
    assert Notification.objects.filter(kind="sync.attribution").count() == 1


def test_an_intervention_without_a_trainer_is_ignored(bridge):
    bridge.create_row(604, {"nom": "Sans formateur", "heures": 1})
    bridge.sync()
    item = EventItem.objects.get(event__table_id=604)
    assert (item.state, item.reason) == ("ignored", "no trainer (formateur) on the row")
