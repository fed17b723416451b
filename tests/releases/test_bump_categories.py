"""Bump categories: a table of vectors, each naming why (bump-deps.md categories, issue 8)."""

import pytest

from releases.rules.bumps import Category, Path, UnclearVersion, categorise, parse_bump_version

CATEGORY_VECTORS = [
    # package, ecosystem, from, to, severity, category
    ("lodash", "npm", "4.17.20", "4.17.21", "none", Category.PATCH),
    ("lodash", "npm", "4.17.21", "4.18.0", "none", Category.MINOR),
    ("lodash", "npm", "4.17.21", "5.0.0", "none", Category.MAJOR),
    ("lodash", "npm", "4.17.20", "4.17.21", "critical", Category.SECURITY),
    ("lodash", "npm", "4.17.20", "4.18.0", "high", Category.SECURITY),
    ("lodash", "npm", "4.17.20", "4.17.21", "moderate", Category.PATCH),
    ("lodash", "npm", "4.17.20", "4.17.21", "unknown", Category.PATCH),
    ("lodash", "npm", "4.17.21", "5.0.0", "critical", Category.MAJOR),
    ("vitest", "npm", "v1.2.0", "v1.2.1", "none", Category.PATCH),
    ("vitest", "npm", "1.2.0", "v1.3.0", "none", Category.MINOR),
    ("react", "npm", "18.2.0", "19.0.0-rc.1", "none", Category.MAJOR),
    ("react", "npm", "18.2.0", "18.3.0-beta.2", "none", Category.MAJOR),
    ("react", "npm", "19.0.0-rc.1", "19.0.0-rc.2", "none", Category.MAJOR),
    ("react", "npm", "19.0.0-rc.2", "19.0.0", "none", Category.PATCH),
    ("hono", "npm", "0.3.1", "0.4.0", "none", Category.MAJOR),
    ("hono", "npm", "0.3.1", "0.3.2", "none", Category.PATCH),
    ("django", "pip", "5.2.1", "5.2.2", "none", Category.PATCH),
    ("django", "pip", "5.2", "5.2.1", "none", Category.PATCH),
    ("django", "pip", "5.2.1", "6.0rc1", "none", Category.MAJOR),
    ("django", "pip", "6.0rc1", "6.0", "none", Category.PATCH),
    ("django", "pip", "5.1.4", "5.2", "none", Category.MINOR),
    ("requests", "pip", "2.32.3", "2.32.3.post1", "none", Category.PATCH),
    ("black", "pip", "2024.1.0", "2024.2.0", "none", Category.MINOR),
    ("certifi", "pip", "2024.8.30", "2025.1.31", "none", Category.MINOR),
    ("cryptography", "pip", "43.0.0", "43.0.1", "high", Category.SECURITY),
    ("actions/checkout", "github-actions", "v3", "v4", "none", Category.MAJOR),
    ("actions/setup-node", "github-actions", "v4.0.2", "v4.1.0", "none", Category.MINOR),
    ("nginx", "docker", "1.25.3-alpine", "1.25.4-alpine", "none", Category.PATCH),
    ("nginx", "docker", "1.25-alpine3.18", "1.25-alpine3.19", "none", Category.PATCH),
    ("redis", "docker", "7.2-alpine", "7.2-bookworm", "none", Category.MAJOR),
    ("redis", "docker", "7.2-alpine", "7.4-alpine", "critical", Category.SECURITY),
    ("postgres", "docker", "15-alpine", "16-alpine", "none", Category.DATABASE_MAJOR),
    ("docker.io/library/postgres", "docker", "15.6", "16.2", "critical", Category.DATABASE_MAJOR),
    ("postgres", "docker", "16.1-alpine", "16.2-alpine", "none", Category.MINOR),
    ("postgis/postgis", "docker", "15-3.4", "16-3.4", "none", Category.DATABASE_MAJOR),
    ("python", "docker", "3.11-slim", "3.12-slim", "none", Category.RUNTIME_LTS),
    ("python", "docker", "3.12.1-slim-bookworm", "3.12.2-slim-bookworm", "none", Category.PATCH),
    ("node", "docker", "20-alpine", "22-alpine", "none", Category.RUNTIME_LTS),
    ("node", "docker", "20.11.0-alpine", "20.11.1-alpine", "none", Category.PATCH),
    ("docmost/docmost", "docker", "0.8.1", "0.8.2", "none", Category.UPSTREAM_IMAGE),
    ("ghcr.io/docmost/docmost", "docker", "v0.8.4", "v0.9.0", "critical", Category.UPSTREAM_IMAGE),
    ("baserow/baserow", "docker", "1.29.2", "1.30.0", "none", Category.UPSTREAM_IMAGE),
]


@pytest.mark.parametrize(("package", "ecosystem", "old", "new", "severity", "category"), CATEGORY_VECTORS)
def test_category_vector(package, ecosystem, old, new, severity, category):
    result = categorise(package=package, ecosystem=ecosystem, from_version=old, to_version=new, severity=severity)
    assert result.category == category, result.explanation


