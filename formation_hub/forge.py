"""One client for the two forges the playbooks name: GitHub (REST v3) and Forgejo / Gitea (API v1).

`forge_client()` builds it from the ForgeConnection row; the kind picks the paths, the auth header and
the few body fields that differ. Every method raises ForgeError with the forge's own message, so a
refused merge reads "Required status check ... is expected" in the console, not a stack trace.
"""

import re
from dataclasses import dataclass
from typing import Any

import environ
import requests
from django.conf import settings

from formation_hub.models import ForgeConnection

env = environ.Env()
TIMEOUT = (3.05, 15.0)
# `make run` talks to the local forge stand-in with this token when FORGE_TOKEN is unset.
DEMO_TOKENS = {"FORGE_TOKEN": "demo-forge-token"}
PULL_REQUEST_URL = re.compile(r"/(?P<owner>[^/]+)/(?P<repo>[^/]+)/pulls?/(?P<number>\d+)/?$")
GITHUB_REVIEW_EVENTS = {"approve": "APPROVE", "request_changes": "REQUEST_CHANGES", "comment": "COMMENT"}
FORGEJO_REVIEW_EVENTS = {"approve": "APPROVED", "request_changes": "REQUEST_CHANGES", "comment": "COMMENT"}
STATUS_STATES = ("pending", "success", "failure", "error")


