"""Stories through the build playbook (build-story.md): ten steps, three gates, a changelog entry at the end.

Steps 4 (review), 7 (merge) and 9 (business validation) are gates of formation_hub.gates.decisions, decided by a
release approver who is neither the story's author nor the person who asked; their decisions land in
the `_on_*` handlers below. CI results move step 6: green opens the merge gate, red sends the story back
to the code step. NEEDS_REWORK sends it back to the code step with the feedback in its history (and a
new revision, so a gate asked on the old one is void); BLOCKED takes it out of the sprint.
"""

import re
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.text import slugify

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record
from formation_hub.errors import DomainError, NotAllowed
from formation_hub.gates.decisions import GateType, gate_request
from formation_hub.models import Gate
from releases import conf
from releases.delivery.forge import review_into_pull_request_later
from releases.models import Change, Story, StoryEvent
from releases.pipeline.prepare import change_add

REVIEW_GATE = "delivery.story_review"


MERGE_GATE = "delivery.story_merge"


VALIDATION_GATE = "delivery.story_validation"


STORY_GATES = (REVIEW_GATE, MERGE_GATE, VALIDATION_GATE)


DECIDE_DELIVERY_GATE = "releases.decide_delivery_gate"


ADD_STORY, CHANGE_STORY = "releases.add_story", "releases.change_story"


APPROVED, NEEDS_REWORK, BLOCKED, WAIT_FIX_CI = "APPROVED", "NEEDS_REWORK", "BLOCKED", "WAIT_FIX_CI"


Step = Story.Step


GATE_OF_STEP = {Step.REVIEW: REVIEW_GATE, Step.MERGE: MERGE_GATE, Step.VALIDATION: VALIDATION_GATE}


# The steps a person moves on by hand; the others move by a gate decision or a CI result.
MANUAL_STEPS = {
    Step.PREFLIGHT: "branch chosen, story understood",
    Step.CODE: "code committed on the branch",
    Step.TESTS: "tests green, coverage recorded",
    Step.PULL_REQUEST: "pushed and pull request open",
    Step.STAGING: "deployed to staging, smoke test passed",
}


KEY = re.compile(r"^S-(\d{1,6})$")


BRANCH_SLUG_LENGTH = 60


def story_subject(story: Story) -> str:
    """What a gate decides on: this revision of the story, at its head commit when known."""
    at = f"@{story.head_sha[:12]}" if story.head_sha else ""
    return f"{story.key} r{story.revision}{at}"


def _lock(story: Story) -> Story:
    return Story.objects.select_for_update().get(pk=story.pk)


def story_event(story: Story, *, user, kind: str, from_step=None, to_step=None, note: str = "", **changes) -> None:
    StoryEvent.objects.create(story=story, at=timezone.now(), actor=user, kind=kind, from_step=from_step,
                              to_step=to_step, note=note)
    audit_record(action=f"story.{kind}", target=story, actor=user, message=note,
                 changes={"from_step": from_step, "to_step": to_step, **changes})


def _move(story: Story, *, to_step: int, user, kind: str, note: str = "", fields=(), **changes) -> None:
    from_step = story.step
    story.step = to_step
    story.save(update_fields=["step", *fields])
    story_event(story, user=user, kind=kind, from_step=from_step, to_step=to_step, note=note, **changes)


def _require_active(story: Story, doing: str) -> None:
    if story.state != Story.State.ACTIVE:
        raise DomainError(f"{story.key} is {story.get_state_display()}: you cannot {doing}.")


def branch_for(title: str, *, number: int | None = None) -> str:
    """feat/<slug> from the title; another story already on that branch gets its number appended."""
    slug = slugify(title)[:BRANCH_SLUG_LENGTH].strip("-") or "story"
    branch = f"feat/{slug}"
    taken = Story.objects.filter(branch=branch).exclude(number=number).exists()
    return f"{branch}-s{number:02d}" if taken and number is not None else branch


def _next_number() -> int:
    return (Story.objects.aggregate(highest=Max("number"))["highest"] or 0) + 1


