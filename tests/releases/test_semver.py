import pytest
from hypothesis import given
from hypothesis import strategies as st
from semver import Version

from releases.rules.semver import (
    InvalidVersion,
    Level,
    bump,
    current_version,
    level_of,
    parse_version,
    propose_next,
    same_precedence,
    tag_name,
    validate_successor,
)


def test_the_pinned_semver_bumps_a_build_metadata_version_to_the_next_patch():
    assert str(Version.parse("1.2.3+build.7").bump_patch()) == "1.2.4"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2.3", "1.2.3"),
        ("v1.2.3", "1.2.3"),
        ("V1.2.3", "1.2.3"),
        (" v0.1.0 ", "0.1.0"),
        ("1.0.0-rc.1", "1.0.0-rc.1"),
        ("1.2.3+build.7", "1.2.3+build.7"),
        ("1.0.0-alpha.beta.1+exp.sha.5114f85", "1.0.0-alpha.beta.1+exp.sha.5114f85"),
        ("v1.2.3-rollback", "1.2.3-rollback"),
    ],
)
def test_parse_strips_the_tag_prefix_and_keeps_pre_release_and_build(text, expected):
    assert str(parse_version(text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1.2", "not a semantic version"),
        ("1.2.3.4", "not a semantic version"),
        ("01.2.3", "not a semantic version"),
        ("1.2.3-", "not a semantic version"),
        ("vv1.2.3", "not a semantic version"),
        ("1.2.3-rc..1", "not a semantic version"),
        ("latest", "not a semantic version"),
        ("-1.2.3", "not a semantic version"),
        (None, "not NoneType"),
        (123, "not int"),
    ],
)
def test_junk_is_refused_with_a_message_saying_what_a_version_looks_like(text, message):
    with pytest.raises(InvalidVersion, match=message):
        parse_version(text)


# Each list is in ascending precedence (semver.org section 11, plus build metadata ignored).
PRECEDENCE_CHAINS = [
    ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
     "1.0.0-rc.1", "1.0.0"],
    ["1.0.0", "2.0.0", "2.1.0", "2.1.1"],
    ["0.9.9", "0.10.0", "1.0.0-0", "1.0.0"],
    ["1.2.3-rollback", "1.2.3", "1.2.4-rc.1", "1.2.4"],
]


@pytest.mark.parametrize("chain", PRECEDENCE_CHAINS)
def test_precedence_follows_semver(chain):
    versions = [parse_version(text) for text in chain]
    assert versions == sorted(versions)
    assert all(left < right for left, right in zip(versions, versions[1:], strict=False))


def test_build_metadata_does_not_count_for_precedence():
    assert same_precedence(parse_version("1.2.3+a"), parse_version("v1.2.3+b"))
    assert not same_precedence(parse_version("1.2.3"), parse_version("1.2.3-rc.1"))


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ([], None),
        (["v1.2.3", "v1.2.3-rollback", "v1.2.2"], "1.2.3"),
        (["v1.2.2", "v1.2.3-rollback"], "1.2.2"),
        (["v1.2.2", "v1.3.0-rollback.1"], "1.2.2"),
        (["v0.2.0", "not-a-tag", "release-7"], "0.2.0"),
        (["v1.0.0-rc.1", "v0.9.0"], "1.0.0-rc.1"),
    ],
)
def test_current_version_is_the_highest_tag_and_never_a_rollback_tag(tags, expected):
    current = current_version(tags)
    assert (str(current) if current else None) == expected


def test_tags_carry_the_v_prefix():
    assert tag_name(parse_version("1.2.3")) == "v1.2.3"


@pytest.mark.parametrize(
    ("current", "changes", "expected"),
    [
        (None, ["fix"], "0.1.0"),
        (None, ["breaking"], "0.1.0"),
        ("1.2.3", ["fix"], "1.2.4"),
        ("1.2.3", ["security"], "1.2.4"),
        ("1.2.3", ["perf", "docs"], "1.2.4"),
        ("1.2.3", ["feature", "fix"], "1.3.0"),
        ("1.2.3", ["deprecation"], "1.3.0"),
        ("1.2.3", ["breaking", "feature", "fix"], "2.0.0"),
        ("1.2.3", ["removal"], "2.0.0"),
        ("1.2.3+build.7", ["fix"], "1.2.4"),
        ("0.3.4", ["breaking"], "0.4.0"),
        ("0.3.4", ["feature"], "0.4.0"),
        ("0.3.4", ["fix"], "0.3.5"),
        ("1.0.0-rc.1", ["fix"], "1.0.0"),
        ("1.0.0-rc.1", ["breaking"], "1.0.0"),
        ("1.1.0-rc.1", ["feature"], "1.1.0"),
        ("1.1.0-rc.1", ["breaking"], "2.0.0"),
        ("1.1.1-rc.1", ["feature"], "1.2.0"),
        ("1.1.1-rc.1", ["fix"], "1.1.1"),
    ],
)
def test_next_version_vectors(current, changes, expected):
    proposal = propose_next(parse_version(current) if current else None, [(kind, kind) for kind in changes])
    assert str(proposal.version) == expected


@pytest.mark.parametrize("changes", [[], ["docs"], ["chore", "docs"]])
def test_docs_and_chore_only_mean_nothing_to_release(changes):
    proposal = propose_next(parse_version("1.2.3"), [(kind, "x") for kind in changes])
    assert proposal.version is None
    assert proposal.level == Level.NONE
    assert "nothing to release" in proposal.explanation


