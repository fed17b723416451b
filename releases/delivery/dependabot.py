"""Dependabot pull-request webhooks (GitHub- and Forgejo/Gitea-style): signature, then the bump it describes.

GitHub signs the body with HMAC-SHA256 in `X-Hub-Signature-256: sha256=<hex>`; Forgejo and Gitea send the
bare hex digest in `X-Forgejo-Signature` / `X-Gitea-Signature`. The secret is DEPENDABOT_WEBHOOK_SECRET
(several, comma-separated, during a rotation); unset, every call is refused. Both forges send the same
`pull_request` object (title, html_url, head.ref, labels, body, merged, user.login, updated_at).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.dateparse import parse_datetime

from formation_hub.errors import DomainError
from formation_hub.inbound import signature_matches
from releases import conf
from releases.rules.bumps import Ecosystem, Severity

SIGNATURE_HEADERS = (
    ("X-Hub-Signature-256", "github"),
    ("X-Forgejo-Signature", "forgejo"),
    ("X-Gitea-Signature", "gitea"),
)
EVENT_HEADERS = {"github": "X-GitHub-Event", "forgejo": "X-Forgejo-Event", "gitea": "X-Gitea-Event"}
DELIVERY_HEADERS = {"github": "X-GitHub-Delivery", "forgejo": "X-Forgejo-Delivery", "gitea": "X-Gitea-Delivery"}
OPENING_ACTIONS = {"opened", "reopened", "synchronize", "synchronized", "edited", "ready_for_review"}
BRANCH_ECOSYSTEMS = {"npm_and_yarn": Ecosystem.NPM, "npm": Ecosystem.NPM, "pip": Ecosystem.PIP, "uv": Ecosystem.PIP,
                     "pip_compile": Ecosystem.PIP, "docker": Ecosystem.DOCKER, "docker_compose": Ecosystem.DOCKER,
                     "github_actions": Ecosystem.ACTIONS}
LABEL_ECOSYSTEMS = {"javascript": Ecosystem.NPM, "python": Ecosystem.PIP, "docker": Ecosystem.DOCKER,
                    "github_actions": Ecosystem.ACTIONS}
TITLE = re.compile(r"\bbump (?P<package>\S+) from (?P<old>\S+) to (?P<new>\S+?)(?: in (?P<directory>\S+))?\s*$",
                   re.IGNORECASE)
# "Bump the production-deps group with 3 updates", "Bump the pip group across 2 directories with 5 updates".
GROUP_TITLE = re.compile(r"\bbumps? the (?P<group>\S+) group\b", re.IGNORECASE)
GROUP_UPDATE = re.compile(
    r"^\s*Updates? (?:the requirements on )?`(?P<package>[^`\s]+)` from (?P<old>[^\s`]+?) to (?P<new>[^\s`]+?)\.?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
ADVISORY = re.compile(r"\b(GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|CVE-\d{4}-\d{4,7})\b", re.IGNORECASE)
SEVERITY_TEXT = re.compile(r"severity\W{0,5}(critical|high|moderate|medium|low)\b", re.IGNORECASE)
DEVELOPMENT_LABELS = {"development", "dev-dependencies", "deps-dev", "dependencies-dev"}


class InvalidPullRequest(DomainError):
    """A Dependabot pull request whose bump cannot be read: the webhook answers 422 with the reason."""


@dataclass(frozen=True)
class Signature:
    provider: str
    valid: bool
    problem: str = ""


def provider_of(headers) -> str:
    for provider, header in EVENT_HEADERS.items():
        if header in headers:
            return provider
    return next((provider for header, provider in SIGNATURE_HEADERS if header in headers), "unknown")


def signature_check(*, body: bytes, headers) -> Signature:
    """The first signature header present, checked in constant time against the body's HMAC-SHA256 under
    every valid secret."""
    secrets = conf.dependabot_webhook_secrets()
    provider = provider_of(headers)
    if not secrets:
        return Signature(provider, False, "DEPENDABOT_WEBHOOK_SECRET is not set: every call is refused.")
    for header, header_provider in SIGNATURE_HEADERS:
        given = headers.get(header)
        if given is None:
            continue
        given = given.strip()
        if header_provider == "github":
            if not given.startswith("sha256="):
                return Signature(header_provider, False, f"{header} must be 'sha256=<hex digest>'.")
            given = given[len("sha256="):]
        if signature_matches(body, given, secrets):
            return Signature(header_provider, True)
        return Signature(header_provider, False, f"{header} does not match the body signed with the secret.")
    names = " / ".join(header for header, _ in SIGNATURE_HEADERS)
    return Signature(provider, False, f"No signature header ({names}).")


@dataclass(frozen=True)
class BumpRequest:
    package: str
    ecosystem: str
    from_version: str
    to_version: str
    scope: str
    pull_request_url: str
    advisories: tuple[str, ...] = field(default=())
    severity: str = Severity.NONE


def updated_at(pull_request: dict) -> datetime | None:
    """When the forge last changed the pull request (`updated_at`, both forges): orders its deliveries."""
    value = pull_request.get("updated_at")
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _labels(pull_request: dict) -> set[str]:
    labels = pull_request.get("labels") or []
    return {str(label.get("name", "")).strip().lower() for label in labels if isinstance(label, dict)}


def is_dependabot(pull_request: dict) -> bool:
    user = pull_request.get("user") if isinstance(pull_request.get("user"), dict) else {}
    head = pull_request.get("head") if isinstance(pull_request.get("head"), dict) else {}
    login = str(user.get("login", "")).lower()
    return login.startswith("dependabot") or str(head.get("ref", "")).startswith("dependabot/")


def _ecosystem(pull_request: dict, labels: set[str]) -> str:
    head = pull_request.get("head") if isinstance(pull_request.get("head"), dict) else {}
    parts = str(head.get("ref", "")).split("/")
    if len(parts) > 2 and parts[0] == "dependabot" and parts[1] in BRANCH_ECOSYSTEMS:
        return BRANCH_ECOSYSTEMS[parts[1]]
    for label, ecosystem in LABEL_ECOSYSTEMS.items():
        if label in labels:
            return ecosystem
    raise InvalidPullRequest(
        "The ecosystem cannot be read from the branch (dependabot/<ecosystem>/...) nor the labels: record the "
        "bump by hand or through POST /api/bumps/."
    )


def _severity(labels: set[str], body: str) -> str:
    for label in labels:
        word = label.split(":")[-1].strip()
        if word in Severity.URGENT or word in (Severity.MODERATE, Severity.LOW):
            return word
    match = SEVERITY_TEXT.search(body)
    if match:
        word = match[1].lower()
        return Severity.MODERATE if word == "medium" else word
    return Severity.NONE


@dataclass(frozen=True)
class PullRequestBumps:
    """The bumps of one pull request: one, or one per package of a grouped update (`group` names it)."""

    bumps: tuple[BumpRequest, ...]
    group: str = ""


def _group_versions(title: str, body: str) -> list[tuple[str, str, str]]:
    """(package, from, to) of each 'Updates `<package>` from <a> to <b>' line of a grouped update's body."""
    versions = {}
    for match in GROUP_UPDATE.finditer(body):
        versions.setdefault(match["package"], (match["package"], match["old"], match["new"]))
    if not versions:
        raise InvalidPullRequest(
            f"The grouped update '{title[:120]}' lists no 'Updates `<package>` from <version> to <version>' line "
            "in its description: record its bumps through POST /api/bumps/."
        )
    return list(versions.values())


