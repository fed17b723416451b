"""Versions: parse, compare and propose, on the `semver` package (full semver 2.0.0 precedence).

Rules the playbook and issue 7 add on top of semver:
- the `v` of a tag (`v1.2.3`) is a tag prefix, not part of the version;
- a `vX.Y.Z-rollback` tag parses as a pre-release but is never the current version;
- breaking -> major, feature or deprecation -> minor, fix/security/perf -> patch, docs/chore -> nothing;
- while 0.x a breaking change bumps the minor, and 1.0.0 is reached only by an explicit choice with a reason;
- the first release is 0.1.0; finishing a pre-release (1.0.0-rc.1 + fix) gives 1.0.0 (the rule of npm's
  semver `inc`: a pre-release whose core already carries the level is finished, not bumped again).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from semver import Version

from formation_hub.errors import DomainError

FIRST_RELEASE = Version(0, 1, 0)
STABLE = Version(1, 0, 0)
ROLLBACK_MARK = "rollback"


class InvalidVersion(DomainError):
    status_code = 400


class Level(IntEnum):
    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    @property
    def label(self) -> str:
        return {0: "nothing to release", 1: "patch", 2: "minor", 3: "major"}[self.value]


# Change type -> the level it implies. The change types themselves live in models.Change.Type.
LEVEL_OF_CHANGE = {
    "breaking": Level.MAJOR,
    "removal": Level.MAJOR,
    "feature": Level.MINOR,
    "change": Level.MINOR,
    "deprecation": Level.MINOR,
    "fix": Level.PATCH,
    "perf": Level.PATCH,
    "security": Level.PATCH,
    "docs": Level.NONE,
    "chore": Level.NONE,
}


def parse_version(text) -> Version:
    """'v1.2.3', '1.2.3-rc.1+build.7' -> Version; anything else raises InvalidVersion saying why."""
    if not isinstance(text, str):
        raise InvalidVersion(f"A version must be text like 1.2.3, not {type(text).__name__}.")
    cleaned = text.strip()
    if not cleaned:
        raise InvalidVersion("The version is empty: write it like 1.2.3.")
    if cleaned[0] in "vV":
        cleaned = cleaned[1:]
    try:
        return Version.parse(cleaned)
    except (ValueError, TypeError):
        raise InvalidVersion(
            f"'{text}' is not a semantic version: write MAJOR.MINOR.PATCH with numbers and no leading "
            "zeros (1.2.3), optionally a pre-release (-rc.1) and build metadata (+build.7)."
        ) from None


def tag_name(version: Version) -> str:
    return f"v{version}"


def is_rollback(version: Version) -> bool:
    return version.prerelease is not None and ROLLBACK_MARK in version.prerelease.split(".")


def same_precedence(left: Version, right: Version) -> bool:
    """Build metadata does not count: 1.2.3+a and 1.2.3+b are the same release."""
    return left.compare(right) == 0


def current_version(tags: Iterable[str]) -> Version | None:
    """The highest released version among tags; rollback tags and junk tags are never it."""
    versions = []
    for tag in tags:
        try:
            version = parse_version(tag)
        except InvalidVersion:
            continue
        if not is_rollback(version):
            versions.append(version)
    return max(versions, default=None)


def level_of(changes: Iterable[str]) -> Level:
    return max((LEVEL_OF_CHANGE[change] for change in changes), default=Level.NONE)


def bump(current: Version, level: Level) -> Version:
    """The next version at level. A pre-release whose core already holds the level is finished."""
    core = current.finalize_version()
    if current.prerelease is not None:
        finishes = {
            Level.PATCH: True,
            Level.MINOR: core.patch == 0,
            Level.MAJOR: core.minor == 0 and core.patch == 0,
        }[level]
        if finishes:
            return core
    if level == Level.MAJOR:
        return core.bump_major()
    if level == Level.MINOR:
        return core.bump_minor()
    return core.bump_patch()


@dataclass(frozen=True)
class Reason:
    text: str
    change_type: str
    level: Level


@dataclass(frozen=True)
class Proposal:
    version: Version | None
    level: Level
    reasons: tuple[Reason, ...]
    explanation: str


def propose_next(
    current: Version | None, changes: Iterable[tuple[str, str]], *, stable_reason: str = ""
) -> Proposal:
    """The next version from (change type, text) pairs, with why.

    stable_reason is the explicit choice to leave 0.x: with it, a 0.x project proposes 1.0.0.
    """
    reasons = tuple(Reason(text, kind, LEVEL_OF_CHANGE[kind]) for kind, text in changes)
    level = max((reason.level for reason in reasons), default=Level.NONE)
    if level == Level.NONE:
        return Proposal(None, level, reasons, "Only docs/chore changes (or none): nothing to release.")
    if stable_reason.strip():
        if current is not None and current.finalize_version() >= STABLE:
            raise InvalidVersion(f"{current} is already 1.0.0 or later: there is no 0.x to leave.")
        return Proposal(STABLE, level, reasons, f"1.0.0 chosen explicitly: {stable_reason.strip()}")
    if current is None:
        return Proposal(FIRST_RELEASE, level, reasons, "First release: 0.1.0.")
    if current.major == 0 and level == Level.MAJOR:
        return Proposal(
            bump(current, Level.MINOR), level, reasons,
            f"Breaking change while 0.x: the minor is bumped ({current} -> {bump(current, Level.MINOR)}); "
            "1.0.0 needs an explicit choice with a reason.",
        )
    proposed = bump(current, level)
    return Proposal(proposed, level, reasons, f"{level.label.capitalize()} release: {current} -> {proposed}.")


def _effective_level(current: Version, level: Level) -> Level:
    """The level a bump really has once the 0.x rule applies (a breaking change is a minor bump)."""
    if current.major == 0 and level == Level.MAJOR:
        return Level.MINOR
    return level


def validate_successor(
    chosen: Version | str,
    *,
    current: Version | None,
    required: Level,
    existing: Iterable[Version] = (),
    stable_reason: str = "",
) -> Version:
    """Accept a hand-chosen version only if it is a valid successor of current.

    Valid: its core is one of the next patch/minor/major versions (no skipped number), at least at
    the level the changes require, not an existing version (equal precedence counts), higher than
    current; a pre-release of such a core is valid too. 1.0.0 from 0.x needs stable_reason.
    """
    version = parse_version(chosen) if isinstance(chosen, str) else chosen
    for other in existing:
        if same_precedence(version, other):
            raise InvalidVersion(f"{version} already exists (as {other}): pick the next version.")
    if is_rollback(version):
        raise InvalidVersion(f"{version} is a rollback tag, not a release version.")
    core = version.finalize_version()
    if current is None:
        allowed = {FIRST_RELEASE: Level.MINOR, STABLE: Level.MAJOR}
    else:
        if version.compare(current) <= 0:
            raise InvalidVersion(f"{version} is not higher than the current version {current}.")
        allowed = {}
        for level in (Level.PATCH, Level.MINOR, Level.MAJOR):
            candidate = bump(current, level)
            allowed[candidate] = max(allowed.get(candidate, Level.NONE), _effective_level(current, level))
    if core not in allowed:
        listed = ", ".join(str(candidate) for candidate in sorted(allowed))
        raise InvalidVersion(
            f"{version} skips a number: after {current or 'nothing'} the next versions are {listed}."
        )
    if core == STABLE and (current is None or current.major == 0) and not stable_reason.strip():
        raise InvalidVersion("1.0.0 is reached only by an explicit choice: give the reason for going stable.")
    needed = _effective_level(current, required) if current is not None else Level.NONE
    if allowed[core] < needed and core != STABLE:
        raise InvalidVersion(
            f"{version} is a {allowed[core].label} release but the changes require at least a "
            f"{needed.label} release."
        )
    return version
