"""Dependency bumps: read the two versions, compute the category, and the path it decides (bump-deps.md).

Pure functions, no database: `categorise(...)` is what the services, the API, the webhook and the
console preview all call. A version string that cannot be compared safely is refused with a message
saying why (`UnclearVersion`), never guessed: a docker tag at another precision, a floating tag
(`latest`), a commit pin, a range, a switch between calendar and semantic numbering.

Rules on top of plain comparison, each written into the explanation:
- the `v` of a tag (`v4.1.0`) is a prefix, not part of the version;
- docker tags carry a variant after the number (`15-alpine`, `3.12-slim-bookworm`); a changed variant
  family (alpine -> bookworm) is a base-image change, handled as a major;
- while 0.x a minor bump may break (semver item 4): handled as a major;
- a bump to a pre-release (`2.0.0-rc.1`, pip `2.0.0rc1`) is handled as a major: unstable versions need a
  go/no-go, whatever the number says;
- calendar versions (`2024.01.15`) say when, not what: handled as a minor (a person reads the changelog);
- a high or critical advisory makes a patch or minor bump a security bump (it may merge automatically once
  CI is green); on a major it stays a major (it cannot auto-merge) with the advisory in the explanation.
"""

import re
from dataclasses import dataclass
from enum import IntEnum

from formation_hub.errors import DomainError


class UnclearVersion(DomainError):
    status_code = 400


class Ecosystem:
    PIP, NPM, DOCKER, ACTIONS = "pip", "npm", "docker", "github-actions"
    CHOICES = ((PIP, "pip (Python)"), (NPM, "npm (JavaScript)"), (DOCKER, "docker image"),
               (ACTIONS, "CI action (GitHub / Forgejo Actions)"))


class Severity:
    NONE, UNKNOWN, LOW, MODERATE, HIGH, CRITICAL = "none", "unknown", "low", "moderate", "high", "critical"
    CHOICES = ((NONE, "no advisory"), (UNKNOWN, "advisory, severity not known yet"), (LOW, "low"),
               (MODERATE, "moderate"), (HIGH, "high"), (CRITICAL, "critical"))
    URGENT = (HIGH, CRITICAL)


class Category:
    SECURITY, PATCH, MINOR, MAJOR = "security", "patch", "minor", "major"
    UPSTREAM_IMAGE, DATABASE_MAJOR, RUNTIME_LTS = "upstream_image", "database_major", "runtime_lts"
    CHOICES = ((SECURITY, "security (high/critical advisory)"), (PATCH, "patch"), (MINOR, "minor"),
               (MAJOR, "major"), (UPSTREAM_IMAGE, "upstream app image (Docmost, Baserow)"),
               (DATABASE_MAJOR, "database major (PostgreSQL)"), (RUNTIME_LTS, "runtime LTS (Python, Node)"))


class Path:
    """What a category needs before it merges."""

    AUTO_MERGE, REVIEW, GO_NO_GO, STAGING_TEST = "auto_merge", "review", "go_no_go", "staging_test"
    CHOICES = ((AUTO_MERGE, "merges automatically once CI is green"), (REVIEW, "short review"),
               (GO_NO_GO, "go/no-go decision with a migration note"),
               (STAGING_TEST, "staging test of the new image"))


PATH_OF_CATEGORY = {
    Category.SECURITY: Path.AUTO_MERGE,
    Category.PATCH: Path.REVIEW,
    Category.MINOR: Path.REVIEW,
    Category.MAJOR: Path.GO_NO_GO,
    Category.RUNTIME_LTS: Path.GO_NO_GO,
    Category.DATABASE_MAJOR: Path.GO_NO_GO,
    Category.UPSTREAM_IMAGE: Path.STAGING_TEST,
}
# Categories whose go needs a migration note (docs/migrations/<package>-vX.md in the playbook).
NEEDS_MIGRATION_NOTE = (Category.MAJOR, Category.RUNTIME_LTS, Category.DATABASE_MAJOR)

UPSTREAM_IMAGES = {"docmost/docmost": "Docmost", "docmost": "Docmost", "baserow/baserow": "Baserow",
                   "baserow/backend": "Baserow", "baserow/web-frontend": "Baserow", "baserow": "Baserow"}
