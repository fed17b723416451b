"""The Docmost stand-in: the POST-only API routes (contracts §4.2) and the `/_sandbox/` control API."""

import copy
import os
import time
from datetime import UTC, datetime
from typing import Any

from sandbox.docmost.auth import SessionAuth
from sandbox.docmost.content import InvalidContent, render, to_doc
from sandbox.docmost.demo import BOT_EMAIL, HUMAN_EMAIL, DemoData
from sandbox.docmost.nest import NestError, Validator, envelope, paginate
from sandbox.docmost.store import Clock, DocmostStore
from sandbox.httpbase import Request, Response, StandIn
from sandbox.tokens import IdMaker, jwt_decode, random_secret

FORMATS = ("json", "markdown", "html")
OPERATIONS = ("append", "prepend", "replace")
DEFAULT_CONFIG = {
    "edition": "community",  # "enterprise" adds API keys
    "login_limit": 10,  # auth controller throttle: 10 requests
    "login_window": 60.0,  # per 60 s
    "token_lifetime": 90 * 24 * 3600,  # JWT_TOKEN_EXPIRES_IN default 90d
    # Body updates go through the collaboration server; whether pages/update answers with the new body
    # is not confirmed (contracts §7). True answers with the body as it was before the update.
    "update_returns_old_content": False,
}


