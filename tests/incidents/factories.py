from datetime import date, time

import factory
from django.utils import timezone

from incidents.models import (
    ActionItem,
    Incident,
    Override,
    PostMortem,
    Rotation,
    RotationMember,
    Runbook,
    Severity,
    Source,
)
from tests.factories import UserFactory


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    title = factory.Sequence(lambda n: f"Docmost down {n}")
    severity = Severity.SEV2
    source = Source.ONCALL_FORM
    service = "docmost"
    category = "down"
    detected_at = factory.LazyFunction(timezone.now)
    respond_by = factory.LazyAttribute(lambda incident: incident.detected_at + timezone.timedelta(hours=4))


class RotationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rotation

    name = factory.Sequence(lambda n: f"rotation {n}")
    time_zone = "Europe/Paris"
    handoff_weekday = 0
    handoff_time = time(10, 0)
    start_date = date(2026, 1, 5)


class RotationMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RotationMember

    rotation = factory.SubFactory(RotationFactory)
    user = factory.SubFactory(UserFactory)
    position = factory.Sequence(lambda n: n)


class OverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Override

    rotation = factory.SubFactory(RotationFactory)
    user = factory.SubFactory(UserFactory)
    role = Override.Role.PRIMARY


class RunbookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Runbook

    slug = factory.Sequence(lambda n: f"runbook-{n}")
    title = factory.Sequence(lambda n: f"Runbook {n}")
    symptoms = "The service answers 502."


class PostMortemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostMortem

    incident = factory.SubFactory(IncidentFactory, status="resolved", resolved_at=factory.LazyFunction(timezone.now))
    title = factory.LazyAttribute(lambda post_mortem: post_mortem.incident.title)
    slug = factory.Sequence(lambda n: f"post-mortem-{n}")
    due_at = factory.LazyAttribute(lambda post_mortem: post_mortem.incident.resolved_at + timezone.timedelta(days=7))


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    post_mortem = factory.SubFactory(PostMortemFactory)
    description = factory.Sequence(lambda n: f"Add safeguard {n}")
    owner = factory.SubFactory(UserFactory)
    due_date = factory.LazyFunction(lambda: timezone.now().date())
