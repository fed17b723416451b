"""The forge stand-in: GitHub-shaped routes under `/repos/...`, Forgejo-shaped ones under `/api/v1/repos/...`.

Both shapes share one state per repository, so a test can drive it either way. Differences kept from the
real products: GitHub merges with `PUT .../merge` {sha, merge_method} and answers {sha, merged, message};
Forgejo with `POST .../merge` {Do, head_commit_id} and an empty 200. GitHub reviews use APPROVE, Forgejo
APPROVED. GitHub tags are a tag object (`git/tags`) plus a ref (`git/refs`); Forgejo has `POST .../tags`.
Errors are `{"message", "documentation_url"}` (GitHub) or `{"message", "url"}` (Forgejo).
"""

import hashlib
import itertools
import time
from typing import Any

from sandbox.httpbase import Request, Response, StandIn

DEMO_TOKEN = "demo-forge-token"
DEMO_REPOSITORY = "formation-hub/app"
# The pull requests `make run`'s demo data names (releases/demo.py, DEMO_PR): stories S-01 to S-06 and the
# Dependabot bumps 41 to 44, so publishing their gate status finds them.
DEMO_PULLS_REPOSITORY = "ops/formation-hub"
DEMO_PULL_NUMBERS = (1, 2, 3, 4, 5, 6, 41, 42, 43, 44)
STATUS_STATES = {"pending", "success", "failure", "error", "warning"}
GITHUB_REVIEW_EVENTS = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}
FORGEJO_REVIEW_EVENTS = {"APPROVED": "APPROVED", "REQUEST_CHANGES": "REQUEST_CHANGES", "COMMENT": "COMMENT"}
FORGEJO = "/api/v1"


def _sha(*parts: Any) -> str:
    return hashlib.sha1("/".join(str(part) for part in parts).encode()).hexdigest()