DATABASE_IMAGES = {"postgres", "postgis/postgis", "bitnami/postgresql", "pgvector/pgvector", "postgresql"}
# Runtime image -> how many leading numbers name its release line (Node 20, Python 3.12).
RUNTIME_IMAGES = {"node": 1, "python": 2}


class Level(IntEnum):
    PATCH = 1
    MINOR = 2
    MAJOR = 3


CATEGORY_OF_LEVEL = {Level.PATCH: Category.PATCH, Level.MINOR: Category.MINOR, Level.MAJOR: Category.MAJOR}
FLOATING_TAGS = {"latest", "stable", "edge", "lts", "main", "master", "nightly", "current", "next", "beta", "alpha"}
PRE_RELEASE_WORDS = ("alpha", "beta", "rc", "pre", "preview", "dev", "canary", "next", "nightly", "snapshot")
CALENDAR_YEARS = range(1990, 3000)

_HEX_PIN = re.compile(r"^(sha256:)?[0-9a-f]{7,64}$")
_RANGE = re.compile(r"[\^~<>=*|, ]|\.x\b|\bx$", re.IGNORECASE)
_SEMVER_LIKE = re.compile(
    r"^(?P<release>\d+(?:\.\d+)*)(?:-(?P<suffix>[0-9A-Za-z][0-9A-Za-z.-]*))?(?:\+(?P<build>[0-9A-Za-z.-]+))?$"
)
_PEP440 = re.compile(
    r"^(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre>a|b|c|rc|alpha|beta|pre|preview)[-_.]?(?P<pre_n>\d*))?"
    r"(?:[-_.]?(?:post|rev|r)[-_.]?(?P<post>\d*)|-(?P<post_implicit>\d+))?"
    r"(?:[-_.]?(?P<dev>dev)[-_.]?(?P<dev_n>\d*))?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class BumpVersion:
    """One side of a bump, read for comparison."""

    text: str
    release: tuple[int, ...]
    prerelease: tuple = ()  # empty: a final release
    post: int = -1  # pip post-release number, -1: none
    variant: str = ""  # docker tag variant (alpine, slim-bookworm)

    @property
    def calendar(self) -> bool:
        return self.release[0] in CALENDAR_YEARS

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    @property
    def variant_family(self) -> str:
        """'alpine3.19' and 'alpine3.20' are one family: the OS release inside the variant is not the point."""
        return re.sub(r"[\d.]+", "", self.variant).strip("-")


def _prerelease_key(parts: tuple) -> tuple:
    """Semver item 11 ordering: numeric identifiers below alphanumeric ones, shorter below longer."""
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in parts)


def _identifiers(text: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"[.-]", text) if part)


def _is_prerelease_suffix(suffix: str) -> bool:
    first = re.split(r"[.\-\d]", suffix.lower(), maxsplit=1)[0]
    return first in PRE_RELEASE_WORDS or bool(re.fullmatch(r"(a|b|rc)\d*", first))


def parse_bump_version(text: str, ecosystem: str) -> BumpVersion:
    """A version string as the ecosystem writes it, or UnclearVersion saying what to give instead."""
    if not isinstance(text, str) or not text.strip():
        raise UnclearVersion("A version is missing: give the version before and after the bump.")
    raw = text.strip()
    lowered = raw.lower()
    if lowered in FLOATING_TAGS or lowered.split("-")[0] in FLOATING_TAGS:
        raise UnclearVersion(f"'{raw}' is a floating tag, not a version: pin the exact version it points to.")
    if _HEX_PIN.match(lowered) and not lowered.isdigit():
        raise UnclearVersion(
            f"'{raw}' is a commit or digest pin, which says nothing about the change: give the version tags "
            "it corresponds to (for example v4.1.0 -> v4.2.0)."
        )
    if _RANGE.search(raw):
        raise UnclearVersion(f"'{raw}' is a range, not a version: give the exact versions resolved before and after.")
    cleaned = raw[1:] if raw[0] in "vV" and len(raw) > 1 and raw[1].isdigit() else raw
    if "!" in cleaned:
        raise UnclearVersion(f"'{raw}' has a version epoch: compare such versions by hand (record it as manual).")
    if ecosystem == Ecosystem.PIP:
        return _parse_pip(raw, cleaned)
    match = _SEMVER_LIKE.match(cleaned)
    if match is None:
        raise UnclearVersion(
            f"'{raw}' is not a version this console can compare: expected numbers separated by dots, optionally "
            "a '-' suffix (a pre-release like -rc.1, or a docker variant like -alpine)."
        )
    release = tuple(int(part) for part in match["release"].split("."))
    suffix = match["suffix"] or ""
    if ecosystem == Ecosystem.DOCKER and suffix and not _is_prerelease_suffix(suffix):
        return BumpVersion(text=raw, release=release, variant=suffix.lower())
    if suffix and ecosystem == Ecosystem.DOCKER:
        prerelease_part, _, variant = suffix.partition("-") if "-" in suffix else (suffix, "", "")
        return BumpVersion(text=raw, release=release, prerelease=_identifiers(prerelease_part),
                           variant=variant.lower())
    return BumpVersion(text=raw, release=release, prerelease=_identifiers(suffix) if suffix else ())


