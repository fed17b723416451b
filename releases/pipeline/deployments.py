"""A deployment of a release: started under the approval, the deploy hook called, its answer recorded."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from formation_hub.models import AuditEntry
from releases import clock, conf
from releases.models import Deployment, Release
from releases.pipeline.approvals import approval_problem
from releases.pipeline.http_checks import call_deploy_hook
from releases.pipeline.state import release_lock, release_require, release_save


@transaction.atomic
def deployment_start(*, release: Release, user) -> tuple[Deployment | None, str]:
    """Under the release's lock: the approval re-check, then the deployment row (one per release)."""
    release = release_lock(release)
    release_require(release, Release.Status.APPROVED, doing="deploy")
    problem = approval_problem(release, clock.now())
    if problem:
        return None, problem
    now = timezone.now()
    try:
        with transaction.atomic():
            deployment = Deployment.objects.create(
                release=release, environment=Deployment.Environment.PRODUCTION, version=release.version,
                sha=release.sha, started_by=user, started_at=now, hook_url=conf.deploy_hook_url(),
            )
    except IntegrityError:
        raise DomainError(f"Release v{release.version} is already being deployed.") from None
    release.status, release.deployed_at = Release.Status.DEPLOYING, now
    release_save(release, user, "release.deploy_started", "status", "deployed_at", deployment_id=deployment.pk,
                 sha=release.sha)
    return deployment, ""


def _hook_payload(deployment: Deployment, tag: str) -> dict:
    return {
        "action": deployment.action, "environment": deployment.environment, "version": deployment.version,
        "tag": tag, "sha": deployment.sha, "release_id": deployment.release_id, "deployment_id": deployment.pk,
    }


def deployment_call_hook(*, deployment: Deployment, user, tag: str = "") -> None:
    """Call the deploy hook if configured and record its answer. A deploy calls it outside any lock (it may
    take seconds); a rollback calls it under the release's lock, so a second click waits instead of redeploying."""
    if not deployment.hook_url:
        deployment_finish(deployment=deployment, user=user, ok=True, status=None,
                          answer="No deploy hook configured (RELEASE_DEPLOY_HOOK_URL): deployment recorded.")
        return
    payload = _hook_payload(deployment, tag or f"v{deployment.version}")
    answer = call_deploy_hook(url=deployment.hook_url, payload=payload)
    deployment_finish(deployment=deployment, user=user, ok=answer.ok, status=answer.status, answer=answer.text)


@transaction.atomic
def deployment_finish(*, deployment: Deployment, user, ok: bool, status: int | None, answer: str) -> None:
    deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
    deployment.result = Deployment.Result.SUCCEEDED if ok else Deployment.Result.FAILED
    deployment.finished_at, deployment.hook_status, deployment.hook_response = timezone.now(), status, answer
    deployment.save(update_fields=["result", "finished_at", "hook_status", "hook_response"])
    audit_record(
        action=f"release.{deployment.action}_hook", target=deployment.release, actor=user,
        result=AuditEntry.Result.OK if ok else AuditEntry.Result.FAILED,
        changes={"deployment_id": deployment.pk, "url": deployment.hook_url, "status": status}, message=answer[:500],
    )
    if not ok and deployment.action == Deployment.Action.DEPLOY:
        release = release_lock(deployment.release)
        release.status = Release.Status.APPROVED
        release_save(
            release, user, "release.deploy_failed", "status", message=answer[:500], deployment_id=deployment.pk
        )
