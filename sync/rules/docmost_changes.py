"""Rules for what the Docmost poll finds: a compte-rendu page -> a comptes_rendus row; a public share
-> an audit entry and an alert to admins (a data-leak risk)."""

from formation_hub.audit import audit_record
from formation_hub.models import AuditEntry
from formation_hub.notifications import notify
from sync.clients.factory import baserow_client, baserow_connection, docmost_connection
from sync.models import EventItem, LogicalTable, PageLink
from sync.processing.routing import DOCMOST_TABLE, IgnoreItem, rule
from sync.processing.rows import mapping_for

ACTOR = "sync-rules"


def is_compte_rendu(page: dict, connection) -> bool:
    """Created from the compte-rendu template: under the configured parent page or with the title prefix."""
    if connection.compte_rendu_parent_page_id and page.get("parentPageId") == connection.compte_rendu_parent_page_id:
        return True
    prefix = connection.compte_rendu_title_prefix
    return bool(prefix) and str(page.get("title") or "").startswith(prefix)


@rule(DOCMOST_TABLE, "page.created", services=("baserow",))
def record_compte_rendu(item: EventItem, mapping) -> str:
    """A comptes_rendus row for the page, once (found again by its page id after a lost answer)."""
    page = item.data or {}
    connection = docmost_connection()
    if not is_compte_rendu(page, connection):
        raise IgnoreItem("not a compte-rendu page")
    table = mapping_for(LogicalTable.COMPTES_RENDUS)
    link = PageLink.objects.filter(baserow_table_id=table.baserow_table_id, page_id=page["id"]).first()
    if link is not None:
        raise IgnoreItem(f"comptes_rendus row {link.row_id} already exists for this page")
    baserow = baserow_client()
    page_field = table.field_name("docmost_page_id")
    found = baserow.list_rows(table.baserow_table_id, size=1, filters={f"filter__{page_field}__equal": page["id"]})
    if found.results:
        row, what = found.results[0], "row found (an earlier create got no answer)"
    else:
        title = str(page.get("title") or "")
        prefix = connection.compte_rendu_title_prefix
        values = {
            table.field_name("titre"): title[len(prefix):] if prefix and title.startswith(prefix) else title,
            page_field: page["id"],
            table.field_name("date"): str(page.get("createdAt") or "")[:10] or None,
        }
        row = baserow.create_row(table.baserow_table_id, values,
                                 send_webhook_events=baserow_connection().send_webhook_events_on_write)
        what = "row created"
    PageLink.objects.create(baserow_table_id=table.baserow_table_id, row_id=row["id"],
                            logical_table=LogicalTable.COMPTES_RENDUS, page_id=page["id"],
                            page_slug_id=page.get("slugId") or "", synced_state={"title": page.get("title")})
    audit_record(
        action="sync.compte_rendu.recorded", target=item.event, actor_label=ACTOR,
        changes={"page_id": page["id"], "row_id": row["id"]},
        message=f"comptes_rendus {what}: {page.get('title')}",
    )
    return f"comptes_rendus {what} ({row['id']})"


def _linked_sub_pages(page_id: str) -> list[PageLink]:
    """The bridge's pages below `page_id` (course blocks under their course page), all levels down."""
    found, parents = [], [page_id]
    while parents and len(found) < 200:
        children = list(PageLink.objects.filter(parent__page_id__in=parents).order_by("row_id"))
        found += children
        parents = [child.page_id for child in children]
    return found


@rule(DOCMOST_TABLE, "share.created", services=())
def alert_public_share(item: EventItem, mapping) -> str:
    """One audit entry and one alert per share. A share that includes sub-pages makes each of them
    public through the shared page (Docmost answers `shares/for-page` of a sub-page with the parent's
    share, `level` > 0): the alert names the sub-pages the bridge made under it and that parent."""
    share = item.data or {}
    page = share.get("page") or {}
    space = share.get("space") or {}
    creator = (share.get("creator") or {}).get("name") or share.get("creatorId") or "someone"
    title = page.get("title") or share.get("pageId")
    sub_pages = _linked_sub_pages(share.get("pageId") or "") if share.get("includeSubPages") else []
    sub_titles = [link.synced_state.get("title") or link.page_id for link in sub_pages]
    audit_record(
        action="sync.docmost.public_share", target=item.event, actor_label=ACTOR, result=AuditEntry.Result.FAILED,
        changes={"share_id": share.get("id"), "key": share.get("key"), "page_id": share.get("pageId"),
                 "space": space.get("slug"), "creator": creator, "include_sub_pages": share.get("includeSubPages"),
                 "public_sub_pages": [link.page_id for link in sub_pages]},
        message=f"public share of '{title}' created by {creator}"
                + (f"; {len(sub_pages)} sub-page(s) public through it" if sub_pages else ""),
    )
    if share.get("includeSubPages"):
        through = (
            "\nIts sub-pages are public through it"
            + (": " + ", ".join(f"'{sub}' (public through its parent '{title}')" for sub in sub_titles)
               if sub_titles else " (the bridge made none under it)")
            + "."
        )
    else:
        through = ""
    notify(
        kind="sync.public_share", target=item.event, dedupe_key=f"sync.share:{share.get('id')}",
        subject=f"[sync] Docmost page shared publicly: {title}",
        body=(
            f"{creator} made the Docmost page '{title}' (space {space.get('name') or space.get('slug')}) public "
            f"with share key {share.get('key')}{' including its sub-pages' if share.get('includeSubPages') else ''}."
            f"{through}"
            "\nAnyone with the link can read it. If this page holds client or personal data, remove the share "
            "in Docmost (page menu > Share) and record why in the incident log."
        ),
    )
    return f"public share of '{title}' audited, admins alerted"