@pytest.mark.parametrize(
    ("ecosystem", "old", "new", "words"),
    [
        ("docker", "15-alpine", "15.4-alpine", "different precisions"),
        ("github-actions", "v4", "v4.1.0", "different precisions"),
        ("npm", "1.2.3", "1.2.2", "downgrade"),
        ("docker", "16-alpine", "15-alpine", "downgrade"),
        ("pip", "6.0", "6.0rc1", "downgrade"),
        ("npm", "1.2.3", "1.2.3", "changes no version"),
        ("npm", "1.2.3", "v1.2.3", "changes no version"),
        ("docker", "latest", "16-alpine", "floating tag"),
        ("docker", "15", "lts-alpine", "floating tag"),
        ("github-actions", "b4ffde65f46336ab88eb53be808477a3936bae11", "v4", "commit or digest pin"),
        ("docker", "15", "sha256:0f3a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4", "digest pin"),
        ("npm", "^1.2.0", "1.3.0", "range"),
        ("npm", "1.x", "2.x", "range"),
        ("pip", "2023.1", "24.1.0", "calendar and semantic"),
        ("pip", "1!2.0", "1!3.0", "epoch"),
        ("npm", "one.two", "1.0.0", "not a version"),
        ("pip", "1.0-final-ish", "1.1", "not a PEP 440 version"),
        ("npm", "", "1.0.0", "missing"),
    ],
)
def test_unclear_versions_are_refused_with_the_reason(ecosystem, old, new, words):
    with pytest.raises(UnclearVersion) as refused:
        categorise(package="pkg", ecosystem=ecosystem, from_version=old, to_version=new)
    assert words in refused.value.message


def test_an_unknown_ecosystem_is_refused():
    with pytest.raises(UnclearVersion, match="Unknown ecosystem"):
        categorise(package="gem", ecosystem="rubygems", from_version="1.0.0", to_version="1.0.1")


@pytest.mark.parametrize(
    ("category", "path"),
    [(Category.SECURITY, Path.AUTO_MERGE), (Category.PATCH, Path.REVIEW), (Category.MINOR, Path.REVIEW),
     (Category.MAJOR, Path.GO_NO_GO), (Category.RUNTIME_LTS, Path.GO_NO_GO),
     (Category.DATABASE_MAJOR, Path.GO_NO_GO), (Category.UPSTREAM_IMAGE, Path.STAGING_TEST)],
)
def test_each_category_decides_its_path(category, path):
    vector = next(vector for vector in CATEGORY_VECTORS if vector[5] == category)
    result = categorise(package=vector[0], ecosystem=vector[1], from_version=vector[2], to_version=vector[3],
                        severity=vector[4])
    assert result.path == path


def test_a_patch_with_a_critical_advisory_says_so():
    result = categorise(package="lodash", ecosystem="npm", from_version="4.17.20", to_version="4.17.21",
                        severity="critical", advisories=("GHSA-35jh-r3h4-6jhm",))
    assert result.category == Category.SECURITY
    assert "critical advisory (GHSA-35jh-r3h4-6jhm)" in result.explanation


def test_a_major_with_a_critical_advisory_stays_a_major_and_says_it_cannot_auto_merge():
    result = categorise(package="lodash", ecosystem="npm", from_version="4.17.21", to_version="5.0.0",
                        severity="critical")
    assert (result.category, result.path) == (Category.MAJOR, Path.GO_NO_GO)
    assert "cannot merge automatically" in result.explanation


def test_explanations_name_the_rule_applied():
    assert "0.x" in categorise(package="p", ecosystem="npm", from_version="0.3.1", to_version="0.4.0").explanation
    assert "pre-release" in categorise(package="p", ecosystem="npm", from_version="1.0.0",
                                       to_version="2.0.0-rc.1").explanation
    assert "variant" in categorise(package="redis", ecosystem="docker", from_version="7-alpine",
                                   to_version="7-bookworm").explanation
    assert "calendar" in categorise(package="p", ecosystem="pip", from_version="2024.1",
                                    to_version="2024.2").explanation


@pytest.mark.parametrize(
    ("text", "ecosystem", "release", "prerelease", "variant"),
    [
        ("v1.2.3", "npm", (1, 2, 3), (), ""),
        ("1.2.3-rc.1", "npm", (1, 2, 3), ("rc", 1), ""),
        ("15-alpine", "docker", (15,), (), "alpine"),
        ("3.12-slim-bookworm", "docker", (3, 12), (), "slim-bookworm"),
        ("2.0.0-rc.1-alpine", "docker", (2, 0, 0), ("rc", 1), "alpine"),
        ("6.0rc1", "pip", (6, 0), ("rc", 1), ""),
        ("2.0b2", "pip", (2, 0), ("beta", 2), ""),
        ("V4", "github-actions", (4,), (), ""),
    ],
)
def test_version_strings_are_read_as_their_ecosystem_writes_them(text, ecosystem, release, prerelease, variant):
    version = parse_bump_version(text, ecosystem)
    assert (version.release, version.prerelease, version.variant) == (release, prerelease, variant)
