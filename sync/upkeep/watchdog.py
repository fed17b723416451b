"""Baserow watchdog: Baserow switches a webhook off after repeated failed deliveries and drops what
happens meanwhile (contracts/README.md 2.3). With admin credentials on the connection, a schedule
re-enables our switched-off webhooks, audits it, notifies admins and starts a reconciliation to
recover what was dropped. Without them, the console flags a table silent for too long instead."""

from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.models import AuditEntry
from formation_hub.notifications import notify
from sync import conf
from sync.clients.errors import ServiceError
from sync.clients.factory import baserow_client
from sync.models import BaserowConnection, TableMapping
from sync.upkeep.reconciliation import reconciliation_run

ACTOR = "sync-watchdog"


def baserow_webhooks_watch() -> str:
    connection = BaserowConnection.objects.first()
    if connection is None:
        return "no Baserow connection"
    client = baserow_client(connection)
    if not client.has_admin_credentials:
        return "no Baserow admin credentials: the console flags silent tables instead"
    marker = conf.webhook_url_marker()
    reenabled = []
    try:
        for mapping in TableMapping.objects.filter(enabled=True).order_by("baserow_table_id"):
            for webhook in client.list_webhooks(mapping.baserow_table_id):
                if webhook.get("active", True) or marker not in str(webhook.get("url") or ""):
                    continue
                client.enable_webhook(webhook["id"])
                reenabled.append((mapping, webhook))
                audit_record(
                    action="sync.webhook.reenabled", target=mapping, actor_label=ACTOR,
                    changes={"webhook_id": webhook["id"], "url": webhook.get("url")},
                    message=f"Baserow webhook {webhook['id']} of {mapping.logical_table} was switched off; re-enabled",
                )
    except ServiceError as error:
        audit_record(action="sync.watchdog.failed", actor_label=ACTOR, result=AuditEntry.Result.FAILED,
                     message=f"could not check the Baserow webhooks: {error}")
        return f"check failed: {error}"
    if not reenabled:
        return "every webhook active"
    names = ", ".join(f"{mapping.logical_table} (webhook {webhook['id']})" for mapping, webhook in reenabled)
    run = reconciliation_run(dry_run=False, trigger="watchdog", actor_label=ACTOR)
    notify(
        kind="sync.webhook_reenabled", target=run,
        dedupe_key=f"sync.webhook-reenabled:{run.pk}",
        subject=f"[sync] Baserow had switched off {len(reenabled)} webhook(s); re-enabled",
        body=(
            f"Baserow switched off the webhook(s) of {names} after repeated failed deliveries; what changed "
            f"meanwhile was not sent. They were re-enabled at {timezone.now():%H:%M} UTC and a reconciliation "
            f"queued {len(run.rows_found)} row(s) to bring back in step: rows without a Docmost page, rows "
            "updated or deleted while the webhook was off (their page title, icon or archive follow)."
        ),
    )
    return f"re-enabled {names}; reconciliation #{run.pk}"
