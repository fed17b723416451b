"""The Dependabot webhook: a pull request opened, updated or closed becomes a bump (or a grouped update),
its versions change, or it is closed or recorded as merged."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from formation_hub import inbound
from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from formation_hub.gates.decisions import gate_void, pending_gate
from formation_hub.models import AuditEntry
from formation_hub.notifications import notify
from releases.delivery import dependabot
from releases.delivery.bump_queue import bump_lock, group_members, group_path_set
from releases.delivery.bump_services import (
    BUMP_GATES,
    Intake,
    State,
    bump_close_locked,
    bump_create,
    bump_update_versions,
    merge_blockers,
    merged_record,
    path_start,
    recategorise,
)
from releases.models import BumpWebhookDelivery, DependencyBump


@transaction.atomic
def bump_pull_request_closed(*, bump: DependencyBump, merged: bool) -> DependencyBump:
    """The pull request was merged or closed on the forge: follow it (a queued bump frees nothing)."""
    bump = bump_lock(bump)
    if bump.state in DependencyBump.FINAL_STATES:
        return bump
    if merged:
        audit_record(action="bump.merged_on_forge", target=bump, actor_label="releases:webhook")
        blockers = merge_blockers(bump)
        if blockers:
            _flag_merged_outside_gates(bump, blockers)
        merged_record(bump, None)
        for gate_type in BUMP_GATES:
            gate = pending_gate(target=bump, gate_type=gate_type)
            if gate is not None:
                gate_void(gate=gate, reason="pull request merged on the forge")
    else:
        bump_close_locked(bump, None, "pull request closed on the forge")
    return bump


def _flag_merged_outside_gates(bump: DependencyBump, blockers: list[str]) -> None:
    """Someone merged on the forge what formation-hub held back (a bypassed required check, Friday evening):
    recorded as what it is, not as a normal merge, and admins are told."""
    text = " ".join(blockers)
    bump.merged_outside_gates = text[:500]
    bump.save(update_fields=["merged_outside_gates"])
    audit_record(action="bump.merged_outside_gates", target=bump, actor_label="releases:webhook",
                 result=AuditEntry.Result.REFUSED, changes={"blockers": blockers}, message=text)
    notify(kind="bump.merged_outside_gates", subject=f"{bump} was merged on the forge against the rules",
           body=f"The pull request {bump.pull_request_url} was merged on the forge while formation-hub said:\n"
                f"{text}\n\nCheck what shipped and whether to revert.", dedupe_key=f"bump-outside-gates:{bump.pk}",
           target=bump)


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: dict


REFUSAL_SOURCE = "dependabot"


ACCEPTED_OUTCOMES = (BumpWebhookDelivery.Outcome.CREATED, BumpWebhookDelivery.Outcome.DUPLICATE,
                     BumpWebhookDelivery.Outcome.UPDATED, BumpWebhookDelivery.Outcome.IGNORED)


def _finish(delivery: BumpWebhookDelivery, outcome: str, message: str = "", bump=None, error: str = "") -> None:
    delivery.outcome, delivery.bump = outcome, bump
    delivery.message, delivery.error = inbound.without_nul(message), inbound.without_nul(error)
    delivery.save(update_fields=["outcome", "message", "error", "bump"])


def _refuse(reason: str, *, status: int, remote_addr: str) -> None:
    """Count the call and answer; nothing is stored, so neither a stranger nor a replay fills the database."""
    inbound.refusal_record(source=REFUSAL_SOURCE, reason=reason, remote_addr=remote_addr)
    raise inbound.InboundRefused(reason, status=status)


def _replay_problem(*, source: str, delivery_id: str, digest: str, pull_request_url: str, updated) -> str:
    """Why a signed delivery is a replay, or ''. The delivery id is a header, outside the signature, so the
    body's hash and the pull request's updated_at are checked too: an old signed body sent again must never
    roll a bump back (issue 17, point 10)."""
    deliveries = BumpWebhookDelivery.objects.all()
    if delivery_id and deliveries.filter(source=source, delivery_id=delivery_id).exists():
        return f"Delivery {delivery_id} was already received: a repeated delivery is refused."
    if deliveries.filter(body_sha256=digest).exists():
        return "This exact body was already received: a repeated delivery is refused."
    if not pull_request_url:
        return ""
    last = (deliveries.filter(pull_request_url=pull_request_url, outcome__in=ACCEPTED_OUTCOMES,
                              pull_request_updated_at__isnull=False)
            .order_by("-pull_request_updated_at").values_list("pull_request_updated_at", flat=True).first())
    if last is not None and (updated is None or updated < last):
        return (f"This delivery describes {pull_request_url} as of {updated or 'an unknown time'}, older than the "
                f"last one accepted ({last.isoformat()}): it is refused so the bump never goes back.")
    return ""


def _pull_request_of(body: bytes) -> tuple[dict | None, dict | None, str]:
    """(payload, pull_request, why not) of a signed body; a body that is not JSON is ignored, not an error."""
    try:
        payload = inbound.json_parse(body) if body else None
    except inbound.InboundRefused as refused:
        return None, None, f"Not a pull-request event: {refused.message}"
    pull_request = payload.get("pull_request") if isinstance(payload, dict) else None
    if not isinstance(pull_request, dict):
        return payload, None, "Not a pull-request event: the body has no pull_request object."
    return payload, pull_request, ""


def pull_request_webhook_receive(*, body: bytes, headers, remote_addr: str = "") -> WebhookAnswer:
    """Check the signature, refuse replays, store the delivery, then create (once per pull request) or
    close the bump it names. Refusals raise formation_hub.inbound.InboundRefused (the JSON answer)."""
    signature = dependabot.signature_check(body=body, headers=headers)
    if not signature.valid:
        _refuse(signature.problem, status=401, remote_addr=remote_addr)
    source = signature.provider
    event = inbound.without_nul(headers.get(dependabot.EVENT_HEADERS.get(source, "X-GitHub-Event"), ""))[:60]
    delivery_id = inbound.without_nul(
        headers.get(dependabot.DELIVERY_HEADERS.get(source, "X-GitHub-Delivery"), ""))[:100]
    digest = hashlib.sha256(body).hexdigest()
    payload, pull_request, not_a_pull_request = _pull_request_of(body)
    url = str(pull_request.get("html_url") or "").strip()[:500] if pull_request else ""
    updated = dependabot.updated_at(pull_request) if pull_request else None
    problem = _replay_problem(source=source, delivery_id=delivery_id, digest=digest,
                              pull_request_url=inbound.without_nul(url), updated=updated)
    if problem:
        _refuse(problem, status=409, remote_addr=remote_addr)
    with transaction.atomic():
        return _store_and_act(
            body, headers, source=source, event=event, delivery_id=delivery_id, digest=digest, payload=payload,
            pull_request=pull_request, url=url, updated=updated, not_a_pull_request=not_a_pull_request,
        )


def _store_and_act(body: bytes, headers, *, source, event, delivery_id, digest, payload, pull_request, url, updated,
                   not_a_pull_request) -> WebhookAnswer:
    """One transaction: a database failure halfway stores nothing, so the forge's retry is not a replay."""
    delivery = BumpWebhookDelivery.objects.create(
        source=source, event=event, delivery_id=delivery_id, body_sha256=digest, signature_valid=True,
        raw_body=inbound.raw_text(body), pull_request_url=inbound.without_nul(url), pull_request_updated_at=updated,
        headers=inbound.evidence_headers(headers, prefixes=("x-github-", "x-forgejo-", "x-gitea-", "x-hub-")),
    )
    if event == "ping":
        _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, "ping")
        return WebhookAnswer(200, {"ignored": "ping"})
    if pull_request is None:
        _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, not_a_pull_request)
        return WebhookAnswer(200, {"ignored": not_a_pull_request})
    return _pull_request_receive(delivery, payload, pull_request)


