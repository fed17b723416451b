"""The app's outbound HTTP: the deploy hook and the smoke / watch checks. Each call is recorded by the caller."""

import time
from dataclasses import dataclass

import requests

from releases import conf
from releases.smoke_urls import smoke_url_problem

ANSWER_LIMIT = 4000


@dataclass(frozen=True)
class HookAnswer:
    ok: bool
    status: int | None
    text: str


def call_deploy_hook(*, url: str, payload: dict) -> HookAnswer:
    """POST the deployment to the hook (a CI workflow-dispatch endpoint, for example)."""
    headers = {"Accept": "application/json"}
    token = conf.deploy_hook_token()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = requests.post(url, json=payload, headers=headers, timeout=conf.http_timeout())
    except requests.RequestException as error:
        return HookAnswer(False, None, f"{type(error).__name__}: {error}"[:ANSWER_LIMIT])
    return HookAnswer(response.ok, response.status_code, response.text[:ANSWER_LIMIT])


@dataclass(frozen=True)
class CheckOutcome:
    ok: bool
    status_code: int | None
    detail: str
    duration_ms: int


def run_http_check(*, url: str, expected_status: int, expected_text: str = "") -> CheckOutcome:
    """GET url; ok when the status is the expected one and the body holds the expected text (if any)."""
    problem = smoke_url_problem(url)
    if problem:
        return CheckOutcome(False, None, f"Refused before any request: {problem}.", 0)
    started = time.monotonic()
    try:
        response = requests.get(url, timeout=conf.http_timeout(), allow_redirects=False)
    except requests.RequestException as error:
        elapsed = int((time.monotonic() - started) * 1000)
        # The error's class only: its text (addresses, ports, refusals) would make the check a port scanner.
        return CheckOutcome(False, None, f"No answer ({type(error).__name__}).", elapsed)
    elapsed = int((time.monotonic() - started) * 1000)
    if response.status_code != expected_status:
        return CheckOutcome(
            False, response.status_code,
            f"HTTP {response.status_code}, expected {expected_status}{_failing_health_checks(response)}.", elapsed,
        )
    if expected_text and expected_text not in response.text:
        return CheckOutcome(
            False, response.status_code, f"HTTP {response.status_code} but the body lacks '{expected_text}'.", elapsed
        )
    return CheckOutcome(True, response.status_code, f"HTTP {response.status_code} as expected.", elapsed)


def _failing_health_checks(response) -> str:
    """', failing: docmost (answered 503)' when the answer is a /healthz-shaped JSON body, so the page names
    the check that failed rather than only the URL."""
    try:
        checks = response.json().get("checks", {})
        failing = [f"{name} ({check.get('detail', '')})" for name, check in checks.items()
                   if check.get("status") == "failing"]
    except (ValueError, AttributeError):
        return ""
    return f", failing: {'; '.join(failing)}"[:400] if failing else ""


@dataclass(frozen=True)
class CommitStatus:
    context: str
    state: str
    url: str
    updated_at: str
    description: str


def fetch_commit_statuses(*, url: str) -> list[CommitStatus]:
    """Read a commit's statuses from a Forgejo/Gitea list (`/commits/{sha}/statuses`) or a GitHub combined
    status (`/commits/{sha}/status`, whose `statuses` holds the list). Raises requests.RequestException."""
    headers = {"Accept": "application/json"}
    token = conf.commit_status_token()
    if token:
        headers["Authorization"] = f"token {token}"
    response = requests.get(url, headers=headers, timeout=conf.http_timeout())
    response.raise_for_status()
    body = response.json()
    items = body.get("statuses", []) if isinstance(body, dict) else body
    return [
        CommitStatus(
            context=str(item.get("context", "")), state=str(item.get("state") or item.get("status") or ""),
            url=str(item.get("target_url") or ""),
            updated_at=str(item.get("updated_at") or item.get("created_at") or ""),
            description=str(item.get("description") or ""),
        )
        for item in items if isinstance(item, dict)
    ]
