"""What delivery asks of the forge: merge a pull request once formation-hub's rules allow it, and write
a story's review decision into its pull request.

A merge is claimed (bump merged, changelog line) only after the forge answered that it merged: the
gate status is published on the head first so that the forge's required check is current, then the
merge is asked with that head SHA, so a push in between is refused rather than merged unseen.
"""

from dataclasses import dataclass

from django.db import transaction
from django_q.tasks import async_task

from formation_hub.audit import audit_record
from formation_hub.forge import ForgeError, forge_client, forge_connection, pull_request_ref
from formation_hub.gates.forge_status import publish_gate_status
from formation_hub.models import AuditEntry, Gate

REVIEW_EVENTS = {"APPROVED": "approve", "NEEDS_REWORK": "request_changes", "BLOCKED": "request_changes"}


@dataclass(frozen=True)
class ForgeMerge:
    merged: bool
    sha: str = ""
    problem: str = ""


def merge_pull_request(*, target, pull_request_url: str, title: str, actor=None) -> ForgeMerge:
    """Merge `target`'s pull request on the forge. Without a pull request there is nothing to merge on the
    forge (a bump recorded by hand) and the merge is only recorded."""
    if not pull_request_url:
        return ForgeMerge(merged=True)
    ref = pull_request_ref(pull_request_url)
    if ref is None:
        return _refused(target, actor, pull_request_url, f"'{pull_request_url}' is not a pull request URL.")
    if forge_connection() is None:
        return _refused(target, actor, pull_request_url,
                        "No forge connection: add one under Console -> Forge connections to merge from here.")
    try:
        client = forge_client()
        pull = client.pull_request(ref)
        if pull.merged:
            audit_record(action="forge.already_merged", target=target, actor=actor, actor_label="forge",
                         changes={"pull_request": pull_request_url, "sha": pull.merge_commit_sha})
            return ForgeMerge(merged=True, sha=pull.merge_commit_sha)
        publish_gate_status(target, pull_request_url=pull_request_url, head_sha=pull.head_sha)
        sha = client.merge_pull_request(ref, head_sha=pull.head_sha, title=title)
    except ForgeError as error:
        return _refused(target, actor, pull_request_url, f"The forge refused the merge: {error.message}")
    audit_record(action="forge.merged", target=target, actor=actor, actor_label="forge",
                 changes={"pull_request": pull_request_url, "head_sha": pull.head_sha, "merge_sha": sha})
    return ForgeMerge(merged=True, sha=sha)


def _refused(target, actor, pull_request_url: str, problem: str) -> ForgeMerge:
    audit_record(action="forge.merge_refused", target=target, actor=actor, actor_label="forge",
                 result=AuditEntry.Result.FAILED, changes={"pull_request": pull_request_url}, message=problem)
    return ForgeMerge(merged=False, problem=problem)


def review_into_pull_request_later(gate: Gate, *, pull_request_url: str, head_sha: str) -> None:
    """After commit, a worker writes the story review decision into the pull request."""
    if not pull_request_url:
        return
    transaction.on_commit(lambda: async_task(
        "releases.tasks.write_story_review", gate.pk, pull_request_url, head_sha, group="forge"
    ))


def review_write(*, gate: Gate, pull_request_url: str, head_sha: str) -> int | None:
    """Post the gate's decision as a pull-request review (approve, or request changes with the reason)."""
    ref = pull_request_ref(pull_request_url)
    if ref is None or forge_connection() is None:
        return None
    body = f"Story review: {gate.decision} by {gate.decided_by}."
    if gate.reason:
        body += f"\n\n{gate.reason}"
    try:
        review_id = forge_client().review_pull_request(ref, event=REVIEW_EVENTS.get(gate.decision, "comment"),
                                                       body=body, head_sha=head_sha)
    except ForgeError as error:
        audit_record(action="forge.review_failed", target=gate, actor_label="forge",
                     result=AuditEntry.Result.FAILED, changes={"pull_request": pull_request_url},
                     message=error.message)
        raise
    audit_record(action="forge.review_written", target=gate, actor_label="forge",
                 changes={"pull_request": pull_request_url, "review_id": review_id, "decision": gate.decision})
    return review_id
