"""Action items of a post-mortem: each safeguard has an owner and a due date, and its owner is reminded
every morning once it is overdue, until it is done or dropped."""

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.console.timefmt import organisation_zone, to_local
from formation_hub.errors import DomainError
from formation_hub.notifications import notify
from incidents import conf
from incidents.models import ActionItem, PostMortem
from incidents.permissions import actor, require_responder


def first_reminder_at(due_date: date) -> datetime:
    """The morning after the due date, at the reminder hour, in the organisation's zone."""
    zone = organisation_zone()
    return datetime.combine(due_date + timedelta(days=1), time(conf.reminder_hour()), tzinfo=zone)


def next_local_morning(after: datetime) -> datetime:
    """The next reminder-hour instant strictly after `after`, in local wall-clock time (DST-safe)."""
    zone = organisation_zone()
    local = after.astimezone(zone)
    candidate = datetime.combine(local.date(), time(conf.reminder_hour()), tzinfo=zone)
    while candidate <= after:
        candidate = datetime.combine(candidate.date() + timedelta(days=1), time(conf.reminder_hour()), tzinfo=zone)
    return candidate


def _check_owner(owner) -> None:
    if owner is None or not owner.is_active:
        raise DomainError("An action item needs an owner who is an active user.")


@transaction.atomic
def action_item_add(*, post_mortem: PostMortem, user, description: str, owner, due_date: date) -> ActionItem:
    require_responder(user)
    description = (description or "").strip()
    if not description:
        raise DomainError("An action item needs a description of the safeguard to add.")
    _check_owner(owner)
    if due_date is None:
        raise DomainError("An action item needs a due date.")
    item = ActionItem.objects.create(
        post_mortem=post_mortem, description=description[:500], owner=owner, due_date=due_date,
        reminder_at=first_reminder_at(due_date),
    )
    audit_record(action="action_item.added", target=item, actor=actor(user),
                 changes={"post_mortem": post_mortem.pk, "owner": str(owner), "due_date": due_date})
    return item


@transaction.atomic
def action_item_set_status(*, item: ActionItem, user, status: str) -> ActionItem:
    """Move an item (open, in progress, done, dropped); its owner may too, even outside on-call."""
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    if user != item.owner:
        require_responder(user)
    if status not in ActionItem.Status.values:
        raise DomainError(f"Unknown status '{status}': use one of {', '.join(ActionItem.Status.values)}.")
    if status == item.status:
        raise DomainError(f"This action item is already {item.get_status_display()}.")
    previous = item.status
    item.status = status
    if status in ActionItem.OPEN_STATUSES:
        item.done_at = None
        item.reminder_at = max(first_reminder_at(item.due_date), next_local_morning(timezone.now()))
    else:
        item.done_at, item.reminder_at = timezone.now(), None
    item.save(update_fields=["status", "done_at", "reminder_at"])
    audit_record(action="action_item.status_changed", target=item, actor=actor(user),
                 changes={"status": [previous, status]})
    return item


@transaction.atomic
def action_item_reschedule(*, item: ActionItem, user, due_date: date, owner=None) -> ActionItem:
    require_responder(user)
    item = ActionItem.objects.select_for_update().get(pk=item.pk)
    owner = owner or item.owner
    _check_owner(owner)
    changes = {}
    if due_date != item.due_date:
        changes["due_date"] = [item.due_date, due_date]
    if owner != item.owner:
        changes["owner"] = [str(item.owner), str(owner)]
    if not changes:
        return item
    item.due_date, item.owner = due_date, owner
    if item.is_open:
        item.reminder_at = first_reminder_at(due_date)
    item.save(update_fields=["due_date", "owner", "reminder_at"])
    audit_record(action="action_item.rescheduled", target=item, actor=actor(user), changes=changes)
    return item


def emails_of(*users) -> list[str] | None:
    emails = [user.email for user in users if user is not None and user.email]
    return emails or None


def action_items_remind_overdue(now: datetime | None = None) -> int:
    """Remind the owner of each overdue open item, once a day (the row's reminder_at claims the day)."""
    now = now or timezone.now()
    sent = 0
    due = ActionItem.objects.filter(
        reminder_at__lte=now, status__in=ActionItem.OPEN_STATUSES
    ).values_list("pk", "reminder_at")[:200]
    for pk, reminder_at in due:
        with transaction.atomic():
            following = next_local_morning(now)
            if not ActionItem.objects.filter(pk=pk, reminder_at=reminder_at).update(reminder_at=following):
                continue
            item = ActionItem.objects.select_related("owner", "post_mortem").get(pk=pk)
            day = to_local(now).date()
            late = (day - item.due_date).days
            notify(
                kind="action_item.overdue",
                subject=f"Overdue action item: {item.description[:120]}",
                body=f"Due {item.due_date:%Y-%m-%d} ({late} day(s) ago), from the post-mortem "
                f"'{item.post_mortem.title}'.\nMark it done or reschedule it: "
                f"{conf.base_url()}/oncall/postmortems/{item.post_mortem_id}/",
                recipients=emails_of(item.owner), dedupe_key=f"action-item-{pk}-overdue-{day:%Y-%m-%d}",
                target=item,
            )
            audit_record(action="action_item.reminded", target=item, changes={"due_date": item.due_date})
            sent += 1
    return sent
