import uuid

import factory
from django.utils import timezone

from sync.models import Event, EventItem


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    source = Event.Source.BASEROW
    webhook_id = 31
    event_id = factory.LazyFunction(lambda: str(uuid.uuid4()))
    event_type = "rows.created"
    table_id = 601
    row_count = 1
    raw_body = factory.LazyAttribute(
        lambda event: (
            f'{{"table_id": {event.table_id}, "webhook_id": {event.webhook_id}, "event_id": "{event.event_id}", '
            f'"event_type": "{event.event_type}", "items": [{{"id": 1, "nom": "x"}}]}}'
        )
    )
    received_at = factory.LazyFunction(timezone.now)
    enqueued_at = factory.LazyFunction(timezone.now)


class EventItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventItem

    event = factory.SubFactory(EventFactory)
    position = factory.Sequence(lambda n: n)
    row_id = factory.Sequence(lambda n: 1000 + n)
    entity_key = factory.LazyAttribute(lambda item: f"baserow:{item.event.table_id}:{item.row_id}")
    data = factory.LazyAttribute(lambda item: {"id": item.row_id, "nom": "x"})
    created_at = factory.LazyFunction(timezone.now)
