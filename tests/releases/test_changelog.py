from datetime import date

import pytest

from releases.rules.changelog import (
    Changelog,
    ChangelogError,
    Section,
    add_entry,
    change_of_entry,
    entry_line,
    parse,
    promote,
    render,
)

EXISTING = """# Changelog

All notable changes to this project are documented here.

## [Unreleased]

### Added

- Release console
- Freeze windows
  with a time zone

## [1.1.0] - 2026-10-02

### Added

- Timesheet export

### Changed

- **BREAKING:** The sync API answers 409 on duplicates

### Fixed

- Docmost page links

## [1.0.0] - 2026-09-01 [YANKED]

### Security

- Rotate the Baserow token

[Unreleased]: https://git.example/compare/v1.1.0...HEAD
[1.1.0]: https://git.example/compare/v1.0.0...v1.1.0
"""


def test_import_then_render_gives_back_the_same_file():
    assert render(parse(EXISTING)) == EXISTING


def test_import_reads_versions_dates_headings_and_multi_line_entries():
    changelog = parse(EXISTING)
    assert [section.version for section in changelog.sections] == [None, "1.1.0", "1.0.0"]
    assert changelog.unreleased.entries["Added"] == ["Release console", "Freeze windows\nwith a time zone"]
    assert changelog.section("1.1.0").released_on == date(2026, 10, 2)
    assert changelog.section("1.0.0").yanked


@pytest.mark.parametrize(
    ("change_type", "text", "heading", "line"),
    [
        ("feature", "Export", "Added", "Export"),
        ("change", "Faster sync", "Changed", "Faster sync"),
        ("breaking", "New API", "Changed", "**BREAKING:** New API"),
        ("deprecation", "Old API", "Deprecated", "Old API"),
        ("removal", "Old API", "Removed", "Old API"),
        ("fix", "Login", "Fixed", "Login"),
        ("security", "Token", "Security", "Token"),
    ],
)
def test_each_change_type_has_its_keep_a_changelog_heading_and_reads_back(change_type, text, heading, line):
    assert entry_line(change_type, text) == (heading, line)
    assert change_of_entry(heading, line) == (change_type, text)


@pytest.mark.parametrize("change_type", ["docs", "chore"])
def test_docs_and_chore_stay_out_of_the_changelog(change_type):
    assert entry_line(change_type, "x") is None


def test_promotion_moves_unreleased_entries_to_a_dated_version_section():
    changelog = Changelog()
    add_entry(changelog.unreleased, "feature", "Release console")
    add_entry(changelog.unreleased, "fix", "Login")
    promoted = promote(changelog, version="1.2.0", released_on=date(2026, 11, 27))
    text = render(promoted)
    expected = "## [Unreleased]\n\n## [1.2.0] - 2026-11-27\n\n### Added\n\n- Release console\n\n### Fixed\n\n- Login"
    assert expected in text
    assert promoted.unreleased.is_empty()


def test_promotion_keeps_older_sections_below_the_new_one():
    promoted = promote(parse(EXISTING), version="1.2.0", released_on=date(2026, 11, 27))
    assert [section.version for section in promoted.sections] == [None, "1.2.0", "1.1.0", "1.0.0"]
    assert render(parse(render(promoted))) == render(promoted)


def test_promoting_an_existing_version_is_refused():
    with pytest.raises(ChangelogError, match="already has a section for 1.1.0"):
        promote(parse(EXISTING), version="1.1.0", released_on=date(2026, 11, 27))


def test_an_empty_changelog_renders_an_unreleased_section():
    assert "## [Unreleased]" in render(Changelog(sections=[]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("# Changelog\n\n## [one.two] - 2026-01-01\n", "Line 3: 'one.two' is not a semantic version"),
        ("## [1.0.0] - 2026-13-01\n", "not a date"),
        ("## [1.0.0]\n\n### Improved\n\n- x\n", "not a Keep a Changelog heading"),
        ("## [1.0.0]\n\n- x\n", "entry outside"),
        ("## [1.0.0]\n\n### Added\n\nsome prose\n", "Line 5: expected"),
        ("## [1.0.0]\n## [v1.0.0]\n", "appears twice"),
        ("## Release notes for the spring\n", "expected '## [X.Y.Z]"),
    ],
)
def test_import_refuses_what_it_cannot_place_and_names_the_line(text, message):
    with pytest.raises(ChangelogError, match=message.replace("[", r"\[")):
        parse(text)


def test_a_section_title_shows_version_and_date():
    assert Section(version="1.2.3", released_on=date(2026, 1, 2)).title == "## [1.2.3] - 2026-01-02"
