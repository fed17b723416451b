"""CHANGELOG.md in Keep a Changelog 1.1.0 form: render, parse (import) and promote Unreleased.

Pure text in, text out: the database side (which changes are unreleased, which releases exist) is
in releases/pipeline/notes.py. https://keepachangelog.com/en/1.1.0/
"""

import re
from dataclasses import dataclass, field, replace
from datetime import date

from formation_hub.errors import DomainError
from releases.rules.semver import InvalidVersion, parse_version

HEADINGS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
BREAKING_MARK = "**BREAKING:** "
# Change type -> Keep a Changelog heading; docs and chore changes do not appear in a changelog.
HEADING_OF_CHANGE = {
    "breaking": "Changed",
    "change": "Changed",
    "perf": "Changed",
    "feature": "Added",
    "deprecation": "Deprecated",
    "removal": "Removed",
    "fix": "Fixed",
    "security": "Security",
}
CHANGE_OF_HEADING = {
    "Added": "feature",
    "Changed": "change",
    "Deprecated": "deprecation",
    "Removed": "removal",
    "Fixed": "fix",
    "Security": "security",
}
DEFAULT_PREAMBLE = (
    "# Changelog\n\n"
    "All notable changes to this project are documented in this file.\n\n"
    "The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),\n"
    "and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html)."
)

SECTION = re.compile(
    r"^##\s+\[?(?P<name>[^\]\s]+)\]?(?:\s+-\s+(?P<date>\d{4}-\d{2}-\d{2}))?(?P<yanked>\s+\[YANKED\])?\s*$"
)
HEADING = re.compile(r"^###\s+(?P<name>.+?)\s*$")
ENTRY = re.compile(r"^[-*]\s+(?P<text>.*)$")
LINK = re.compile(r"^\[[^\]]+\]:\s*\S+")


class ChangelogError(DomainError):
    status_code = 400


@dataclass
class Section:
    version: str | None  # None: the Unreleased section
    released_on: date | None = None
    entries: dict[str, list[str]] = field(default_factory=dict)
    yanked: bool = False

    @property
    def title(self) -> str:
        if self.version is None:
            return "## [Unreleased]"
        dated = f" - {self.released_on.isoformat()}" if self.released_on else ""
        return f"## [{self.version}]{dated}{' [YANKED]' if self.yanked else ''}"

    def is_empty(self) -> bool:
        return not any(self.entries.values())


@dataclass
class Changelog:
    preamble: str = DEFAULT_PREAMBLE
    sections: list[Section] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    @property
    def unreleased(self) -> Section:
        for section in self.sections:
            if section.version is None:
                return section
        section = Section(version=None)
        self.sections.insert(0, section)
        return section

    def section(self, version: str) -> Section | None:
        return next((section for section in self.sections if section.version == version), None)


def entry_line(change_type: str, text: str) -> tuple[str, str] | None:
    """(heading, entry text) of a change, or None for changes that stay out of the changelog."""
    heading = HEADING_OF_CHANGE.get(change_type)
    if heading is None:
        return None
    return heading, f"{BREAKING_MARK}{text}" if change_type == "breaking" else text


def change_of_entry(heading: str, text: str) -> tuple[str, str]:
    """(change type, text) read back from a changelog entry."""
    if heading == "Changed" and text.startswith(BREAKING_MARK):
        return "breaking", text[len(BREAKING_MARK):]
    return CHANGE_OF_HEADING[heading], text


def add_entry(section: Section, change_type: str, text: str) -> None:
    line = entry_line(change_type, text)
    if line is not None:
        section.entries.setdefault(line[0], []).append(line[1])


def render_entries(section: Section) -> str:
    """The headings and entries of one section, without its title (release notes)."""
    blocks = []
    for heading in HEADINGS:
        items = section.entries.get(heading) or []
        if items:
            blocks.append(f"### {heading}\n\n" + "\n".join("- " + item.replace("\n", "\n  ") for item in items))
    return "\n\n".join(blocks)


def render(changelog: Changelog) -> str:
    parts = [changelog.preamble.strip()]
    sections = list(changelog.sections)
    if not any(section.version is None for section in sections):
        sections.insert(0, Section(version=None))
    for section in sections:
        entries = render_entries(section)
        parts.append(f"{section.title}\n\n{entries}" if entries else section.title)
    if changelog.links:
        parts.append("\n".join(changelog.links))
    return "\n\n".join(parts) + "\n"


def parse(text: str) -> Changelog:
    """Read a Keep a Changelog file; refuse what it cannot place, naming the line."""
    preamble: list[str] = []
    sections: list[Section] = []
    links: list[str] = []
    section: Section | None = None
    heading: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if LINK.match(line):
            links.append(line)
            continue
        if section is None and not line.startswith("## "):
            preamble.append(line)
            continue
        if line.startswith("## "):
            section, heading = _section(line, number, sections), None
            sections.append(section)
        elif match := HEADING.match(line):
            heading = match["name"]
            if heading not in HEADINGS:
                raise ChangelogError(
                    f"Line {number}: '### {heading}' is not a Keep a Changelog heading "
                    f"({', '.join(HEADINGS)})."
                )
            section.entries.setdefault(heading, [])
        elif match := ENTRY.match(line):
            if heading is None:
                raise ChangelogError(f"Line {number}: an entry outside a '### Added'-style heading.")
            section.entries[heading].append(match["text"])
        elif line.startswith("  ") and heading is not None and section.entries[heading]:
            section.entries[heading][-1] += "\n" + line.strip()
        elif line.strip():
            raise ChangelogError(f"Line {number}: expected a '### Heading' or a '- entry', found '{line[:60]}'.")
    if not sections and not "".join(preamble).strip():
        raise ChangelogError("The file is empty: nothing to import.")
    return Changelog(preamble="\n".join(preamble).strip() or DEFAULT_PREAMBLE, sections=sections, links=links)


def _section(line: str, number: int, sections: list[Section]) -> Section:
    match = SECTION.match(line)
    if match is None:
        raise ChangelogError(f"Line {number}: expected '## [X.Y.Z] - YYYY-MM-DD' or '## [Unreleased]'.")
    name = match["name"]
    if name.lower() == "unreleased":
        version = None
    else:
        try:
            version = str(parse_version(name))
        except InvalidVersion as error:
            raise ChangelogError(f"Line {number}: {error.message}") from None
    if any(section.version == version for section in sections):
        raise ChangelogError(f"Line {number}: the section {version or 'Unreleased'} appears twice.")
    try:
        released_on = date.fromisoformat(match["date"]) if match["date"] else None
    except ValueError:
        raise ChangelogError(f"Line {number}: '{match['date']}' is not a date (YYYY-MM-DD).") from None
    return Section(version=version, released_on=released_on, yanked=bool(match["yanked"]))


def promote(changelog: Changelog, *, version: str, released_on: date) -> Changelog:
    """Move the Unreleased entries to a new '## [version] - date' section under an empty Unreleased."""
    if changelog.section(version) is not None:
        raise ChangelogError(f"The changelog already has a section for {version}.")
    unreleased = changelog.unreleased
    released = Section(version=version, released_on=released_on, entries=unreleased.entries)
    others = [section for section in changelog.sections if section.version is not None]
    return replace(changelog, sections=[Section(version=None), released, *others])