class ForgeStandIn(StandIn):
    product = "Forge stand-in"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, demo: bool = False, token: str = DEMO_TOKEN):
        super().__init__(host=host, port=port)
        self.token = token
        self._ids = itertools.count(1)
        self.repositories: dict[str, dict] = {}
        if demo:
            self.seed_demo()
        for prefix in ("", FORGEJO):
            repo = prefix + "/repos/{owner}/{repo}"
            self.router.add("GET", repo + "/pulls/{number}", self._pull_get)
            self.router.add("GET", repo + "/pulls/{number}/commits", self._pull_commits)
            self.router.add("PUT" if not prefix else "POST", repo + "/pulls/{number}/merge", self._pull_merge)
            self.router.add("POST", repo + "/pulls/{number}/reviews", self._review_create)
            self.router.add("GET", repo + "/pulls/{number}/reviews", self._reviews_list)
            self.router.add("POST", repo + "/statuses/{sha}", self._status_create)
            self.router.add("GET", repo + "/commits/{sha}/statuses", self._statuses_list)
            self.router.add("POST", repo + "/releases", self._release_create)
            self.router.add("GET", repo + "/releases", self._releases_list)
            self.router.add("POST", repo + "/issues", self._issue_create)
            self.router.add("GET", repo + "/issues/{number}", self._issue_get)
        self.router.add("POST", "/repos/{owner}/{repo}/git/tags", self._github_tag_object)
        self.router.add("POST", "/repos/{owner}/{repo}/git/refs", self._github_ref_create)
        self.router.add("POST", FORGEJO + "/repos/{owner}/{repo}/tags", self._forgejo_tag_create)
        self.router.add("GET", FORGEJO + "/repos/{owner}/{repo}/tags", self._tags_list)
        self.router.add("GET", "/repos/{owner}/{repo}/tags", self._tags_list)
        self.control.add("GET", "/_sandbox/state", self._control_state)
        self.control.add("POST", "/_sandbox/reset", self._control_reset)
        self.control.add("POST", "/_sandbox/demo", self._control_demo)
        self.control.add("POST", "/_sandbox/pulls", self._control_pull_open)
        self.control.add("POST", "/_sandbox/pulls/push", self._control_pull_push)
        self.control.add("POST", "/_sandbox/pulls/commits", self._control_pull_commits)
        self.control.add("POST", "/_sandbox/pulls/merge", self._control_pull_force_merge)
        self.control.add("POST", "/_sandbox/protection", self._control_protection)

    # State ------------------------------------------------------------------------------------------

    def repository(self, name: str) -> dict:
        with self.lock:
            return self.repositories.setdefault(name, {
                "pulls": {}, "statuses": {}, "reviews": [], "tags": {}, "tag_objects": {}, "releases": [],
                "issues": [], "required_contexts": [], "next_number": 1,
            })

    def seed_demo(self) -> None:
        self.repository(DEMO_REPOSITORY)["required_contexts"] = ["formation-hub/gates"]
        demo_pulls = self.repository(DEMO_PULLS_REPOSITORY)
        demo_pulls["required_contexts"] = ["formation-hub/gates"]
        for number in DEMO_PULL_NUMBERS:
            if number not in demo_pulls["pulls"]:
                self.open_pull_request(DEMO_PULLS_REPOSITORY, number=number, title=f"Demo pull request {number}")

    def open_pull_request(self, repository: str, *, head_sha: str = "", title: str = "", head_ref: str = "",
                          user: str = "dependabot[bot]", number: int | None = None) -> dict:
        """Open the repository's next pull request, or the one numbered `number` (the demo's)."""
        with self.lock:
            repo = self.repository(repository)
            number = number or repo["next_number"]
            repo["next_number"] = max(repo["next_number"], number + 1)
            pull = {
                "number": number, "title": title or f"Pull request {number}", "state": "open", "merged": False,
                "merge_commit_sha": None, "merged_at": None, "user": {"login": user},
                "head": {"sha": head_sha or _sha(repository, number, "head"), "ref": head_ref or f"branch-{number}"},
                "base": {"ref": "main"}, "html_url": f"{self.url}/{repository}/pull/{number}",
            }
            repo["pulls"][number] = pull
            return dict(pull)

    # Helpers ----------------------------------------------------------------------------------------

    def _forgejo(self, request: Request) -> bool:
        return request.path.startswith(FORGEJO + "/")

    def _error(self, request: Request, status: int, message: str) -> Response:
        if self._forgejo(request):
            return Response(status, {"message": message, "url": f"{self.url}/api/swagger"})
        return Response(status, {"message": message, "documentation_url": "https://docs.github.com/rest"})

    def route_not_found(self, request: Request, allowed: list[str]) -> Response:
        return self._error(request, 404 if not allowed else 405, "Not Found")

    def _authorised(self, request: Request) -> bool:
        scheme, _, value = request.header("authorization").partition(" ")
        return scheme.lower() in {"token", "bearer"} and value == self.token

    def _repo(self, request: Request) -> dict | None:
        name = f"{request.params['owner']}/{request.params['repo']}"
        with self.lock:
            return self.repositories.get(name)

    def _guard(self, request: Request):
        """(repository, None) or (None, the error response)."""
        if not self._authorised(request):
            message = "token is required" if self._forgejo(request) else "Bad credentials"
            return None, self._error(request, 401, message)
        repo = self._repo(request)
        if repo is None:
            return None, self._error(request, 404, "Not Found")
        return repo, None

    def _pull(self, request: Request, repo: dict) -> dict | None:
        try:
            return repo["pulls"].get(int(request.params["number"]))
        except ValueError:
            return None

    def _latest_states(self, repo: dict, sha: str) -> dict[str, str]:
        states = {}
        for status in repo["statuses"].get(sha, []):
            states[status["context"]] = status["state"]
        return states

    # Pull requests ----------------------------------------------------------------------------------

    def _pull_get(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        with self.lock:
            pull = self._pull(request, repo)
            return Response(200, dict(pull)) if pull else self._error(request, 404, "Not Found")

    def _pull_commits(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        with self.lock:
            pull = self._pull(request, repo)
            if pull is None:
                return self._error(request, 404, "Not Found")
            commits = [{"sha": sha, "commit": {"message": message}} for sha, message in pull.get("commits", [])]
            return Response(200, commits)

    def _pull_merge(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        body = request.json() or {}
        forgejo = self._forgejo(request)
        with self.lock:
            pull = self._pull(request, repo)
            if pull is None:
                return self._error(request, 404, "Not Found")
            if pull["merged"]:
                return self._error(request, 405, "Pull Request is already merged" if not forgejo
                                   else "The PR is already merged")
            if pull["state"] != "open":
                return self._error(request, 405, "Pull Request is not mergeable")
            expected = body.get("head_commit_id") if forgejo else body.get("sha")
            if expected and expected != pull["head"]["sha"]:
                message = ("head out of date" if forgejo
                           else "Head branch was modified. Review and try the merge again.")
                return self._error(request, 409, message)
            states = self._latest_states(repo, pull["head"]["sha"])
            missing = [context for context in repo["required_contexts"] if states.get(context) != "success"]
            if missing:
                message = ("Not all required status checks successful" if forgejo
                           else f'Required status check "{missing[0]}" is expected.')
                return self._error(request, 405, message)
            self._mark_merged(pull, method=(body.get("Do") if forgejo else body.get("merge_method")) or "merge")
            if forgejo:
                return Response(200)
            return Response(200, {"sha": pull["merge_commit_sha"], "merged": True,
                                  "message": "Pull Request successfully merged"})

    def _mark_merged(self, pull: dict, *, method: str) -> None:
        pull.update(state="closed", merged=True, merged_at=time.time(), merge_method=method,
                    merge_commit_sha=_sha(pull["head"]["sha"], "merge"))

    def _review_create(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        body = request.json() or {}
        events = FORGEJO_REVIEW_EVENTS if self._forgejo(request) else GITHUB_REVIEW_EVENTS
        with self.lock:
            pull = self._pull(request, repo)
            if pull is None:
                return self._error(request, 404, "Not Found")
            if body.get("event") not in events:
                return self._error(request, 422, f"Unknown review event {body.get('event')!r}")
            review = {"id": next(self._ids), "pull_number": pull["number"], "state": events[body["event"]],
                      "body": body.get("body", ""), "commit_id": body.get("commit_id") or pull["head"]["sha"]}
            repo["reviews"].append(review)
            return Response(200, dict(review))

    def _reviews_list(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        number = int(request.params["number"])
        with self.lock:
            return Response(200, [dict(r) for r in repo["reviews"] if r["pull_number"] == number])

    # Statuses ---------------------------------------------------------------------------------------

    def _status_create(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        body = request.json() or {}
        if body.get("state") not in STATUS_STATES:
            return self._error(request, 422, f"Validation Failed: state {body.get('state')!r}")
        status = {"id": next(self._ids), "state": body["state"], "context": body.get("context") or "default",
                  "description": body.get("description", ""), "target_url": body.get("target_url", ""),
                  "sha": request.params["sha"]}
        with self.lock:
            repo["statuses"].setdefault(request.params["sha"], []).append(status)
        return Response(201, dict(status))

    def _statuses_list(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        with self.lock:
            return Response(200, [dict(s) for s in reversed(repo["statuses"].get(request.params["sha"], []))])

    # Tags and releases ------------------------------------------------------------------------------

    def _github_tag_object(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        body = request.json() or {}
        tag = {"sha": _sha("tag", body.get("tag"), body.get("object")), "tag": body.get("tag", ""),
               "message": body.get("message", ""), "object": {"sha": body.get("object", ""), "type": "commit"}}
        with self.lock:
            repo["tag_objects"][tag["sha"]] = tag
        return Response(201, tag)

    def _github_ref_create(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        body = request.json() or {}
        ref = str(body.get("ref", ""))
        if not ref.startswith("refs/"):
            return self._error(request, 422, "Reference name must start with 'refs/'")
        name = ref.removeprefix("refs/tags/")
        with self.lock:
            if name in repo["tags"]:
                return self._error(request, 422, "Reference already exists")
            tag_object = repo["tag_objects"].get(body.get("sha"), {})
            repo["tags"][name] = {"name": name, "message": tag_object.get("message", ""),
                                  "commit": {"sha": tag_object.get("object", {}).get("sha", body.get("sha"))}}
        return Response(201, {"ref": ref, "object": {"sha": body.get("sha"), "type": "tag"}})

    def _forgejo_tag_create(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        body = request.json() or {}
        name = body.get("tag_name", "")
        with self.lock:
            if name in repo["tags"]:
                return self._error(request, 409, f"tag {name} already exists")
            repo["tags"][name] = {"name": name, "message": body.get("message", ""),
                                  "commit": {"sha": body.get("target", "")}}
            return Response(201, dict(repo["tags"][name]))

    def _tags_list(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        with self.lock:
            return Response(200, list(repo["tags"].values()))

    def _release_create(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        body = request.json() or {}
        name = f"{request.params['owner']}/{request.params['repo']}"
        with self.lock:
            if any(release["tag_name"] == body.get("tag_name") for release in repo["releases"]):
                return self._error(request, 409 if self._forgejo(request) else 422, "Release already exists")
            release = {"id": next(self._ids), "tag_name": body.get("tag_name", ""), "name": body.get("name", ""),
                       "body": body.get("body", ""), "target_commitish": body.get("target_commitish", ""),
                       "html_url": f"{self.url}/{name}/releases/tag/{body.get('tag_name', '')}"}
            repo["releases"].append(release)
            return Response(201, dict(release))

    def _releases_list(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        with self.lock:
            return Response(200, [dict(r) for r in reversed(repo["releases"])])

    # Issues -----------------------------------------------------------------------------------------

    def _issue_create(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        body = request.json() or {}
        if not str(body.get("title", "")).strip():
            return self._error(request, 422, "title is required")
        name = f"{request.params['owner']}/{request.params['repo']}"
        with self.lock:
            number = repo["next_number"]
            repo["next_number"] += 1
            issue = {"number": number, "title": body["title"], "body": body.get("body", ""), "state": "open",
                     "html_url": f"{self.url}/{name}/issues/{number}"}
            repo["issues"].append(issue)
            return Response(201, dict(issue))

    def _issue_get(self, request: Request) -> Response:
        repo, error = self._guard(request)
        if error:
            return error
        with self.lock:
            issue = next((i for i in repo["issues"] if str(i["number"]) == request.params["number"]), None)
            return Response(200, dict(issue)) if issue else self._error(request, 404, "Not Found")

    # Control API ------------------------------------------------------------------------------------

    def _control_state(self, request: Request) -> Response:
        """Every repository: pulls, statuses, reviews, tags, releases, issues, required contexts."""
        with self.lock:
            state = {name: {**repo, "pulls": list(repo["pulls"].values())} for name, repo in self.repositories.items()}
            return Response(200, {"repositories": state, "token": self.token})

    def _control_reset(self, request: Request) -> Response:
        """Forget every repository (the demo one too)."""
        with self.lock:
            self.repositories.clear()
        return Response(204)

    def _control_demo(self, request: Request) -> Response:
        """Create the demo repositories with `formation-hub/gates` required on main, and the demo's pull requests."""
        self.seed_demo()
        return Response(201, {"repository": DEMO_REPOSITORY})

    def _control_pull_open(self, request: Request) -> Response:
        """Open a pull request: {repository, head_sha?, title?, head_ref?, user?}."""
        body = request.json() or {}
        if not body.get("repository"):
            return Response(400, {"error": "repository (owner/name) is required"})
        pull = self.open_pull_request(body["repository"], head_sha=body.get("head_sha", ""),
                                      title=body.get("title", ""), head_ref=body.get("head_ref", ""),
                                      user=body.get("user", "dependabot[bot]"))
        return Response(201, pull)

    def _control_pull_push(self, request: Request) -> Response:
        """Push a new head to a pull request: {repository, number, head_sha}."""
        body = request.json() or {}
        with self.lock:
            pull = self.repository(body.get("repository", "")).get("pulls", {}).get(body.get("number"))
            if pull is None:
                return Response(404, {"error": "no such pull request"})
            pull["head"]["sha"] = body.get("head_sha") or _sha(pull["head"]["sha"], "push")
            return Response(200, dict(pull))

    def _control_pull_commits(self, request: Request) -> Response:
        """Set a pull request's commits: {repository, number, messages: [...]}; the last one becomes the head."""
        body = request.json() or {}
        with self.lock:
            pull = self.repository(body.get("repository", "")).get("pulls", {}).get(body.get("number"))
            if pull is None or not isinstance(body.get("messages"), list):
                return Response(404, {"error": "no such pull request, or no messages list"})
            pull["commits"] = [(_sha(pull["number"], index, message), str(message))
                               for index, message in enumerate(body["messages"])]
            if pull["commits"]:
                pull["head"]["sha"] = pull["commits"][-1][0]
            return Response(200, dict(pull))

    def _control_pull_force_merge(self, request: Request) -> Response:
        """Merge as an admin bypassing branch protection: {repository, number}."""
        body = request.json() or {}
        with self.lock:
            pull = self.repository(body.get("repository", "")).get("pulls", {}).get(body.get("number"))
            if pull is None:
                return Response(404, {"error": "no such pull request"})
            self._mark_merged(pull, method="merge")
            return Response(200, dict(pull))

    def _control_protection(self, request: Request) -> Response:
        """Set the status contexts main requires: {repository, contexts: [...]}."""
        body = request.json() or {}
        contexts = body.get("contexts")
        if not body.get("repository") or not isinstance(contexts, list):
            return Response(400, {"error": "repository and contexts (a list) are required"})
        self.repository(body["repository"])["required_contexts"] = [str(c) for c in contexts]
        return Response(200, {"repository": body["repository"], "contexts": contexts})