def _pull_request_receive(delivery: BumpWebhookDelivery, payload: dict, pull_request: dict) -> WebhookAnswer:
    if not dependabot.is_dependabot(pull_request):
        message = "Not a Dependabot pull request (author dependabot[bot] or branch dependabot/...)."
        _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, message)
        return WebhookAnswer(200, {"ignored": message})
    action = str(payload.get("action", ""))
    try:
        found = dependabot.bump_requests_from(pull_request)
        request = found.bumps[0]
        if action == "closed":
            return _pull_request_closed(delivery, request, merged=bool(pull_request.get("merged")))
        if action not in dependabot.OPENING_ACTIONS:
            message = f"Action '{action}' changes no bump."
            _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, message)
            return WebhookAnswer(200, {"ignored": message})
        if found.group:
            return _group_receive(delivery, found)
        known = DependencyBump.objects.filter(pull_request_url=request.pull_request_url).first()
        if known is not None and (known.from_version, known.to_version) != (request.from_version, request.to_version):
            bump = bump_update_versions(bump=known, from_version=request.from_version,
                                        to_version=request.to_version)
            _finish(delivery, BumpWebhookDelivery.Outcome.UPDATED, f"versions now {bump.subject}", bump)
            return WebhookAnswer(200, {"id": bump.pk, "created": False, "category": bump.category,
                                       "state": bump.state})
        intake = bump_create(
            package=request.package, ecosystem=request.ecosystem, from_version=request.from_version,
            to_version=request.to_version, advisories=request.advisories, severity=request.severity,
            scope=request.scope, source=DependencyBump.Source.DEPENDABOT, pull_request_url=request.pull_request_url,
        )
    except DomainError as error:
        _finish(delivery, BumpWebhookDelivery.Outcome.REFUSED, error=error.message)
        audit_record(action="bump.webhook_refused", target=delivery, actor_label=f"releases:{delivery.source}",
                     result=AuditEntry.Result.REFUSED, message=error.message)
        return WebhookAnswer(422, {"error": error.message})
    bump = intake.bump
    outcome = BumpWebhookDelivery.Outcome.CREATED if intake.created else BumpWebhookDelivery.Outcome.DUPLICATE
    _finish(delivery, outcome, str(bump), bump)
    return WebhookAnswer(201 if intake.created else 200, {
        "id": bump.pk, "created": intake.created, "category": bump.category, "state": bump.state,
    })


