"""Stories as JSON: the export of the board and the build state, and the import that creates or updates
stories by their key."""

import json
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from formation_hub.access.permissions import require
from formation_hub.audit import audit_record
from formation_hub.errors import DomainError
from releases.delivery.stories import ADD_STORY, KEY, Step, branch_for, coverage_clean, story_event
from releases.models import Change, Story


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def story_as_dict(story: Story) -> dict:
    return {
        "id": story.key, "title": story.title, "user_story": story.user_story,
        "acceptance_criteria": story.acceptance_criteria, "branch": story.branch, "step": story.step,
        "state": story.state, "sprint": story.sprint, "change_type": story.change_type,
        "coverage": float(story.coverage) if story.coverage is not None else None, "ci_status": story.ci_status,
        "completed_at": _iso(story.completed_at),
        "completed_by": story.completed_by.get_username() if story.completed_by else None,
    }


def stories_export() -> list[dict]:
    return [story_as_dict(story) for story in Story.objects.select_related("completed_by")]


def build_state_export() -> dict:
    """build-state.json: every story's state, and which are completed, when and by whom."""
    stories = list(Story.objects.select_related("completed_by"))
    return {
        "generated_at": _iso(timezone.now()),
        "stories": [
            {"id": story.key, "title": story.title, "state": story.state, "step": story.step,
             "step_label": story.get_step_display(), "branch": story.branch,
             "completed_at": _iso(story.completed_at),
             "completed_by": story.completed_by.get_username() if story.completed_by else None}
            for story in stories
        ],
        "completed": [story.key for story in stories if story.state == Story.State.COMPLETED],
    }


def _text(item: dict, key: str, where: str, *, limit: int | None = None) -> str:
    value = item.get(key, "")
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        value = "\n".join(value)
    if not isinstance(value, str):
        raise DomainError(f"{where}: '{key}' must be text.")
    if limit is not None and len(value) > limit:
        raise DomainError(f"{where}: '{key}' is longer than {limit} characters.")
    return value.strip()


def _choice(item: dict, key: str, where: str, choices, default):
    value = item.get(key, default)
    if value is None:
        return default
    if value not in choices:
        raise DomainError(f"{where}: '{key}' is {value!r}, expected one of {', '.join(map(str, choices))}.")
    return value


def _parse_item(item, index: int) -> dict:
    where = f"story #{index + 1}"
    if not isinstance(item, dict):
        raise DomainError(f"{where} is not an object with the story's fields.")
    key = item.get("id")
    match = KEY.match(key) if isinstance(key, str) else None
    if match is None:
        raise DomainError(f"{where}: 'id' must look like S-01 (got {key!r}).")
    where = f"story {key}"
    title = _text(item, "title", where, limit=200)
    if not title:
        raise DomainError(f"{where}: 'title' is missing.")
    step = item.get("step", Step.PREFLIGHT)
    if isinstance(step, bool) or step not in Step.values:
        raise DomainError(f"{where}: 'step' must be a number from 1 to 10 (got {step!r}).")
    coverage = item.get("coverage")
    completed_at = item.get("completed_at")
    moment = None
    if completed_at is not None:
        moment = parse_datetime(completed_at) if isinstance(completed_at, str) else None
        if moment is None or timezone.is_naive(moment):
            raise DomainError(f"{where}: 'completed_at' must be an ISO 8601 time with its offset.")
    state = _choice(item, "state", where, Story.State.values, Story.State.ACTIVE)
    if (state == Story.State.COMPLETED) != (step == Step.ARTEFACTS):
        raise DomainError(f"{where}: a story is completed exactly when it is at step 10.")
    return {
        "number": int(match[1]), "title": title, "user_story": _text(item, "user_story", where),
        "acceptance_criteria": _text(item, "acceptance_criteria", where),
        "branch": _text(item, "branch", where, limit=120), "step": step, "state": state,
        "sprint": _text(item, "sprint", where, limit=60),
        "change_type": _choice(item, "change_type", where, Change.Type.values, Change.Type.FEATURE),
        "coverage": coverage_clean(coverage) if coverage is not None else None,
        "ci_status": _choice(item, "ci_status", where, Story.CiStatus.values, Story.CiStatus.UNKNOWN),
        "completed_at": moment,
    }


def parse_stories_json(text: str) -> list:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise DomainError("The file is not valid JSON: export a list of stories.") from None
    if isinstance(data, dict) and isinstance(data.get("stories"), list):
        data = data["stories"]
    if not isinstance(data, list):
        raise DomainError("Expected a JSON list of stories (or an object with a 'stories' list).")
    return data


# What an import takes from a new story's fields; its step, state, CI and who completed it are never taken
# from a file: a story imported at a gate step would reach its gate with no requester, decidable by the
# importer, and a file may name anyone as the person who completed it.
IMPORTED_FIELDS = ("number", "title", "user_story", "acceptance_criteria", "branch", "sprint", "change_type",
                   "coverage")


@transaction.atomic
def stories_import(*, items: list, user) -> str:
    """Create the stories that do not exist yet, at the pre-flight step with their planning fields as
    exported; for a known id, update only its planning text (title, user story, acceptance criteria).
    Steps and states move only through the actions and gates."""
    require(user, ADD_STORY, doing="import stories")
    parsed = [_parse_item(item, index) for index, item in enumerate(items)]
    numbers = [fields["number"] for fields in parsed]
    duplicates = sorted({f"S-{number:02d}" for number in numbers if numbers.count(number) > 1})
    if duplicates:
        raise DomainError(f"The file lists {', '.join(duplicates)} more than once.")
    existing = {story.number: story for story in Story.objects.filter(number__in=numbers).select_for_update()}
    created = updated = 0
    for fields in parsed:
        story = existing.get(fields["number"])
        if story is None:
            planning = {name: fields[name] for name in IMPORTED_FIELDS}
            story = Story(**{**planning, "branch": fields["branch"] or branch_for(fields["title"],
                                                                                    number=fields["number"])})
            story.save()
            story_event(story, user=user, kind="imported", to_step=story.step,
                   step_in_file=fields["step"], state_in_file=fields["state"])
            created += 1
            continue
        planning = {name: fields[name] for name in ("title", "user_story", "acceptance_criteria")}
        if any(getattr(story, name) != value for name, value in planning.items()):
            for name, value in planning.items():
                setattr(story, name, value)
            story.save(update_fields=list(planning))
            story_event(story, user=user, kind="import_updated")
            updated += 1
    summary = f"{created} story(ies) created, {updated} updated, {len(parsed) - created - updated} unchanged."
    if created:
        summary += " New stories start at pre-flight: steps move through the actions and gates."
    audit_record(action="story.imported", actor=user, message=summary, changes={"created": created,
                                                                                "updated": updated})
    return summary