class DocmostStandIn(DocmostStore, SessionAuth, DemoData, StandIn):
    product = "Docmost stand-in"

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, demo: bool = False, state_file: str | None = None, **config
    ):
        super().__init__(host=host, port=port)
        unknown = set(config) - set(DEFAULT_CONFIG)
        if unknown:
            raise TypeError(f"unknown Docmost stand-in settings: {sorted(unknown)}")
        self.config = {**DEFAULT_CONFIG, **config}
        self.state_file = state_file
        self.jwt_secret = random_secret()
        self.clock = Clock()
        self.ids = IdMaker()
        self.demo_ids: dict = {}
        self._empty()
        if state_file and os.path.exists(state_file):
            self._load(state_file)
        elif demo:
            self.seed_demo()
            self._save()
        self._routes()

    def _routes(self) -> None:
        public = {
            "/api/auth/login": self._api_login,
        }
        protected = {
            "/api/auth/logout": self._api_logout,
            "/api/users/me": self._api_me,
            "/api/spaces": self._api_spaces,
            "/api/spaces/info": self._api_space_info,
            "/api/pages/create": self._api_page_create,
            "/api/pages/update": self._api_page_update,
            "/api/pages/info": self._api_page_info,
            "/api/pages/delete": self._api_page_delete,
            "/api/pages/restore": self._api_page_restore,
            "/api/pages/recent": self._api_pages_recent,
            "/api/pages/trash": self._api_pages_trash,
            "/api/pages/sidebar-pages": self._api_sidebar_pages,
            "/api/shares": self._api_shares,
            "/api/shares/create": self._api_share_create,
            "/api/shares/for-page": self._api_share_for_page,
            "/api/shares/update": self._api_share_update,
            "/api/shares/delete": self._api_share_delete,
        }
        enterprise = {
            "/api/api-keys": self._api_keys_list,
            "/api/api-keys/create": self._api_keys_create,
            "/api/api-keys/revoke": self._api_keys_revoke,
        }
        for path, handler in public.items():
            self.router.add("POST", path, handler)
        for path, handler in protected.items():
            self.router.add("POST", path, self._guarded(handler))
        for path, handler in enterprise.items():
            self.router.add("POST", path, self._guarded(handler, enterprise=True))

        control = self.control
        control.add("POST", "/_sandbox/reset", self._control_reset)
        control.add("POST", "/_sandbox/demo", self._control_demo)
        control.add("GET", "/_sandbox/state", self._control_state)
        control.add("GET", "/_sandbox/config", self._control_get_config)
        control.add("POST", "/_sandbox/config", self._control_set_config)
        control.add("GET", "/_sandbox/pages", self._control_pages)
        control.add("POST", "/_sandbox/pages", self._control_page_create)
        control.add("POST", "/_sandbox/pages/{page_id}/update", self._control_page_update)
        control.add("POST", "/_sandbox/pages/{page_id}/delete", self._control_page_delete)
        control.add("POST", "/_sandbox/pages/{page_id}/restore", self._control_page_restore)
        control.add("GET", "/_sandbox/shares", self._control_shares)
        control.add("POST", "/_sandbox/shares", self._control_share_create)
        control.add("POST", "/_sandbox/spaces", self._control_space_create)
        control.add("POST", "/_sandbox/users", self._control_user_create)
        control.add("POST", "/_sandbox/sessions/revoke", self._control_revoke)
        control.add("POST", "/_sandbox/login-token", self._control_login_token)
        control.add("POST", "/_sandbox/api-keys", self._control_api_key)

    def _guarded(self, handler, *, enterprise: bool = False):
        def guarded(request: Request) -> Response:
            if enterprise and self.config["edition"] != "enterprise":
                raise NestError(404, f"Cannot POST {request.path}")
            user = self._authenticate(request)
            return handler(request, user)

        return guarded

    def dispatch(self, request: Request) -> Response:
        try:
            response = super().dispatch(request)
        except NestError as error:
            return error.response()
        if response.status < 300:
            self._save()
        return response

    def route_not_found(self, request: Request, allowed: list[str]) -> Response:
        return NestError(404, f"Cannot {request.method} {request.path}").response()

    def bad_json(self, request: Request, error: ValueError) -> Response:
        if request.path.startswith("/_sandbox/"):
            return Response(400, {"error": str(error)})
        return NestError(400, "Body is not valid JSON but content-type is set to 'application/json'",
                         error=False).response()

    def fault_body(self, status: int) -> Any:
        if status == 429:
            return {"statusCode": 429, "message": "Too many requests"}
        if status == 500:
            return {"statusCode": 500, "message": "Internal server error"}
        return NestError(status).response().body

    def _api_login(self, request: Request) -> Response:
        limit_headers = self._throttle(request)
        data = (
            Validator(request.json())
            .string("email", required=True, email=True)
            .string("password", required=True, min_length=8)
            .result()
        )
        with self.lock:
            user = next((u for u in self.users.values() if u["email"] == data["email"].lower()), None)
            if user is None or user["password"] != data["password"]:
                raise NestError(401, "Email or password does not match")
            token = self.issue_session_token(user)
        expires = datetime.fromtimestamp(time.time() + self.config["token_lifetime"], UTC)
        stamp = expires.strftime("%a, %d %b %Y %H:%M:%S GMT")
        cookie = f"authToken={token}; Path=/; Expires={stamp}; HttpOnly; SameSite=Lax"
        response = envelope()
        response.headers.extend([*limit_headers, ("Set-Cookie", cookie)])
        return response

    def _api_logout(self, request: Request, user: dict) -> Response:
        self._throttle(request)
        payload = jwt_decode(self._token_from(request) or "", self.jwt_secret) or {}
        with self.lock:
            session = self.sessions.get(payload.get("sessionId"))
            if session:
                session["revoked"] = True
        response = envelope()
        response.headers.append(("Set-Cookie", "authToken=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly"))
        return response

    def _api_me(self, request: Request, user: dict) -> Response:
        with self.lock:
            return envelope({"user": self.public_user(user), "workspace": dict(self.workspace)})

    def _api_spaces(self, request: Request, user: dict) -> Response:
        options = Validator(request.json()).pagination().result()
        with self.lock:
            spaces = [s for s in self.spaces.values() if user["id"] in s["members"]]
            if options.get("query"):
                spaces = [s for s in spaces if options["query"].lower() in s["name"].lower()]
            spaces.sort(key=lambda s: s["name"])
            return envelope(paginate([self.space_for(s, user["id"]) for s in spaces], options,
                                     key=lambda s: (s["name"], s["id"])))

    def _api_space_info(self, request: Request, user: dict) -> Response:
        data = Validator(request.json()).string("spaceId", required=True).result()
        with self.lock:
            space = self.find_space(data["spaceId"])
            if space is None:
                raise NestError(404, "Space not found")
            if user["id"] not in space["members"]:
                raise NestError(403)
            return envelope(self.space_for(space, user["id"], with_rules=True))

    def _member_space(self, space_id: str, user: dict) -> dict:
        space = self.find_space(space_id)
        if space is None or user["id"] not in space["members"]:
            raise NestError(403)
        return space

    def _live_page(self, page_id: str) -> dict:
        page = self.find_page(page_id)
        if page is None:
            raise NestError(404, "Page not found")
        return page

    @staticmethod
    def _doc(data: dict) -> dict | None:
        if "content" not in data or data["content"] is None:
            return None
        if not data.get("format"):
            raise NestError(400, ["format must be one of the following values: json, markdown, html"])
        try:
            return to_doc(data["content"], data["format"])
        except InvalidContent:
            raise NestError(400, "Invalid content format") from None

    def _api_page_create(self, request: Request, user: dict) -> Response:
        data = (
            Validator(request.json())
            .string("title")
            .string("icon")
            .string("parentPageId")
            .string("spaceId", required=True, uuid_only=True)
            .any("content")
            .string("format", choices=FORMATS)
            .result()
        )
        with self.lock:
            space = self._member_space(data["spaceId"], user)
            parent_id = None
            if data.get("parentPageId"):
                parent = self.find_page(data["parentPageId"])
                if parent is None or parent["spaceId"] != space["id"]:
                    raise NestError(404, "Parent page not found")
                parent_id = parent["id"]
            page = self.add_page(
                space_id=space["id"],
                creator_id=user["id"],
                title=data.get("title"),
                icon=data.get("icon"),
                parent_page_id=parent_id,
                doc=self._doc(data),
            )
            return envelope(self.page_created(page))

    def _api_page_update(self, request: Request, user: dict) -> Response:
        body = request.json()
        validator = Validator(body).string("pageId", required=True).string("title").string("icon").any("content")
        if isinstance(body, dict) and body.get("content") is not None:
            if body.get("operation") not in OPERATIONS:
                validator.errors.append(f"operation must be one of the following values: {', '.join(OPERATIONS)}")
            else:
                validator.data["operation"] = body["operation"]
        data = validator.string("format", choices=FORMATS).result()
        with self.lock:
            page = self._live_page(data["pageId"])
            self._member_space(page["spaceId"], user)
            doc = self._doc(data)
            old_content = page["content"]
            for key in ("title", "icon"):
                if key in data:
                    page[key] = data[key]
                elif isinstance(body, dict) and key in body and body[key] is None:
                    page[key] = None  # null clears the field, as in 0.95
            if doc is not None:
                self.write_content(page, doc, data["operation"])
            page["updatedAt"] = self.clock.now()
            page["lastUpdatedById"] = user["id"]
            if user["id"] not in page["contributorIds"]:
                page["contributorIds"].append(user["id"])
            answer = self.page_full(page, data.get("format", "json"), with_deleted_by=False)
            if self.config["update_returns_old_content"]:
                answer["content"] = render(old_content, data.get("format", "json"))
            return envelope(answer)

    def _api_page_info(self, request: Request, user: dict) -> Response:
        data = Validator(request.json()).string("pageId", required=True).string("format", choices=FORMATS).result()
        with self.lock:
            page = self._live_page(data["pageId"])
            self._member_space(page["spaceId"], user)
            return envelope(self.page_full(page, data.get("format", "json"), with_deleted_by=True))

    def _api_page_delete(self, request: Request, user: dict) -> Response:
        data = Validator(request.json()).string("pageId", required=True).boolean("permanentlyDelete").result()
        with self.lock:
            page = self._live_page(data["pageId"])
            space = self._member_space(page["spaceId"], user)
            if data.get("permanentlyDelete"):
                if space["members"].get(user["id"]) != "admin":
                    raise NestError(403)
                for target in [page, *self._descendants(page["id"])]:
                    self.pages.pop(target["id"], None)
            else:
                self.soft_delete_page(page, user["id"])
            return envelope()

    def _api_page_restore(self, request: Request, user: dict) -> Response:
        data = Validator(request.json()).string("pageId", required=True).result()
        with self.lock:
            page = self._live_page(data["pageId"])
            self._member_space(page["spaceId"], user)
            if page["deletedAt"] is not None:
                self.restore_page(page)
            has_children = any(c["deletedAt"] is None for c in self.pages.values() if c["parentPageId"] == page["id"])
            return envelope({**self.page_base(page), "hasChildren": has_children})

    def _api_pages_recent(self, request: Request, user: dict) -> Response:
        options = Validator(request.json()).string("spaceId").pagination().result()
        with self.lock:
            if options.get("spaceId"):
                spaces = [self._member_space(options["spaceId"], user)]
            else:
                spaces = [s for s in self.spaces.values() if user["id"] in s["members"]]
            space_ids = {s["id"] for s in spaces}
            pages = [p for p in self.pages.values() if p["spaceId"] in space_ids and p["deletedAt"] is None]
            pages.sort(key=lambda p: (p["updatedAt"], p["id"]), reverse=True)
            items = []
            for page in pages:
                space = self.spaces[page["spaceId"]]
                items.append(
                    {**self.page_base(page), "space": {"id": space["id"], "name": space["name"], "slug": space["slug"]}}
                )
            return envelope(paginate(items, options, key=lambda p: (p["updatedAt"], p["id"]), descending=True))

    def _api_pages_trash(self, request: Request, user: dict) -> Response:
        options = (
            Validator(request.json())
            .string("spaceId", required=True, uuid_only=True, if_missing="must be a string")
            .pagination()
            .result()
        )
        with self.lock:
            space = self._member_space(options["spaceId"], user)
            pages = [
                p
                for p in self.pages.values()
                if p["spaceId"] == space["id"]
                and p["deletedAt"] is not None
                and not (p["parentPageId"] and self.pages.get(p["parentPageId"], {}).get("deletedAt"))
            ]
            pages.sort(key=lambda p: (p["deletedAt"], p["id"]), reverse=True)
            items = [
                {**self.page_base(p), "content": copy.deepcopy(p["content"]), "space": self.brief_space(p["spaceId"]),
                 "deletedBy": self._brief_user(p["deletedById"])}
                for p in pages
            ]
            return envelope(paginate(items, options, key=lambda p: (p["deletedAt"], p["id"]), descending=True))

    def _api_sidebar_pages(self, request: Request, user: dict) -> Response:
        options = Validator(request.json()).string("spaceId", required=True).string("pageId").pagination().result()
        with self.lock:
            space = self._member_space(options["spaceId"], user)
            parent_id = None
            if options.get("pageId"):
                parent_id = self._live_page(options["pageId"])["id"]
            pages = [
                p
                for p in self.pages.values()
                if p["spaceId"] == space["id"] and p["parentPageId"] == parent_id and p["deletedAt"] is None
            ]
            pages.sort(key=lambda p: (p["position"], p["id"]))  # keyset on (position, id) below
            keys = ("id", "slugId", "title", "icon", "position", "parentPageId", "spaceId", "creatorId")
            items = [
                {
                    **{key: page[key] for key in keys},
                    "hasChildren": any(
                        c["deletedAt"] is None for c in self.pages.values() if c["parentPageId"] == page["id"]
                    ),
                }
                for page in pages
            ]
            return envelope(paginate(items, options, key=lambda p: (p["position"], p["id"])))

    def share_listed(self, share: dict, user: dict) -> dict:
        page = self.pages.get(share["pageId"]) or {}
        space = self.spaces[share["spaceId"]]
        return {
            **share,
            "page": {key: page.get(key) for key in ("id", "title", "slugId", "icon")},
            "space": {
                "id": space["id"],
                "name": space["name"],
                "slug": space["slug"],
                "userRole": space["members"].get(user["id"]),
            },
            "creator": self._brief_user(share["creatorId"]),
        }

    def _api_shares(self, request: Request, user: dict) -> Response:
        options = Validator(request.json()).pagination().result()
        with self.lock:
            shares = [s for s in self.shares.values() if user["id"] in self.spaces[s["spaceId"]]["members"]]
            shares.sort(key=lambda s: (s["updatedAt"], s["id"]), reverse=True)
            return envelope(paginate([self.share_listed(s, user) for s in shares], options,
                                     key=lambda s: (s["updatedAt"], s["id"]), descending=True))

    def _api_share_create(self, request: Request, user: dict) -> Response:
        data = (
            Validator(request.json())
            .string("pageId", required=True)
            .boolean("includeSubPages")
            .boolean("searchIndexing")
            .result()
        )
        with self.lock:
            page = self._live_page(data["pageId"])
            if page["deletedAt"] is not None:
                raise NestError(404, "Page not found")
            space = self._member_space(page["spaceId"], user)
            if ((space["settings"] or {}).get("sharing") or {}).get("disabled"):
                raise NestError(403, "Public sharing is disabled")
            share = self.add_share(
                page=page,
                creator_id=user["id"],
                include_sub_pages=data.get("includeSubPages", False),
                search_indexing=data.get("searchIndexing", False),
            )
            return envelope(dict(share))

    def _api_share_for_page(self, request: Request, user: dict) -> Response:
        data = Validator(request.json()).string("pageId", required=True).result()
        with self.lock:
            page = self.find_page(data["pageId"])
            if page is None:
                raise NestError(404, "Shared page not found")
            self._member_space(page["spaceId"], user)
            return envelope(self._share_reaching(page))

    def _share_reaching(self, page: dict) -> dict | None:
        """The page's own share (level 0), or the nearest ancestor's that includes sub-pages (level = how
        many pages up), with `sharedPage`; Docmost 0.95 answers `shares/for-page` so."""
        level, current = 0, page
        while current is not None:
            share = next((s for s in self.shares.values() if s["pageId"] == current["id"]), None)
            if share is not None and (level == 0 or share["includeSubPages"]):
                shown = {key: value for key, value in share.items() if key not in ("updatedAt", "deletedAt")}
                shared_page = {key: current[key] for key in ("id", "slugId", "title", "icon")}
                return {**shown, "level": level, "sharedPage": shared_page}
            current = self.pages.get(current["parentPageId"]) if current["parentPageId"] else None
            level += 1
        return None

    def _find_share(self, share_id: str) -> dict:
        share = self.shares.get(share_id) or next((s for s in self.shares.values() if s["key"] == share_id), None)
        if share is None:
            raise NestError(404, "Share not found")
        return share

    def _api_share_update(self, request: Request, user: dict) -> Response:
        data = (
            Validator(request.json())
            .string("shareId", required=True)
            .boolean("includeSubPages")
            .boolean("searchIndexing")
            .result()
        )
        with self.lock:
            share = self._find_share(data["shareId"])
            self._member_space(share["spaceId"], user)
            for key in ("includeSubPages", "searchIndexing"):
                if key in data:
                    share[key] = data[key]
            share["updatedAt"] = self.clock.now()
            return envelope(dict(share))

    def _api_share_delete(self, request: Request, user: dict) -> Response:
        data = Validator(request.json()).string("shareId", required=True).result()
        with self.lock:
            share = self._find_share(data["shareId"])
            self._member_space(share["spaceId"], user)
            del self.shares[share["id"]]
            return envelope()

    def _api_keys_list(self, request: Request, user: dict) -> Response:
        options = Validator(request.json()).pagination().result()
        with self.lock:
            keys = [dict(k) for k in self.api_keys.values() if k["deletedAt"] is None]
            return envelope(paginate(keys, options))

    def _api_keys_create(self, request: Request, user: dict) -> Response:
        data = Validator(request.json()).string("name", required=True).string("expiresAt").result()
        return envelope(self.create_api_key(user_id=user["id"], name=data["name"], expires_at=data.get("expiresAt")))

    def _api_keys_revoke(self, request: Request, user: dict) -> Response:
        data = Validator(request.json()).string("apiKeyId", required=True).result()
        with self.lock:
            record = self.api_keys.get(data["apiKeyId"])
            if record is None:
                raise NestError(404, "API key not found")
            record["deletedAt"] = self.clock.now()
            return envelope()

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