def _parse_pip(raw: str, cleaned: str) -> BumpVersion:
    match = _PEP440.match(cleaned)
    if match is None:
        raise UnclearVersion(
            f"'{raw}' is not a PEP 440 version: expected numbers separated by dots, optionally a pre-release "
            "(rc1, b2), a post-release (.post1) or a dev release (.dev3)."
        )
    release = tuple(int(part) for part in match["release"].split("."))
    prerelease: tuple = ()
    if match["pre"]:
        word = {"a": "alpha", "b": "beta", "c": "rc", "pre": "rc", "preview": "rc"}.get(match["pre"].lower(),
                                                                                         match["pre"].lower())
        prerelease = (word, int(match["pre_n"] or 0))
    if match["dev"]:
        # A dev release comes before the pre-releases and the final release of its number ('' sorts first).
        prerelease = (*(prerelease or ("",)), "dev", int(match["dev_n"] or 0))
    post = match["post"] if match["post"] is not None else match["post_implicit"]
    return BumpVersion(text=raw, release=release, prerelease=prerelease,
                       post=int(post or 0) if post is not None else -1)


def _padded(release: tuple[int, ...], length: int) -> tuple[int, ...]:
    return release + (0,) * (length - len(release))


def _order_key(version: BumpVersion, length: int) -> tuple:
    final = 1 if not version.prerelease else 0
    return (_padded(version.release, length), final, _prerelease_key(version.prerelease), version.post)


@dataclass(frozen=True)
class Comparison:
    level: Level
    notes: tuple[str, ...]


def compare(old: BumpVersion, new: BumpVersion, ecosystem: str) -> Comparison:
    """The level of old -> new with the reasons, or UnclearVersion."""
    if old.calendar != new.calendar:
        raise UnclearVersion(
            f"'{old.text}' -> '{new.text}' switches between calendar and semantic numbering: the level cannot be "
            "read from the numbers; record it as a manual bump with its category decided by a person."
        )
    # pip says 1.2 == 1.2.0; docker and action tags at another precision are other tags ('15' floats).
    exact_precision = ecosystem in (Ecosystem.DOCKER, Ecosystem.ACTIONS)
    shared = min(len(old.release), len(new.release))
    length = max(len(old.release), len(new.release))
    if exact_precision:
        differing = next((index for index in range(shared) if old.release[index] != new.release[index]), None)
        if differing is None and len(old.release) != len(new.release):
            raise UnclearVersion(
                f"'{old.text}' and '{new.text}' name versions at different precisions (a tag like '15' follows "
                "every 15.x): the bump cannot be told apart from a downgrade; give both at the same precision."
            )
        if differing is not None and old.release[differing] > new.release[differing]:
            raise UnclearVersion(f"'{old.text}' -> '{new.text}' is a downgrade: a bump goes to a higher version.")
    else:
        old_release, new_release = _padded(old.release, length), _padded(new.release, length)
        differing = next((index for index in range(length) if old_release[index] != new_release[index]), None)
    if not exact_precision or differing is None:
        old_key, new_key = _order_key(old, length), _order_key(new, length)
        if new_key == old_key and old.variant == new.variant:
            raise UnclearVersion(f"'{old.text}' -> '{new.text}' changes no version: nothing to bump.")
        if new_key < old_key:
            raise UnclearVersion(f"'{old.text}' -> '{new.text}' is a downgrade: a bump goes to a higher version.")
    notes: list[str] = []
    if differing is None:
        level = Level.PATCH
        if old.is_prerelease and not new.is_prerelease:
            notes.append(f"finishes the pre-release {old.text}")
        elif new.post > old.post:
            notes.append("a post-release (packaging or metadata fix)")
        elif old.variant != new.variant and old.variant_family == new.variant_family:
            notes.append(f"same version on a newer base image ({old.variant} -> {new.variant})")
    else:
        level = {0: Level.MAJOR, 1: Level.MINOR}.get(differing, Level.PATCH)
    if old.calendar:
        level = Level.MINOR
        notes.append("calendar versions say when, not what: handled as a minor, read the changelog")
    elif level == Level.MINOR and old.release[0] == 0:
        level = Level.MAJOR
        notes.append("while 0.x a minor bump may break (semver item 4): handled as a major")
    if new.is_prerelease:
        level = Level.MAJOR
        notes.append(f"{new.text} is a pre-release: unstable versions need a go/no-go, handled as a major")
    if old.variant_family != new.variant_family:
        level = Level.MAJOR
        notes.append(
            f"the image variant changes ({old.variant or 'none'} -> {new.variant or 'none'}): a base-image change, "
            "handled as a major"
        )
    return Comparison(level=level, notes=tuple(notes))