class ForgeError(Exception):
    """A forge call that did not succeed: `status` is the HTTP status (None: no answer)."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class ForgeNotConfigured(ForgeError):
    pass


@dataclass(frozen=True)
class PullRequestRef:
    repository: str
    number: int


@dataclass(frozen=True)
class PullRequest:
    number: int
    head_sha: str
    state: str
    merged: bool
    merge_commit_sha: str
    html_url: str


def token_from_env(variable: str) -> str:
    value = env.str(variable, default="") if variable else ""
    if not value and settings.DEBUG:
        return DEMO_TOKENS.get(variable, "")
    return value


def pull_request_ref(url: str) -> PullRequestRef | None:
    """owner/name and number of a pull request URL (GitHub `/pull/12`, Forgejo `/pulls/12`), else None."""
    found = PULL_REQUEST_URL.search(url.split("?")[0].split("#")[0]) if url else None
    if found is None:
        return None
    return PullRequestRef(repository=f"{found['owner']}/{found['repo']}", number=int(found["number"]))


class ForgeClient:
    def __init__(self, connection: ForgeConnection, *, token: str | None = None):
        self.connection = connection
        self.kind = connection.kind
        self.repository = connection.repository.strip("/")
        self.token = token if token is not None else token_from_env(connection.token_env_var)
        base = connection.url.rstrip("/")
        self.api = f"{base}/api/v1" if self.kind == ForgeConnection.Kind.FORGEJO else base
        self.session = requests.Session()

    # Transport ------------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if self.kind == ForgeConnection.Kind.FORGEJO:
            return {"Authorization": f"token {self.token}", "Accept": "application/json"}
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        if not self.token:
            raise ForgeNotConfigured(f"No forge token: set {self.connection.token_env_var} in the environment.")
        try:
            response = self.session.request(method, f"{self.api}{path}", json=body, headers=self._headers(),
                                            timeout=TIMEOUT)
        except requests.RequestException as error:
            raise ForgeError(f"{method} {path}: no answer from the forge ({type(error).__name__})") from error
        try:
            data = response.json() if response.content.strip() else None
        except ValueError:
            data = None
        if response.status_code >= 300:
            message = data.get("message") if isinstance(data, dict) else ""
            raise ForgeError(f"{method} {path} answered {response.status_code}: {message or response.reason}",
                             status=response.status_code)
        return data

    def _repo(self, repository: str | None = None) -> str:
        return f"/repos/{repository or self.repository}"

    # Pull requests ----------------------------------------------------------------------------------

    def pull_request(self, ref: PullRequestRef) -> PullRequest:
        data = self._call("GET", f"{self._repo(ref.repository)}/pulls/{ref.number}")
        return PullRequest(
            number=int(data["number"]), head_sha=data["head"]["sha"], state=data.get("state", ""),
            merged=bool(data.get("merged")), merge_commit_sha=data.get("merge_commit_sha") or "",
            html_url=data.get("html_url", ""),
        )

    def merge_pull_request(self, ref: PullRequestRef, *, head_sha: str, title: str = "") -> str:
        """Merge, refused by the forge if the head moved from `head_sha` or a required check is not green.
        Returns the merge commit SHA (Forgejo answers without it: read back from the pull request)."""
        path = f"{self._repo(ref.repository)}/pulls/{ref.number}/merge"
        method = self.connection.merge_method
        if self.kind == ForgeConnection.Kind.FORGEJO:
            self._call("POST", path, {"Do": method, "head_commit_id": head_sha, "MergeTitleField": title})
            return self.pull_request(ref).merge_commit_sha
        data = self._call("PUT", path, {"sha": head_sha, "merge_method": method, "commit_title": title})
        return data.get("sha", "")

    def pull_request_commits(self, ref: PullRequestRef) -> list[tuple[str, str]]:
        """(sha, message) of the pull request's commits, oldest first (first page: 100 on both forges)."""
        suffix = "?per_page=100" if self.kind == ForgeConnection.Kind.GITHUB else "?limit=100"
        data = self._call("GET", f"{self._repo(ref.repository)}/pulls/{ref.number}/commits{suffix}") or []
        return [(item["sha"], item["commit"]["message"]) for item in data]

    def review_pull_request(self, ref: PullRequestRef, *, event: str, body: str, head_sha: str = "") -> int:
        """Post a review: event approve, request_changes or comment. Returns the review id."""
        events = FORGEJO_REVIEW_EVENTS if self.kind == ForgeConnection.Kind.FORGEJO else GITHUB_REVIEW_EVENTS
        payload = {"event": events[event], "body": body}
        if head_sha:
            payload["commit_id"] = head_sha
        data = self._call("POST", f"{self._repo(ref.repository)}/pulls/{ref.number}/reviews", payload)
        return int(data["id"])

    # Statuses, tags, releases, issues ---------------------------------------------------------------

    def set_commit_status(self, sha: str, *, state: str, description: str, target_url: str = "",
                          repository: str | None = None) -> None:
        if state not in STATUS_STATES:
            raise ForgeError(f"Unknown commit status state '{state}'.")
        body = {"state": state, "context": self.connection.status_context, "description": description[:140]}
        if target_url:
            body["target_url"] = target_url
        self._call("POST", f"{self._repo(repository)}/statuses/{sha}", body)

    def create_tag(self, *, name: str, sha: str, message: str) -> None:
        if self.kind == ForgeConnection.Kind.FORGEJO:
            self._call("POST", f"{self._repo()}/tags", {"tag_name": name, "target": sha, "message": message})
            return
        # GitHub: an annotated tag object, then the ref that points at it.
        tag = self._call("POST", f"{self._repo()}/git/tags",
                         {"tag": name, "message": message, "object": sha, "type": "commit"})
        self._call("POST", f"{self._repo()}/git/refs", {"ref": f"refs/tags/{name}", "sha": tag["sha"]})

    def tags(self) -> list[dict]:
        return self._call("GET", f"{self._repo()}/tags") or []

    def create_release(self, *, tag: str, name: str, body: str, sha: str) -> str:
        """Returns the release's web URL."""
        data = self._call("POST", f"{self._repo()}/releases",
                          {"tag_name": tag, "name": name, "body": body, "target_commitish": sha,
                           "draft": False, "prerelease": False})
        return data.get("html_url", "")

    def create_issue(self, *, title: str, body: str) -> tuple[int, str]:
        """Returns (number, web URL)."""
        data = self._call("POST", f"{self._repo()}/issues", {"title": title, "body": body})
        return int(data["number"]), data.get("html_url", "")


def forge_connection() -> ForgeConnection | None:
    return ForgeConnection.objects.filter(key="default").first()


def forge_client() -> ForgeClient:
    connection = forge_connection()
    if connection is None:
        raise ForgeNotConfigured("No forge connection: add one under Console -> Forge connections.")
    return ForgeClient(connection)


def standin_port() -> int:
    return env.int("FORGE_STANDIN_PORT", default=8030)


def load_demo_forge() -> str:
    """`make run`: the forge connection points at the local forge stand-in (an admin's edits are kept)."""
    ForgeConnection.objects.get_or_create(key="default", defaults={
        "kind": ForgeConnection.Kind.GITHUB, "url": f"http://127.0.0.1:{standin_port()}",
        "repository": "formation-hub/app", "token_env_var": "FORGE_TOKEN",
    })
    return f"forge connection to the local forge stand-in (port {standin_port()}, repository formation-hub/app)"
