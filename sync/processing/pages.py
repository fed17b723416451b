"""The Docmost page of a Baserow row: create it once, keep its title and icon in step, archive and
restore it. Every function is idempotent: the PageLink (and, after a lost answer, the marker the
bridge puts on the page) tells what was already done.

Archiving: Docmost has no archive, only a trash (soft delete, restorable, but emptied after a while
and invisible in the page tree). A row deleted in Baserow therefore leaves its page where it is,
visibly archived: the title gets the configured prefix ("[Archivé] ") and the icon the archive icon.
Nothing is deleted, and restoring the row (Baserow's trash sends `rows.created` with the old id) puts
the title and icon back.
"""

import html
import threading
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.hot_sql import delete_where, first_where, insert_instances, insert_rows
from sync import conf
from sync.clients.baserow import BaserowClient
from sync.clients.docmost import DocmostClient
from sync.clients.errors import NotFound
from sync.models import BaserowConnection, DocmostConnection, Event, PageCreation, PageLink, TableMapping

ACTOR = "sync-rules"


@dataclass(frozen=True)
class PageSpec:
    """What the page of a row should look like."""

    title: str
    icon: str
    space_id: str
    content: str = ""  # HTML (template_body)
    parent_page_id: str | None = None

    @property
    def state(self) -> dict:
        return {"title": self.title, "icon": self.icon}


def row_marker(table_id: int, row_id: int) -> str:
    """The marker written at the end of the page body, to find the page again after a lost answer."""
    return f"baserow/{table_id}/{row_id}"


def template_body(docmost: DocmostClient, template_page_id: str, values: dict[str, str]) -> str:
    """The template page's body as HTML, with {{name}} placeholders filled in ('' without template).

    HTML, not markdown: Docmost 0.95 exports a table to markdown with an empty header row and the real
    header demoted, so every markdown round trip adds a blank row (contracts/REAL-PEERS.md point 1).
    The values are escaped: a client named "A & B <Conseil>" stays text.
    """
    if not template_page_id:
        return ""
    body = _template_content(docmost, template_page_id, "html")
    for name, value in values.items():
        body = body.replace("{{" + name + "}}", html.escape(value, quote=False))
    return body


# page id and format -> (content, monotonic time read)
_templates: dict[tuple[str, str], tuple[str, float]] = {}
_templates_lock = threading.Lock()


def _template_content(docmost: DocmostClient, page_id: str, content_format: str) -> str:
    """The template page's content, read again once SYNC_TEMPLATE_CACHE_SECONDS have passed (an edited
    template reaches new pages within that delay, or at once after `templates_forget`)."""
    key = (page_id, content_format)
    with _templates_lock:
        kept = _templates.get(key)
    if kept is not None and time.monotonic() - kept[1] < conf.template_cache_seconds():
        return kept[0]
    content = str(docmost.page_info(page_id, format=content_format).get("content") or "")
    with _templates_lock:
        _templates[key] = (content, time.monotonic())
    return content


def templates_forget() -> None:
    """Drop the kept template bodies (tests; a template just edited)."""
    with _templates_lock:
        _templates.clear()


def page_ensure(
    *,
    docmost: DocmostClient,
    event: Event,
    mapping: TableMapping,
    row_id: int,
    spec: PageSpec,
    parent: PageLink | None = None,
) -> tuple[PageLink, str]:
    """The row's page, created when it has none, restored when it was archived: (link, what was done)."""
    link = first_where(PageLink, baserow_table_id=mapping.baserow_table_id, row_id=row_id)
    if link is not None and link.archived_at is None:
        return link, "page already exists"
    if link is not None:
        _write_title(docmost, link, spec)
        link.archived_at = None
        link.save(update_fields=["archived_at", "synced_state", "updated_at"])
        _audit(event, "sync.page.restored", link, f"page {link.page_id} restored (row back from Baserow's trash)")
        return link, "archived page restored"
    since = _creation_started(mapping.baserow_table_id, row_id)
    page, created = docmost.create_page_once(
        space_id=spec.space_id, title=spec.title, marker=row_marker(mapping.baserow_table_id, row_id),
        icon=spec.icon or None, parent_page_id=spec.parent_page_id, content=spec.content, format="html",
        since=since, never_sent=since is None,
    )
    link = PageLink(
        baserow_table_id=mapping.baserow_table_id, row_id=row_id, logical_table=mapping.logical_table,
        page_id=page["id"], page_slug_id=page.get("slugId") or "", parent=parent, synced_state=spec.state,
    )
    with transaction.atomic():
        insert_instances([link])
        delete_where(PageCreation, baserow_table_id=mapping.baserow_table_id, row_id=row_id)
    what = "page created" if created else "page found by its marker (an earlier create got no answer)"
    _audit(event, "sync.page.created" if created else "sync.page.found", link, f"{what}: {spec.title}")
    return link, what