def bump_requests_from(pull_request: dict) -> PullRequestBumps:
    """What a Dependabot pull request bumps, or InvalidPullRequest saying what is missing.

    A grouped update (Dependabot's `groups` setting: "Bump the production-deps group with 3 updates") gives one
    request per package listed in its description. Its advisories and severity come from its labels only: the
    release notes it quotes mention other packages' CVEs, which must not make the whole group a security bump.
    """
    title = str(pull_request.get("title") or "")
    url = str(pull_request.get("html_url") or "").strip()
    if "\x00" in title or "\x00" in url:
        raise InvalidPullRequest("pull_request.title and html_url must not contain NUL characters.")
    if not url.startswith(("https://", "http://")):
        raise InvalidPullRequest("pull_request.html_url is missing: it identifies the bump.")
    labels = _labels(pull_request)
    body = str(pull_request.get("body") or "")
    grouped = GROUP_TITLE.search(title)
    if grouped is not None:
        versions = _group_versions(title, body)
        advisories, severity = (), _severity(labels, "")
    else:
        match = TITLE.search(title)
        if match is None:
            raise InvalidPullRequest(
                f"The title '{title[:120]}' does not read 'Bump <package> from <version> to <version>' nor 'Bump "
                "the <name> group with <n> updates': record the bump through POST /api/bumps/."
            )
        versions = [(match["package"], match["old"], match["new"])]
        advisories, severity = tuple(sorted({item.upper() for item in ADVISORY.findall(body)})), _severity(labels, body)
    development = "deps-dev" in title.lower() or bool(labels & DEVELOPMENT_LABELS)
    common = {"ecosystem": _ecosystem(pull_request, labels), "scope": "development" if development else "production",
              "pull_request_url": url[:500], "advisories": advisories, "severity": severity}
    return PullRequestBumps(
        bumps=tuple(BumpRequest(package=package[:200], from_version=old, to_version=new, **common)
                    for package, old, new in versions),
        group=grouped["group"][:100] if grouped is not None else "",
    )
