"""Pages: the primary on call is paged at once; the backup when nobody acknowledges in time; the admins
when the backup does not either. Each step is an e-mail and, when PAGER_WEBHOOK_URL is set, a pager call
(ntfy or a PagerDuty-compatible events API).

The escalation time is stored on the page row (`escalate_at`) and the one-minute sweep claims due
pages with a conditional update, so a late or repeated sweep escalates each page exactly once.
"""

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.console.timefmt import format_local
from formation_hub.errors import DomainError
from formation_hub.notifications import notify, notify_pager
from incidents import conf
from incidents.models import Incident, Page, TimelineEntry
from incidents.oncall.rotation import on_call_at
from incidents.permissions import require_responder
from incidents.timeline import timeline_add

PAGER_KIND = "incident.page.pager"
ACTIVE_STATES = (Page.State.PAGED, Page.State.ESCALATED, Page.State.ESCALATED_ADMINS)


def _recipients(user) -> list[str] | None:
    """The person's address; None sends to OPS_ADMIN_EMAILS so a page never reaches nobody."""
    return [user.email] if user is not None and user.email else None


def _page_text(page: Page, role: str) -> str:
    link = conf.base_url() + reverse("incidents:page", args=[page.pk])
    lines = [page.body, "", f"You are paged as the {role} on call.", f"Acknowledge: {link}"]
    if role == "primary" and page.escalate_at:
        lines.append(f"Not acknowledged by {format_local(page.escalate_at, '%H:%M')}, the backup is paged.")
    return "\n".join(line for line in lines if line is not None)


@transaction.atomic
def page_send(*, subject: str, body: str, dedupe_key: str, incident: Incident | None = None) -> Page:
    """Page the primary on call now and schedule the escalation; the same key never pages twice."""
    existing = Page.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    now = timezone.now()
    who = on_call_at(now)
    page = Page(
        dedupe_key=dedupe_key, subject=subject[:250], body=body, incident=incident, primary=who.primary,
        backup=who.backup, paged_at=now, escalate_at=now + conf.page_escalation_delay(),
    )
    try:
        with transaction.atomic():
            page.save()
    except IntegrityError:
        return Page.objects.get(dedupe_key=dedupe_key)
    notify(
        kind="incident.page", subject=f"[PAGE] {subject}", body=_page_text(page, "primary"),
        recipients=_recipients(who.primary), dedupe_key=f"page:{dedupe_key}:primary", target=page,
    )
    notify_pager(kind=PAGER_KIND, subject=f"[PAGE] {subject} - primary: {who.primary or 'nobody'}",
                 body=_page_text(page, "primary"), dedupe_key=f"page:{dedupe_key}:pager:primary", target=page)
    audit_record(
        action="oncall.paged", target=page,
        changes={"primary": str(who.primary or ""), "backup": str(who.backup or ""), "escalate_at": page.escalate_at},
        message="" if who.primary else "Nobody is primary on call: paged the ops admins.",
    )
    if incident is not None:
        timeline_add(
            incident=incident, kind=TimelineEntry.Kind.PAGE,
            text=f"Paged {who.primary or 'the ops admins (nobody on call)'} as primary; "
            f"backup {who.backup or '-'} is paged if not acknowledged within "
            f"{int(conf.page_escalation_delay().total_seconds() // 60)} min.",
        )
    return page


def oncall_page(*, subject: str, body: str, dedupe_key: str) -> None:
    """Page the current primary on call (through formation_hub.notifications); escalate to the backup
    if nobody acknowledges within ONCALL_ESCALATION_MINUTES. Idempotent per dedupe_key."""
    page_send(subject=subject, body=body, dedupe_key=dedupe_key)


@transaction.atomic
def page_acknowledge(*, page: Page, user) -> Page:
    require_responder(user)
    page = Page.objects.select_for_update().get(pk=page.pk)
    if page.state == Page.State.ACKNOWLEDGED:
        raise DomainError(
            f"This page was already acknowledged by {page.acknowledged_by or 'someone'} "
            f"at {format_local(page.acknowledged_at, '%H:%M')}."
        )
    _acknowledge(page, user, timezone.now())
    if page.incident is not None:
        timeline_add(incident=page.incident, kind=TimelineEntry.Kind.ACK, user=user, text="Page acknowledged.")
    return page


def _acknowledge(page: Page, user, now) -> None:
    if isinstance(user, AnonymousUser):
        user = None
    page.state, page.acknowledged_at, page.acknowledged_by, page.escalate_at = (
        Page.State.ACKNOWLEDGED, now, user, None
    )
    page.save(update_fields=["state", "acknowledged_at", "acknowledged_by", "escalate_at"])
    audit_record(action="oncall.page_acknowledged", target=page, actor=user)
    notify_pager(kind=f"{PAGER_KIND}.ack", subject=f"[ACK] {page.subject} - acknowledged by {user or 'someone'}",
                 body=f"Acknowledged at {format_local(now, '%H:%M')}.", dedupe_key=f"page:{page.dedupe_key}:pager:ack",
                 target=page)