def story_create(
    *, title: str, user_story: str = "", acceptance_criteria: str = "", sprint: str = "",
    change_type: str = Change.Type.FEATURE, author=None, user=None,
) -> Story:
    """A new story at the pre-flight step, with the next free id (S-01, S-02, ...)."""
    require(user, ADD_STORY, doing="create a story")
    title = title.strip()
    if not title:
        raise DomainError("A story needs a title.")
    if change_type not in Change.Type.values:
        raise DomainError(f"Unknown change type '{change_type}': use one of {', '.join(Change.Type.values)}.")
    for _attempt in range(10):
        number = _next_number()
        try:
            with transaction.atomic():
                story = Story.objects.create(
                    number=number, title=title[:200], user_story=user_story.strip(),
                    acceptance_criteria=acceptance_criteria.strip(), branch=branch_for(title, number=number),
                    sprint=sprint.strip(), change_type=change_type, author=author,
                )
                story_event(story, user=user, kind="created", to_step=story.step, branch=story.branch)
                return story
        except IntegrityError:
            # Another story took this number between the read and the insert: take the next one.
            continue
    raise DomainError("Could not allocate a story id after several attempts: try again.")


@transaction.atomic
def story_advance(*, story: Story, user, note: str = "", coverage=None, pull_request_url: str = "",
                  head_sha: str = "") -> Story:
    """Move a story past a step done by hand (pre-flight, code, tests, pull request, staging deploy)."""
    require(user, CHANGE_STORY, doing="move a story on")
    story = _lock(story)
    _require_active(story, "move it on")
    if story.step in GATE_OF_STEP:
        raise DomainError(
            f"{story.key} waits for its {story.get_step_display()[3:]}: a release approver decides it."
        )
    if story.step == Step.CI:
        raise DomainError(f"{story.key} waits for CI: a green run opens the merge gate, a red one sends it back.")
    if story.step == Step.ARTEFACTS:
        raise DomainError(f"{story.key} is completed.")
    fields = []
    if head_sha:
        story.head_sha = _clean_sha(head_sha)
        fields.append("head_sha")
    if story.step == Step.TESTS:
        if coverage is not None:
            story.coverage = coverage_clean(coverage)
            fields.append("coverage")
        if story.coverage is None:
            raise DomainError(f"Record the coverage of {story.key}'s tests before asking for the review.")
    if story.step == Step.PULL_REQUEST:
        story.pull_request_url = pull_request_url.strip()[:500] or story.pull_request_url
        story.ci_status = Story.CiStatus.PENDING
        fields += ["pull_request_url", "ci_status"]
        review = Gate.objects.filter(object_id=str(story.pk), gate_type=REVIEW_GATE, state=Gate.State.DECIDED,
                                     decision=APPROVED).order_by("decided_at", "id").last()
        if review is not None:
            # The playbook's review output is "the decision documented in the pull request".
            review_into_pull_request_later(review, pull_request_url=story.pull_request_url, head_sha=story.head_sha)
    to_step = story.step + 1
    _move(story, to_step=to_step, user=user, kind="advanced", note=note or MANUAL_STEPS[story.step],
          fields=fields)
    if story.step == Step.REVIEW:
        target = conf.story_coverage_target()
        if story.coverage < target - 10:
            story_event(story, user=user, kind="coverage_alert",
                   note=f"Coverage {story.coverage}% is more than 10 points under the {target}% target.")
    if story.step in GATE_OF_STEP:
        gate_request(target=story, gate_type=GATE_OF_STEP[story.step], subject=story_subject(story),
                     requested_by=user)
    return story


def _clean_sha(sha: str) -> str:
    sha = sha.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{7,40}", sha):
        raise DomainError("A commit SHA is 7 to 40 lowercase hexadecimal characters.")
    return sha