def test_a_proposal_lists_each_change_with_the_level_it_implies():
    proposal = propose_next(
        parse_version("1.2.3"), [("fix", "Login works again"), ("feature", "Export hours"), ("docs", "README")]
    )
    assert [(reason.text, reason.level) for reason in proposal.reasons] == [
        ("Login works again", Level.PATCH), ("Export hours", Level.MINOR), ("README", Level.NONE),
    ]
    assert proposal.level == Level.MINOR
    assert "1.2.3 -> 1.3.0" in proposal.explanation


def test_a_breaking_change_in_0x_explains_that_1_0_0_needs_an_explicit_choice():
    proposal = propose_next(parse_version("0.9.0"), [("breaking", "New API")])
    assert str(proposal.version) == "0.10.0"
    assert "explicit choice" in proposal.explanation


def test_1_0_0_is_proposed_only_with_a_reason():
    proposal = propose_next(parse_version("0.9.0"), [("feature", "MCP server")], stable_reason="Phase 3 delivered")
    assert str(proposal.version) == "1.0.0"
    assert "Phase 3 delivered" in proposal.explanation


def test_going_stable_again_after_1_0_0_is_refused():
    with pytest.raises(InvalidVersion, match="already 1.0.0"):
        propose_next(parse_version("1.2.0"), [("feature", "x")], stable_reason="because")


@pytest.mark.parametrize(
    ("chosen", "current", "required", "existing", "reason"),
    [
        ("1.2.4", "1.2.3", Level.PATCH, [], ""),
        ("1.3.0", "1.2.3", Level.PATCH, [], ""),
        ("2.0.0", "1.2.3", Level.PATCH, [], ""),
        ("v2.0.0-rc.1", "1.2.3", Level.MAJOR, [], ""),
        ("1.3.0+build.1", "1.2.3", Level.MINOR, [], ""),
        ("0.5.0", "0.4.2", Level.MAJOR, [], ""),
        ("1.0.0", "0.4.2", Level.MINOR, [], "going stable"),
        ("1.0.0", "1.0.0-rc.1", Level.PATCH, [], ""),
        ("1.0.0-rc.2", "1.0.0-rc.1", Level.PATCH, [], ""),
        ("0.1.0", None, Level.MAJOR, [], ""),
    ],
)
def test_valid_hand_chosen_successors_are_accepted(chosen, current, required, existing, reason):
    version = validate_successor(
        chosen, current=parse_version(current) if current else None, required=required,
        existing=[parse_version(text) for text in existing], stable_reason=reason,
    )
    assert version == parse_version(chosen)


@pytest.mark.parametrize(
    ("chosen", "current", "required", "existing", "message"),
    [
        ("1.2.5", "1.2.3", Level.PATCH, [], "skips a number"),
        ("1.4.0", "1.2.3", Level.PATCH, [], "skips a number"),
        ("3.0.0", "1.2.3", Level.PATCH, [], "skips a number"),
        ("1.2.4", "1.2.3", Level.MINOR, [], "require at least a minor"),
        ("1.3.0", "1.2.3", Level.MAJOR, [], "require at least a major"),
        ("1.2.2", "1.2.3", Level.PATCH, [], "not higher"),
        ("1.2.3", "1.2.3", Level.PATCH, [], "not higher"),
        ("1.2.4", "1.2.3", Level.PATCH, ["1.2.4+build.9"], "already exists"),
        ("1.0.0", "0.4.2", Level.MAJOR, [], "explicit choice"),
        ("0.4.3", "0.4.2", Level.MAJOR, [], "require at least a minor"),
        ("1.2.4-rollback", "1.2.3", Level.PATCH, [], "rollback tag"),
        ("0.2.0", None, Level.PATCH, [], "skips a number"),
        ("1.2", "1.2.3", Level.PATCH, [], "not a semantic version"),
    ],
)
def test_invalid_hand_chosen_versions_are_refused_with_the_reason(chosen, current, required, existing, message):
    with pytest.raises(InvalidVersion, match=message):
        validate_successor(
            chosen, current=parse_version(current) if current else None, required=required,
            existing=[parse_version(text) for text in existing],
        )


versions = st.builds(
    Version,
    major=st.integers(0, 4), minor=st.integers(0, 4), patch=st.integers(0, 4),
    prerelease=st.one_of(st.none(), st.sampled_from(["rc.1", "alpha", "beta.2"])),
)
levels = st.sampled_from([Level.PATCH, Level.MINOR, Level.MAJOR])


@given(current=versions, level=levels)
def test_every_bump_is_higher_and_a_valid_successor_of_its_level(current, level):
    proposed = bump(current, level)
    assert proposed > current
    assert proposed.prerelease is None
    validate_successor(proposed, current=current, required=level, stable_reason="stable")


@given(current=versions, changes=st.lists(st.sampled_from(["fix", "feature", "breaking", "docs"]), max_size=4))
def test_the_proposal_level_is_the_highest_change_level(current, changes):
    proposal = propose_next(current, [(kind, kind) for kind in changes])
    assert proposal.level == level_of(changes)
    if proposal.version is not None:
        assert proposal.version > current
