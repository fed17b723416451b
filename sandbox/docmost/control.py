"""The Docmost stand-in's `/_sandbox/` control API: reset, demo, state and settings, and pages, shares,
spaces, users, sessions and keys made without going through the product API."""

from typing import Any

from sandbox.docmost.content import InvalidContent, to_doc
from sandbox.docmost.demo import BOT_EMAIL, HUMAN_EMAIL
from sandbox.docmost.nest import NestError
from sandbox.httpbase import Request, Response

DEFAULT_CONFIG = {
    "edition": "community",  # "enterprise" adds API keys
    "login_limit": 10,  # auth controller throttle: 10 requests
    "login_window": 60.0,  # per 60 s
    "token_lifetime": 90 * 24 * 3600,  # JWT_TOKEN_EXPIRES_IN default 90d
    # Body updates go through the collaboration server; whether pages/update answers with the new body
    # is not confirmed (contracts §7). True answers with the body as it was before the update.
    "update_returns_old_content": False,
}


class ControlRoutes:
    """Route handlers of DocmostStandIn for the control API, which tests and `make run` use."""

    def _control_reset(self, request: Request) -> Response:
        """Empty everything; {"demo": true} reseeds the demo."""
        data = request.json() or {}
        self.reset()
        result: dict[str, Any] = {"reset": True}
        if data.get("demo"):
            result["demo"] = self.seed_demo()
        return Response(200, result)

    def _control_demo(self, request: Request) -> Response:
        """Seed the demo (replaces everything): users, spaces Agence and Formations, templates."""
        return Response(200, self.seed_demo())

    def _control_state(self, request: Request) -> Response:
        """Workspace, users, spaces with members, demo ids, settings."""
        with self.lock:
            return Response(
                200,
                {
                    "workspace": dict(self.workspace),
                    "users": [self.public_user(u) for u in self.users.values()],
                    "spaces": [{**self.public_space(s), "members": dict(s["members"])} for s in self.spaces.values()],
                    "demo": dict(self.demo_ids),
                    "config": dict(self.config),
                    "sessions": len(self.sessions),
                },
            )

    def _control_get_config(self, request: Request) -> Response:
        """Current settings (edition, login_limit, login_window, token_lifetime)."""
        return Response(200, dict(self.config))

    def _control_set_config(self, request: Request) -> Response:
        """Change settings, e.g. {"edition": "enterprise", "login_limit": 3}."""
        data = request.json() or {}
        unknown = set(data) - set(DEFAULT_CONFIG)
        if unknown:
            return Response(400, {"error": f"unknown settings {sorted(unknown)}; known: {sorted(DEFAULT_CONFIG)}"})
        with self.lock:
            self.config.update(data)
            if "login_limit" in data or "login_window" in data:
                self.login_times.clear()
            return Response(200, dict(self.config))

    def _control_pages(self, request: Request) -> Response:
        """Every page, trashed ones included, content as markdown (?space=<id or slug>)."""
        space = request.arg("space")
        with self.lock:
            pages = sorted(self.pages.values(), key=lambda p: (p["createdAt"], p["id"]))
            if space:
                found = self.find_space(space)
                pages = [p for p in pages if found and p["spaceId"] == found["id"]]
            return Response(200, {"pages": [self.page_markdown(p) for p in pages]})

    def _control_user(self, email: str | None) -> dict:
        if email:
            user = next((u for u in self.users.values() if u["email"] == email.lower()), None)
        else:
            user = next((u for u in self.users.values() if u["email"] == HUMAN_EMAIL), None) or next(
                iter(self.users.values()), None
            )
        if user is None:
            raise NestError(400, "no such user; create one with POST /_sandbox/users")
        return user

    def _control_page_create(self, request: Request) -> Response:
        """A page written by a person in the Docmost UI (content in markdown by default)."""
        data = request.json() or {}
        with self.lock:
            space = self.find_space(data.get("spaceId") or data.get("space"))
            if space is None:
                return Response(400, {"error": "give spaceId (UUID or slug) of an existing space"})
            user = self._control_user(data.get("userEmail"))
            parent = self.find_page(data.get("parentPageId")) if data.get("parentPageId") else None
            try:
                doc = (
                    to_doc(data["content"], data.get("format", "markdown")) if data.get("content") is not None else None
                )
            except InvalidContent as error:
                return Response(400, {"error": str(error)})
            page = self.add_page(
                space_id=space["id"],
                creator_id=user["id"],
                title=data.get("title"),
                icon=data.get("icon"),
                parent_page_id=parent["id"] if parent else None,
                doc=doc,
            )
            return Response(201, self.page_markdown(page))

    def _control_page_update(self, request: Request) -> Response:
        """A person edits a page: {"title"?, "icon"?, "content"?, "operation"?, "userEmail"?}."""
        data = request.json() or {}
        with self.lock:
            page = self._live_page(request.params["page_id"])
            user = self._control_user(data.get("userEmail"))
            for key in ("title", "icon"):
                if key in data:
                    page[key] = data[key]
            if data.get("content") is not None:
                self.write_content(
                    page, to_doc(data["content"], data.get("format", "markdown")), data.get("operation", "replace")
                )
            page.update(updatedAt=self.clock.now(), lastUpdatedById=user["id"])
            if user["id"] not in page["contributorIds"]:
                page["contributorIds"].append(user["id"])
            return Response(200, self.page_markdown(page))

    def _control_page_delete(self, request: Request) -> Response:
        """A person moves a page (and its children) to the trash."""
        data = request.json() or {}
        with self.lock:
            page = self._live_page(request.params["page_id"])
            self.soft_delete_page(page, self._control_user(data.get("userEmail"))["id"])
            return Response(200, self.page_markdown(page))

    def _control_page_restore(self, request: Request) -> Response:
        """A person restores a page from the trash."""
        with self.lock:
            page = self._live_page(request.params["page_id"])
            if page["deletedAt"] is not None:
                self.restore_page(page)
            return Response(200, self.page_markdown(page))

    def _control_shares(self, request: Request) -> Response:
        """Every share."""
        with self.lock:
            return Response(200, {"shares": [dict(s) for s in self.shares.values()]})

    def _control_share_create(self, request: Request) -> Response:
        """A person shares a page publicly: {"pageId", "includeSubPages"?, "userEmail"?}."""
        data = request.json() or {}
        with self.lock:
            page = self._live_page(data.get("pageId"))
            share = self.add_share(
                page=page,
                creator_id=self._control_user(data.get("userEmail"))["id"],
                include_sub_pages=bool(data.get("includeSubPages", False)),
            )
            return Response(201, dict(share))

    def _control_space_create(self, request: Request) -> Response:
        """Add a space: {"name", "slug", "description"?, "sharingDisabled"?}."""
        data = request.json() or {}
        if not data.get("name") or not data.get("slug"):
            return Response(400, {"error": "give name and slug"})
        space = self.add_space(
            name=data["name"],
            slug=data["slug"],
            description=data.get("description"),
            sharing_disabled=bool(data.get("sharingDisabled")),
        )
        return Response(201, space)

    def _control_user_create(self, request: Request) -> Response:
        """Add a user: {"email", "password", "name"?, "role"? ("member" or "admin")}."""
        data = request.json() or {}
        if not data.get("email") or not data.get("password"):
            return Response(400, {"error": "give email and password"})
        user = self.add_user(
            email=data["email"],
            password=data["password"],
            name=data.get("name", data["email"]),
            role=data.get("role", "member"),
        )
        return Response(201, user)

    def _control_revoke(self, request: Request) -> Response:
        """Revoke every session token (or one user's: {"email"}): they answer 401."""
        data = request.json() or {}
        return Response(200, {"revoked": self.revoke_sessions(data.get("email"))})

    def _control_login_token(self, request: Request) -> Response:
        """A session token without using the throttled login: {"email"?} (the bot by default)."""
        data = request.json() or {}
        try:
            return Response(200, {"token": self.login_token(data.get("email", BOT_EMAIL))})
        except StopIteration:
            return Response(400, {"error": "no such user"})

    def _control_api_key(self, request: Request) -> Response:
        """An API key token (accepted only by the enterprise edition): {"name"?, "email"?}."""
        data = request.json() or {}
        with self.lock:
            user = self._control_user(data.get("email", BOT_EMAIL))
        return Response(201, self.create_api_key(user_id=user["id"], name=data.get("name", "sandbox")))