def coverage_clean(value) -> Decimal:
    try:
        coverage = Decimal(str(value).strip().rstrip("%"))
    except (InvalidOperation, ValueError):
        raise DomainError(f"Coverage '{value}' is not a number (a percentage, like 84.5).") from None
    if not coverage.is_finite() or not Decimal(0) <= coverage <= Decimal(100):
        raise DomainError(f"Coverage {value} is not a percentage between 0 and 100.")
    return coverage.quantize(Decimal("0.01"))


@transaction.atomic
def story_ci_report(*, story: Story, status: str, head_sha: str = "", detail: str = "") -> Story:
    """CI's result for the story's pull request (from CI, never a person): green at step 6 opens the merge
    gate, red sends it back to code."""
    if status not in Story.CiStatus.values:
        raise DomainError(f"Unknown CI status '{status}': use one of {', '.join(Story.CiStatus.values)}.")
    story = _lock(story)
    fields = ["ci_status"]
    if head_sha:
        sha = _clean_sha(head_sha)
        if sha != story.head_sha:
            story.head_sha = sha
            fields.append("head_sha")
    story.ci_status = status
    story.save(update_fields=fields)
    story_event(story, user=None, kind="ci_reported", note=detail, status=status, head_sha=story.head_sha)
    if story.state != Story.State.ACTIVE:
        return story
    if story.step == Step.CI and status == Story.CiStatus.GREEN:
        _move(story, to_step=Step.MERGE, user=None, kind="ci_green")
        gate_request(target=story, gate_type=MERGE_GATE, subject=story_subject(story),
                     requested_by=_last_mover(story))
    elif story.step == Step.CI and status == Story.CiStatus.RED:
        _move(story, to_step=Step.CODE, user=None, kind="ci_red", note=detail or "CI red: fix on the branch.")
    return story


def _last_mover(story: Story):
    """Who asked for the story's last gate: they may not decide the next one either."""
    gate = Gate.objects.filter(object_id=str(story.pk), gate_type__in=STORY_GATES).exclude(
        requested_by=None).order_by("-requested_at").first()
    return gate.requested_by if gate else story.author


@transaction.atomic
def story_return_to_sprint(*, story: Story, sprint: str, user, note: str = "") -> Story:
    """Bring a blocked story back into a sprint, at the code step on a new revision."""
    require(user, CHANGE_STORY, doing="bring a story back into a sprint")
    story = _lock(story)
    if story.state != Story.State.BLOCKED:
        raise DomainError(f"{story.key} is {story.get_state_display()}: only a blocked story returns to a sprint.")
    if not sprint.strip():
        raise DomainError("Name the sprint the story returns to.")
    story.state, story.sprint, story.revision = Story.State.ACTIVE, sprint.strip()[:60], story.revision + 1
    _move(story, to_step=Step.CODE, user=user, kind="returned_to_sprint", note=note,
          fields=["state", "sprint", "revision"], sprint=story.sprint)
    return story


def _rework(story: Story, gate: Gate) -> None:
    story.revision += 1
    story.ci_status = Story.CiStatus.UNKNOWN
    _move(story, to_step=Step.CODE, user=gate.decided_by, kind="needs_rework", note=gate.reason,
          fields=["revision", "ci_status"], gate=gate.gate_type)


def _block(story: Story, gate: Gate) -> None:
    story.state, old_sprint, story.sprint = Story.State.BLOCKED, story.sprint, ""
    story.save(update_fields=["state", "sprint"])
    story_event(story, user=gate.decided_by, kind="blocked", note=gate.reason, gate=gate.gate_type, sprint=old_sprint)


def _gate_story(gate: Gate, story: Story, step: int) -> Story:
    story = _lock(story)
    _require_active(story, "decide its gates")
    if story.step != step:
        raise DomainError(f"{story.key} is at {story.get_step_display()}, not at {Step(step).label}.")
    return story


def _on_review_decided(gate: Gate, story: Story) -> None:
    story = _gate_story(gate, story, Step.REVIEW)
    review_into_pull_request_later(gate, pull_request_url=story.pull_request_url, head_sha=story.head_sha)
    if gate.decision == APPROVED:
        _move(story, to_step=Step.PULL_REQUEST, user=gate.decided_by, kind="review_approved", note=gate.reason)
    elif gate.decision == NEEDS_REWORK:
        _rework(story, gate)
    else:
        _block(story, gate)