def _creation_started(table_id: int, row_id: int):
    """When an earlier create of this row's page was sent (None for a first attempt, recorded now).

    The record is committed before the create is sent (rule handlers run in autocommit): the create's
    answer may be lost, and the next attempt then looks for the page among every page changed since.
    A first attempt costs one INSERT; the unique row key tells a later attempt that one was sent.
    """
    started = {"baserow_table_id": table_id, "row_id": row_id, "started_at": timezone.now()}
    if insert_rows(PageCreation, [started], on_conflict_nothing=True):
        return None
    earlier = PageCreation.objects.filter(baserow_table_id=table_id, row_id=row_id).first()
    return earlier.started_at if earlier is not None else timezone.now()


def page_update_title(*, docmost: DocmostClient, event: Event, link: PageLink, spec: PageSpec) -> bool:
    """Write the title and icon when they differ from what was last synced; False when nothing to do."""
    if link.archived_at is not None or link.synced_state == spec.state:
        return False
    before = dict(link.synced_state)
    _write_title(docmost, link, spec)
    link.save(update_fields=["synced_state", "updated_at"])
    _audit(event, "sync.page.updated", link, f"title/icon {before} -> {spec.state}")
    return True


def page_archive(*, docmost: DocmostClient, connection: DocmostConnection, event: Event, link: PageLink) -> bool:
    """Mark the page archived (title prefix and icon), never delete it; False when already archived."""
    if link.archived_at is not None:
        return False
    title = link.synced_state.get("title") or ""
    try:
        docmost.update_page(link.page_id, title=f"{connection.archive_title_prefix}{title}",
                            icon=connection.archive_icon)
    except NotFound:
        note = "the page no longer exists in Docmost (deleted there); link marked archived"
    else:
        note = f"page {link.page_id} archived as '{connection.archive_title_prefix}{title}'"
    link.archived_at = timezone.now()
    link.save(update_fields=["archived_at", "updated_at"])
    _audit(event, "sync.page.archived", link, note)
    return True


def row_write_back_page_id(
    *, baserow: BaserowClient, connection: BaserowConnection, event: Event, mapping: TableMapping, row: dict,
    page_id: str,
) -> bool:
    """Write the page id into the row (without firing webhooks unless configured); False when it is there."""
    field = mapping.field_name("docmost_page_id")
    if row.get(field) == page_id:
        return False
    baserow.update_row(mapping.baserow_table_id, row["id"], {field: page_id},
                       send_webhook_events=connection.send_webhook_events_on_write)
    audit_record(
        action="sync.row.written_back", target=event, actor_label=ACTOR,
        changes={"table": mapping.baserow_table_id, "row_id": row["id"], field: page_id,
                 "send_webhook_events": connection.send_webhook_events_on_write},
        message=f"page id written into {mapping.logical_table} row {row['id']}",
    )
    return True


def _write_title(docmost: DocmostClient, link: PageLink, spec: PageSpec) -> None:
    docmost.update_page(link.page_id, title=spec.title, icon=spec.icon)
    link.synced_state = spec.state


def _audit(event: Event, action: str, link: PageLink, message: str) -> None:
    audit_record(
        action=action, target=event, actor_label=ACTOR,
        changes={"table": link.baserow_table_id, "row_id": link.row_id, "page_id": link.page_id},
        message=message,
    )