@transaction.atomic
def page_close(*, dedupe_key: str, user, why: str) -> bool:
    """Acknowledge the page of dedupe_key if it still waits (what it was about is settled); True if one did."""
    page = Page.objects.select_for_update().filter(dedupe_key=dedupe_key, state__in=ACTIVE_STATES).first()
    if page is None:
        return False
    _acknowledge(page, user, timezone.now())
    audit_record(action="oncall.page_closed", target=page, actor=user if not isinstance(user, AnonymousUser) else None,
                 message=why)
    return True


def pages_acknowledge_for_incident(*, incident: Incident, user, now) -> int:
    pages = list(Page.objects.select_for_update().filter(incident=incident, state__in=ACTIVE_STATES))
    for page in pages:
        _acknowledge(page, user, now)
    return len(pages)


def pages_escalate_due(now=None) -> int:
    """Page the backup for every page not acknowledged by its escalate_at; each page escalates once."""
    now = now or timezone.now()
    escalated = 0
    due = Page.objects.filter(state=Page.State.PAGED, escalate_at__lte=now).values_list("pk", flat=True)[:200]
    for page_id in due:
        with transaction.atomic():
            claimed = Page.objects.filter(pk=page_id, state=Page.State.PAGED).update(
                state=Page.State.ESCALATED, escalated_at=now
            )
            if not claimed:
                continue
            page = Page.objects.select_related("backup", "incident").get(pk=page_id)
            backup = page.backup or on_call_at(now).backup
            notify(
                kind="incident.page", subject=f"[PAGE - ESCALATED] {page.subject}", body=_page_text(page, "backup"),
                recipients=_recipients(backup), dedupe_key=f"page:{page.dedupe_key}:backup", target=page,
            )
            notify_pager(kind=PAGER_KIND, subject=f"[PAGE - ESCALATED] {page.subject} - backup: {backup or 'nobody'}",
                         body=_page_text(page, "backup"), dedupe_key=f"page:{page.dedupe_key}:pager:backup",
                         target=page)
            audit_record(
                action="oncall.escalated", target=page, changes={"backup": str(backup or "")},
                message=f"Not acknowledged by {format_local(page.escalate_at, '%H:%M')}.",
            )
            if page.incident is not None:
                timeline_add(
                    incident=page.incident, kind=TimelineEntry.Kind.PAGE,
                    text=f"Not acknowledged in time: paged the backup {backup or '(nobody: ops admins)'}.",
                )
            escalated += 1
    return escalated + _escalate_past_backup(now)


def _escalate_past_backup(now) -> int:
    """Neither the primary nor the backup answered: the admins are paged (e-mail and pager), once."""
    limit = now - conf.page_final_escalation_delay()
    due = Page.objects.filter(state=Page.State.ESCALATED, escalated_at__lte=limit).values_list("pk", flat=True)[:200]
    escalated = 0
    for page_id in due:
        with transaction.atomic():
            if not Page.objects.filter(pk=page_id, state=Page.State.ESCALATED).update(
                state=Page.State.ESCALATED_ADMINS
            ):
                continue
            page = Page.objects.select_related("incident").get(pk=page_id)
            subject = f"[PAGE - NOBODY ANSWERED] {page.subject}"
            body = _page_text(page, "last resort (admins): neither the primary nor the backup acknowledged")
            notify(kind="incident.page", subject=subject, body=body, dedupe_key=f"page:{page.dedupe_key}:admins",
                   target=page)
            notify_pager(kind=PAGER_KIND, subject=subject, body=body,
                         dedupe_key=f"page:{page.dedupe_key}:pager:admins", target=page)
            audit_record(action="oncall.escalated_to_admins", target=page,
                         message=f"Backup paged at {format_local(page.escalated_at, '%H:%M')} did not acknowledge.")
            if page.incident is not None:
                timeline_add(incident=page.incident, kind=TimelineEntry.Kind.PAGE,
                             text="The backup did not acknowledge either: paged the admins.")
            escalated += 1
    return escalated


def active_pages_for(user) -> list[Page]:
    """Pages that reached this person: as primary, or as backup once escalated to them (not before).
    Each carries `you_as` and `you_paged_at`, the time this person was paged."""
    pages = list(
        Page.objects.filter(
            Q(primary=user, state__in=ACTIVE_STATES) | Q(backup=user, state=Page.State.ESCALATED)
        ).select_related("incident")[:20]
    )
    for page in pages:
        as_backup = page.backup_id == user.pk and page.state == Page.State.ESCALATED and page.primary_id != user.pk
        page.you_as = "backup" if as_backup else "primary"
        page.you_paged_at = page.escalated_at if as_backup else page.paged_at
    return pages