def review_approved(story: Story) -> bool:
    """An approved review of the story's current revision (the merge gate's 'one approval')."""
    revision = f"{story.key} r{story.revision}"
    return Gate.objects.filter(
        Q(subject=revision) | Q(subject__startswith=f"{revision}@"),
        object_id=str(story.pk), gate_type=REVIEW_GATE, state=Gate.State.DECIDED, decision=APPROVED,
    ).exists()


def _on_merge_decided(gate: Gate, story: Story) -> None:
    story = _gate_story(gate, story, Step.MERGE)
    if gate.decision == APPROVED:
        if story.ci_status != Story.CiStatus.GREEN:
            raise DomainError(
                f"CI is {story.get_ci_status_display()} for {story.key}: a merge needs CI green. Decide "
                f"{WAIT_FIX_CI} to wait for the fix."
            )
        if not review_approved(story):
            raise DomainError(f"{story.key} has no approved review of revision {story.revision}: review it first.")
        _move(story, to_step=Step.STAGING, user=gate.decided_by, kind="merged", note=gate.reason,
              head_sha=story.head_sha)
    elif gate.decision == WAIT_FIX_CI:
        story.ci_status = Story.CiStatus.PENDING
        _move(story, to_step=Step.CI, user=gate.decided_by, kind="wait_fix_ci", note=gate.reason,
              fields=["ci_status"])
    else:
        _block(story, gate)


def _on_validation_decided(gate: Gate, story: Story) -> None:
    story = _gate_story(gate, story, Step.VALIDATION)
    if gate.decision == NEEDS_REWORK:
        _rework(story, gate)
        return
    _move(story, to_step=Step.ARTEFACTS, user=gate.decided_by, kind="business_validated", note=gate.reason)
    _complete(story, gate.decided_by)


def _complete(story: Story, user) -> None:
    """Step 10: the story is completed and its changelog entry added under Unreleased (once)."""
    story.state, story.completed_at, story.completed_by = Story.State.COMPLETED, timezone.now(), user
    story.change = change_add(type=story.change_type, text=story.title, author=story.author, reference=story.key,
                              user=user, source=Change.Source.STORY)
    story.save(update_fields=["state", "completed_at", "completed_by", "change"])
    story_event(story, user=user, kind="completed", note=f"Changelog entry under Unreleased: {story.title}",
           change_id=story.change.pk)


def _check_decider(gate: Gate, story: Story, user) -> None:
    if story.author_id is not None and story.author_id == user.pk:
        raise NotAllowed(f"You are the author of {story.key}: another release approver decides its gates.")


def _pull_request_url(story: Story) -> str:
    return story.pull_request_url


GATE_TYPES = (
    GateType(name=REVIEW_GATE, label="story review", decisions=(APPROVED, NEEDS_REWORK, BLOCKED),
             permission=DECIDE_DELIVERY_GATE, current_subject=story_subject, check_decider=_check_decider,
             on_decided=_on_review_decided, reason_required_for=(NEEDS_REWORK, BLOCKED),
             pull_request=_pull_request_url, passing=(APPROVED,)),
    GateType(name=MERGE_GATE, label="story merge", decisions=(APPROVED, WAIT_FIX_CI, BLOCKED),
             permission=DECIDE_DELIVERY_GATE, current_subject=story_subject, check_decider=_check_decider,
             on_decided=_on_merge_decided, reason_required_for=(WAIT_FIX_CI, BLOCKED),
             pull_request=_pull_request_url, passing=(APPROVED,)),
    GateType(name=VALIDATION_GATE, label="story business validation", decisions=(APPROVED, NEEDS_REWORK),
             permission=DECIDE_DELIVERY_GATE, current_subject=story_subject, check_decider=_check_decider,
             on_decided=_on_validation_decided, reason_required_for=(NEEDS_REWORK,),
             pull_request=_pull_request_url, passing=(APPROVED,)),
)
