"""The Docmost stand-in: the POST-only API routes (contracts §4.2); shares and the `/_sandbox/` control API
have their own modules (shares.py, control.py)."""

import copy
import os
import time
from datetime import UTC, datetime
from typing import Any

from sandbox.docmost.auth import SessionAuth
from sandbox.docmost.content import InvalidContent, render, to_doc
from sandbox.docmost.control import DEFAULT_CONFIG, ControlRoutes
from sandbox.docmost.demo import DemoData
from sandbox.docmost.nest import NestError, Validator, envelope, paginate
from sandbox.docmost.shares import ShareRoutes
from sandbox.docmost.store import Clock, DocmostStore
from sandbox.httpbase import Request, Response, StandIn
from sandbox.tokens import IdMaker, jwt_decode, random_secret

FORMATS = ("json", "markdown", "html")
OPERATIONS = ("append", "prepend", "replace")


class DocmostStandIn(DocmostStore, SessionAuth, DemoData, ShareRoutes, ControlRoutes, StandIn):
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