def image_name(package: str) -> str:
    """'ghcr.io/docmost/docmost', 'docker.io/library/postgres:15' -> 'docmost/docmost', 'postgres'."""
    name = package.strip().lower()
    name = name.split("@", 1)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        name = rest
    name = name.split(":", 1)[0]
    return name.removeprefix("library/")


@dataclass(frozen=True)
class Categorisation:
    category: str
    path: str
    level: Level
    explanation: str


def _line_changed(old: BumpVersion, new: BumpVersion, numbers: int) -> bool:
    return _padded(old.release, numbers)[:numbers] != _padded(new.release, numbers)[:numbers]


def categorise(*, package: str, ecosystem: str, from_version: str, to_version: str,
               severity: str = Severity.NONE, advisories: tuple[str, ...] = ()) -> Categorisation:
    """The category of a bump and the path it decides, with a sentence saying why."""
    if ecosystem not in dict(Ecosystem.CHOICES):
        raise UnclearVersion(f"Unknown ecosystem '{ecosystem}': use one of {', '.join(dict(Ecosystem.CHOICES))}.")
    if not package.strip():
        raise UnclearVersion("The package (or image, or action) name is missing.")
    old = parse_bump_version(from_version, ecosystem)
    new = parse_bump_version(to_version, ecosystem)
    comparison = compare(old, new, ecosystem)
    level = comparison.level
    notes = list(comparison.notes)
    urgent = severity in Severity.URGENT
    advisory_text = f"{severity} advisory" + (f" ({', '.join(advisories)})" if advisories else "")
    category = CATEGORY_OF_LEVEL[level]
    name = image_name(package) if ecosystem == Ecosystem.DOCKER else ""
    if name in UPSTREAM_IMAGES:
        category = Category.UPSTREAM_IMAGE
        notes.insert(0, f"{UPSTREAM_IMAGES[name]} upstream image: tested on staging before it ships")
    elif name in DATABASE_IMAGES and _line_changed(old, new, 1):
        category = Category.DATABASE_MAJOR
        notes.insert(0, "PostgreSQL major: a verified backup first, then a migration and restore test")
    elif name in RUNTIME_IMAGES and _line_changed(old, new, RUNTIME_IMAGES[name]):
        category = Category.RUNTIME_LTS
        notes.insert(0, f"new {name} release line: exhaustive tests, possibly a refactor")
    elif urgent and level <= Level.MINOR:
        category = Category.SECURITY
        notes.insert(0, f"{level.name.lower()} bump with a {advisory_text}")
    if urgent and category != Category.SECURITY:
        notes.append(f"carries a {advisory_text}: cannot merge automatically on this path, decide quickly")
    elif severity == Severity.UNKNOWN:
        notes.append("carries an advisory of unknown severity: set it (high or critical routes it as security)")
    explanation = f"{old.text} -> {new.text}: {level.name.lower()}"
    if notes:
        explanation += "; " + "; ".join(notes)
    return Categorisation(category=category, path=PATH_OF_CATEGORY[category], level=level,
                          explanation=explanation + ".")