def _group_receive(delivery: BumpWebhookDelivery, found: dependabot.PullRequestBumps) -> WebhookAnswer:
    """A grouped update: one bump per package, led by the first, with one gate for the group."""
    lead, *others = found.bumps
    known = DependencyBump.objects.filter(pull_request_url=lead.pull_request_url).first()
    if known is not None:
        changed = bump_group_update_versions(lead=known, versions=[(bump.package, bump.from_version,
                                                                     bump.to_version) for bump in found.bumps])
        outcome = BumpWebhookDelivery.Outcome.UPDATED if changed else BumpWebhookDelivery.Outcome.DUPLICATE
        intake = Intake(DependencyBump.objects.get(pk=known.pk), False)
    else:
        intake = bump_create(
            package=lead.package, ecosystem=lead.ecosystem, from_version=lead.from_version,
            to_version=lead.to_version, advisories=lead.advisories, severity=lead.severity, scope=lead.scope,
            source=DependencyBump.Source.DEPENDABOT, pull_request_url=lead.pull_request_url,
            group_name=found.group,
            group_members=[(bump.package, bump.from_version, bump.to_version) for bump in others],
        )
        outcome = BumpWebhookDelivery.Outcome.CREATED if intake.created else BumpWebhookDelivery.Outcome.DUPLICATE
    bump = intake.bump
    ids = [bump.pk, *bump.group_members.order_by("id").values_list("pk", flat=True)]
    _finish(delivery, outcome, bump.subject, bump)
    return WebhookAnswer(201 if intake.created else 200, {
        "id": bump.pk, "created": intake.created, "category": bump.category, "state": bump.state,
        "group": bump.group_name, "bumps": ids,
    })


@transaction.atomic
def bump_group_update_versions(*, lead: DependencyBump, versions: Sequence[tuple[str, str, str]]) -> bool:
    """A grouped pull request rebased on newer versions: each package's bump follows (its category computed
    again), and the group's gate, asked on the old versions, is void and asked again. True if anything changed.
    Packages added to the group later are not taken in: record them through POST /api/bumps/."""
    lead = bump_lock(lead)
    bumps = {bump.package: bump for bump in [*group_members(lead), lead]}
    changed = False
    for package, from_version, to_version in sorted(versions, key=lambda version: version[0] == lead.package):
        bump = bumps.get(package)
        if bump is None or (bump.from_version, bump.to_version) == (from_version, to_version):
            continue
        recategorise(bump, None, action="bump.versions_changed", from_version=from_version, to_version=to_version)
        changed = True
    if not changed:
        return False
    lead.refresh_from_db()
    group_path_set(lead, None)
    stale = [gate for gate in (pending_gate(target=lead, gate_type=name) for name in BUMP_GATES)
             if gate is not None and gate.subject != lead.subject]
    for gate in stale:
        gate_void(gate=gate, reason=f"the group moved on: {lead.subject}")
    if stale and lead.state == State.OPEN:
        path_start(lead, None)
    return True


def _pull_request_closed(delivery, request, *, merged: bool) -> WebhookAnswer:
    bump = DependencyBump.objects.filter(pull_request_url=request.pull_request_url).first()
    if bump is None:
        _finish(delivery, BumpWebhookDelivery.Outcome.IGNORED, "Closed pull request with no bump.")
        return WebhookAnswer(200, {"ignored": "no bump for this pull request"})
    bump = bump_pull_request_closed(bump=bump, merged=merged)
    _finish(delivery, BumpWebhookDelivery.Outcome.UPDATED, f"pull request {'merged' if merged else 'closed'}", bump)
    return WebhookAnswer(200, {"id": bump.pk, "created": False, "state": bump.state})
