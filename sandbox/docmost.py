"""A local stand-in for Docmost (server 0.95): POST-only JSON API, session JWT login, pages, spaces, shares.

Behaviour follows /work/shared/contracts/README.md sections 4 and 5: the `{data, success, status}`
envelope, NestJS errors (`{message, error, statusCode}`), unknown body keys silently dropped, the
`authToken` cookie from `/api/auth/login` (also accepted as `Authorization: Bearer`), 10 login calls a
minute. API keys exist only with `edition="enterprise"`. Run `python -m sandbox.docmost --port 8020 --demo`
or start `DocmostStandIn` in-process. The control API under `/_sandbox/` is not part of Docmost.
"""

import argparse
import base64
import copy
import json
import os
import re
import time
from datetime import UTC, datetime
from typing import Any

from sandbox.httpbase import Request, Response, StandIn, serve_forever
from sandbox.prosemirror import InvalidContent, render, to_doc
from sandbox.tokens import IdMaker, jwt_decode, jwt_encode, random_secret

STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
FORMATS = ("json", "markdown", "html")
OPERATIONS = ("append", "prepend", "replace")
DEFAULT_CONFIG = {
    "edition": "community",  # "enterprise" adds API keys
    "login_limit": 10,  # auth controller throttle: 10 requests
    "login_window": 60.0,  # per 60 s
    "token_lifetime": 90 * 24 * 3600,  # JWT_TOKEN_EXPIRES_IN default 90d
}
DEMO_EPOCH_MS = 1768032000000  # 2026-01-10T08:00:00Z: demo ids are UUIDv7 from this instant, seeded
BOT_EMAIL = "bot@formation-hub.local"
BOT_PASSWORD = "demo-docmost-password"
HUMAN_EMAIL = "marie.dupont@formation-hub.local"
HUMAN_PASSWORD = "demo-docmost-human"
PROJECT_TEMPLATE = """# Projet {{nom}} - {{client}}

## Contexte

## Objectifs

- Objectif 1

## Planning

| Étape | Date |
| --- | --- |

## Contacts
"""
FORMATION_TEMPLATE = """# Formation {{nom}}

## Public et prérequis

## Objectifs pédagogiques

## Blocs
"""
COMPTE_RENDU_TEMPLATE = """# Compte rendu - {{titre}}

**Date :** {{date}}

## Participants

## Décisions

## Actions
"""
CASL_ADMIN_RULES = [
    {"action": "manage", "subject": "Settings"},
    {"action": "manage", "subject": "Member"},
    {"action": "manage", "subject": "Page"},
    {"action": "manage", "subject": "Share"},
]
CASL_WRITER_RULES = [
    {"action": "read", "subject": "Settings"},
    {"action": "read", "subject": "Member"},
    {"action": "manage", "subject": "Page"},
    {"action": "manage", "subject": "Share"},
]
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class NestError(Exception):
    """A NestJS HttpException: `{"message", "error", "statusCode"}` (401 from the JWT guard has no `error`)."""

    def __init__(self, status: int, message: Any = None, *, error: bool = True, headers: list | None = None):
        super().__init__(message)
        self.status = status
        self.message = message if message is not None else STATUS_TEXT.get(status, "Error")
        self.with_error = error
        self.headers = headers or []

    def response(self) -> Response:
        body: dict[str, Any] = {"message": self.message}
        if self.with_error:
            body["error"] = STATUS_TEXT.get(self.status, "Error")
        body["statusCode"] = self.status
        return Response(self.status, body, self.headers)


def unauthorized(message: str = "Unauthorized") -> NestError:
    return NestError(401, message, error=message != "Unauthorized")


class Clock:
    """ISO timestamps with milliseconds, strictly increasing so that `updatedAt` orders every change."""

    def __init__(self):
        self._last = 0

    def now(self) -> str:
        millis = max(int(time.time() * 1000), self._last + 1)
        self._last = millis
        return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def envelope(data: Any = None) -> Response:
    body = {"data": data, "success": True, "status": 200} if data is not None else {"success": True, "status": 200}
    return Response(200, body)


class Validator:
    """class-validator with `whitelist` and `stopAtFirstError`: declared keys only, one message per property."""

    def __init__(self, body: Any):
        self.body = body if isinstance(body, dict) else {}
        self.data: dict[str, Any] = {}
        self.errors: list[str] = []

    def _present(self, name: str) -> bool:
        return self.body.get(name) is not None

    def string(
        self, name: str, *, required: bool = False, uuid_only: bool = False, choices=None, email=False, min_length=0
    ):
        if not self._present(name):
            if required:
                self.errors.append(f"{name} should not be empty")
            return self
        value = self.body[name]
        if uuid_only and (not isinstance(value, str) or not UUID_RE.match(value)):
            self.errors.append(f"{name} must be a UUID")
        elif not isinstance(value, str):
            self.errors.append(f"{name} must be a string")
        elif required and not value:
            self.errors.append(f"{name} should not be empty")
        elif choices and value not in choices:
            self.errors.append(f"{name} must be one of the following values: {', '.join(choices)}")
        elif email and not EMAIL_RE.match(value):
            self.errors.append(f"{name} must be an email")
        elif min_length and len(value) < min_length:
            self.errors.append(f"{name} must be longer than or equal to {min_length} characters")
        else:
            self.data[name] = value
        return self

    def boolean(self, name: str):
        if self._present(name):
            if isinstance(self.body[name], bool):
                self.data[name] = self.body[name]
            else:
                self.errors.append(f"{name} must be a boolean value")
        return self

    def any(self, name: str):
        if name in self.body:
            self.data[name] = self.body[name]
        return self

    def pagination(self):
        if self._present("limit"):
            limit = self.body["limit"]
            if not isinstance(limit, int) or isinstance(limit, bool):
                self.errors.append("limit must be an integer number")
            elif limit < 1:
                self.errors.append("limit must not be less than 1")
            elif limit > 100:
                self.errors.append("limit must not be greater than 100")
            else:
                self.data["limit"] = limit
        for name in ("cursor", "beforeCursor", "query"):
            self.string(name)
        return self

    def result(self) -> dict:
        if self.errors:
            raise NestError(400, self.errors)
        return self.data


def paginate(items: list, options: dict) -> dict:
    """Docmost's cursor page: `{items, meta: {limit, hasNextPage, hasPrevPage, nextCursor, prevCursor}}`."""
    limit = options.get("limit", 20)

    def decode(cursor: str) -> int:
        try:
            return int(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["offset"])
        except (ValueError, KeyError, TypeError):
            raise NestError(400, "Invalid cursor") from None

    def encode(offset: int) -> str:
        return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")

    if options.get("cursor"):
        start = decode(options["cursor"])
    elif options.get("beforeCursor"):
        start = max(0, decode(options["beforeCursor"]) - limit)
    else:
        start = 0
    page = items[start : start + limit]
    has_next = start + limit < len(items)
    has_prev = start > 0
    return {
        "items": page,
        "meta": {
            "limit": limit,
            "hasNextPage": has_next,
            "hasPrevPage": has_prev,
            "nextCursor": encode(start + limit) if has_next else None,
            "prevCursor": encode(start) if has_prev else None,
        },
    }


def position_key(index: int) -> str:
    """Fractional-index-like page positions that sort as strings: a0..az, b00..bzz."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    if index < 62:
        return "a" + digits[index]
    index -= 62
    return "b" + digits[index // 62 % 62] + digits[index % 62]


class DocmostStandIn(StandIn):
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

    # Persistence -----------------------------------------------------------------------------------

    PERSISTED = ("workspace", "users", "spaces", "pages", "shares", "sessions", "api_keys", "demo_ids", "jwt_secret")

    def _load(self, path: str) -> None:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
        for key in self.PERSISTED:
            setattr(self, key, raw[key])

    def _save(self) -> None:
        """Write everything to the state file (after each call): session tokens stay valid across restarts."""
        if not self.state_file:
            return
        with self.lock:
            snapshot = json.dumps({key: getattr(self, key) for key in self.PERSISTED})
        temporary = f"{self.state_file}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(snapshot)
        os.replace(temporary, self.state_file)

    def _empty(self) -> None:
        self.workspace = {"id": self.ids.uuid7(), "name": "formation-hub", "hostname": None}
        self.users: dict[str, dict] = {}
        self.spaces: dict[str, dict] = {}
        self.pages: dict[str, dict] = {}
        self.shares: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.api_keys: dict[str, dict] = {}
        self.login_times: dict[str, list[float]] = {}

    def reset(self) -> None:
        with self.lock:
            self.ids = IdMaker()
            self._empty()
            self.demo_ids = {}
            self.calls.clear()
            self.faults.clear()

    # Model helpers (used by the API and the control API) -------------------------------------------

    def add_user(self, *, email: str, password: str, name: str, role: str = "member") -> dict:
        with self.lock:
            stamp = self.clock.now()
            user = {
                "id": self.ids.uuid7(),
                "name": name,
                "email": email.lower(),
                "password": password,
                "avatarUrl": None,
                "role": role,
                "workspaceId": self.workspace["id"],
                "locale": "fr-FR",
                "timezone": "Europe/Paris",
                "createdAt": stamp,
                "updatedAt": stamp,
            }
            self.users[user["id"]] = user
            for space in self.spaces.values():
                space["members"].setdefault(user["id"], "admin" if role in ("owner", "admin") else "writer")
            return self.public_user(user)

    def add_space(
        self, *, name: str, slug: str, description: str | None = None, sharing_disabled: bool = False
    ) -> dict:
        with self.lock:
            if any(space["slug"] == slug for space in self.spaces.values()):
                raise NestError(400, "Space slug exists. Please use a unique space slug")
            stamp = self.clock.now()
            creator = next(iter(self.users), None)
            space = {
                "id": self.ids.uuid7(),
                "name": name,
                "description": description,
                "slug": slug,
                "logo": None,
                "visibility": "private",
                "defaultRole": "writer",
                "creatorId": creator,
                "workspaceId": self.workspace["id"],
                "settings": {"sharing": {"disabled": True}} if sharing_disabled else None,
                "isPersonal": False,
                "createdAt": stamp,
                "updatedAt": stamp,
                "deletedAt": None,
                "members": {
                    user_id: "admin" if user["role"] in ("owner", "admin") else "writer"
                    for user_id, user in self.users.items()
                },
            }
            self.spaces[space["id"]] = space
            return self.public_space(space)

    def add_page(
        self,
        *,
        space_id: str,
        creator_id: str,
        title: str | None = None,
        icon: str | None = None,
        parent_page_id: str | None = None,
        doc: dict | None = None,
    ) -> dict:
        with self.lock:
            stamp = self.clock.now()
            siblings = [
                p for p in self.pages.values() if p["spaceId"] == space_id and p["parentPageId"] == parent_page_id
            ]
            page = {
                "id": self.ids.uuid7(),
                "slugId": self.ids.key(10),
                "title": title,
                "icon": icon,
                "coverPhoto": None,
                "position": position_key(len(siblings)),
                "parentPageId": parent_page_id,
                "creatorId": creator_id,
                "lastUpdatedById": creator_id,
                "spaceId": space_id,
                "workspaceId": self.workspace["id"],
                "isLocked": False,
                "isBase": False,
                "createdAt": stamp,
                "updatedAt": stamp,
                "deletedAt": None,
                "contributorIds": [creator_id],
                "deletedById": None,
                "content": doc or {"type": "doc", "content": [{"type": "paragraph"}]},
            }
            self.pages[page["id"]] = page
            return page

    def add_share(
        self, *, page: dict, creator_id: str, include_sub_pages: bool = False, search_indexing: bool = False
    ) -> dict:
        with self.lock:
            existing = next((s for s in self.shares.values() if s["pageId"] == page["id"]), None)
            if existing:
                return existing
            stamp = self.clock.now()
            share = {
                "id": self.ids.uuid7(),
                "key": self.ids.key(10, "abcdefghijklmnopqrstuvwxyz0123456789"),
                "pageId": page["id"],
                "includeSubPages": include_sub_pages,
                "searchIndexing": search_indexing,
                "creatorId": creator_id,
                "spaceId": page["spaceId"],
                "workspaceId": self.workspace["id"],
                "createdAt": stamp,
                "updatedAt": stamp,
                "deletedAt": None,
            }
            self.shares[share["id"]] = share
            return share

    def find_page(self, page_id: str | None) -> dict | None:
        if not page_id:
            return None
        page = self.pages.get(page_id)
        if page is None:
            page = next((p for p in self.pages.values() if p["slugId"] == page_id), None)
        return page

    def find_space(self, space_id: str | None) -> dict | None:
        if not space_id:
            return None
        return self.spaces.get(space_id) or next((s for s in self.spaces.values() if s["slug"] == space_id), None)

    def _descendants(self, page_id: str) -> list[dict]:
        found, frontier = [], [page_id]
        while frontier:
            parent = frontier.pop()
            for page in self.pages.values():
                if page["parentPageId"] == parent:
                    found.append(page)
                    frontier.append(page["id"])
        return found

    def soft_delete_page(self, page: dict, user_id: str) -> None:
        stamp = self.clock.now()
        for target in [page, *self._descendants(page["id"])]:
            if target["deletedAt"] is None:
                target.update(deletedAt=stamp, deletedById=user_id, updatedAt=stamp)

    def restore_page(self, page: dict) -> None:
        deleted_at = page["deletedAt"]
        stamp = self.clock.now()
        for target in [page, *self._descendants(page["id"])]:
            if target["deletedAt"] == deleted_at:
                target.update(deletedAt=None, deletedById=None, updatedAt=stamp)
        parent = self.pages.get(page["parentPageId"]) if page["parentPageId"] else None
        if parent is not None and parent["deletedAt"] is not None:
            page["parentPageId"] = None

    def write_content(self, page: dict, doc: dict, operation: str) -> None:
        current = page["content"].get("content", [])
        if operation == "replace":
            page["content"] = doc
        elif operation == "append":
            page["content"] = {"type": "doc", "content": current + doc.get("content", [])}
        else:
            page["content"] = {"type": "doc", "content": doc.get("content", []) + current}

    # Serializers -----------------------------------------------------------------------------------

    @staticmethod
    def public_user(user: dict) -> dict:
        return {key: value for key, value in user.items() if key != "password"}

    def _brief_user(self, user_id: str | None) -> dict | None:
        user = self.users.get(user_id) if user_id else None
        return {"id": user["id"], "name": user["name"], "avatarUrl": user["avatarUrl"]} if user else None

    def public_space(self, space: dict) -> dict:
        return {key: copy.deepcopy(value) for key, value in space.items() if key != "members"}

    def space_for(self, space: dict, user_id: str, *, with_rules: bool = False) -> dict:
        role = space["members"].get(user_id)
        membership: dict[str, Any] = {"userId": user_id, "role": role}
        if with_rules:
            membership["permissions"] = copy.deepcopy(CASL_ADMIN_RULES if role == "admin" else CASL_WRITER_RULES)
        return {**self.public_space(space), "memberCount": len(space["members"]), "membership": membership}

    def page_base(self, page: dict) -> dict:
        return {key: copy.deepcopy(value) for key, value in page.items() if key not in ("content", "deletedById")}

    def page_created(self, page: dict) -> dict:
        return {**self.page_base(page), "permissions": {"canEdit": True, "hasRestriction": False}}

    def page_full(self, page: dict, content_format: str, *, with_deleted_by: bool) -> dict:
        space = self.spaces[page["spaceId"]]
        data = {
            **self.page_base(page),
            "content": render(page["content"], content_format),
            "space": {"id": space["id"], "name": space["name"], "slug": space["slug"]},
            "creator": self._brief_user(page["creatorId"]),
            "lastUpdatedBy": self._brief_user(page["lastUpdatedById"]),
            "contributors": [self._brief_user(user_id) for user_id in page["contributorIds"] if user_id in self.users],
        }
        if with_deleted_by:
            data["deletedBy"] = self._brief_user(page["deletedById"])
        data["permissions"] = {"canEdit": True, "hasRestriction": False}
        return data

    def page_markdown(self, page: dict) -> dict:
        """Control API view of a page: every field, content as markdown, deleted ones included."""
        space = self.spaces[page["spaceId"]]
        return {
            **{key: copy.deepcopy(value) for key, value in page.items() if key != "content"},
            "content": render(page["content"], "markdown"),
            "spaceSlug": space["slug"],
        }

    # Demo ------------------------------------------------------------------------------------------

    def seed_demo(self) -> dict:
        """Bot and human users, spaces Agence and Formations, template pages and the compte-rendu parent.

        Ids are UUIDv7 made from a fixed instant and a fixed seed, so they are the same on every start."""
        with self.lock:
            self.ids = IdMaker(seed=60, epoch_ms=DEMO_EPOCH_MS)
            self._empty()
            bot = self.add_user(email=BOT_EMAIL, password=BOT_PASSWORD, name="formation-hub bot", role="admin")
            human = self.add_user(email=HUMAN_EMAIL, password=HUMAN_PASSWORD, name="Marie Dupont", role="member")
            agence = self.add_space(name="Agence", slug="agence", description="Projets clients de l'agence")
            formations = self.add_space(name="Formations", slug="formations", description="Supports de formation")
            project_template = self.add_page(
                space_id=agence["id"], creator_id=human["id"], title="Modèle - Projet", icon="📁",
                doc=to_doc(PROJECT_TEMPLATE, "markdown"),
            )  # fmt: skip
            reports = self.add_page(
                space_id=agence["id"], creator_id=human["id"], title="Comptes rendus", icon="🗒️",
                doc=to_doc("Les comptes rendus de réunion sont des sous-pages de cette page.", "markdown"),
            )  # fmt: skip
            report_template = self.add_page(
                space_id=agence["id"], creator_id=human["id"], title="Modèle - Compte rendu", icon="📝",
                doc=to_doc(COMPTE_RENDU_TEMPLATE, "markdown"),
            )  # fmt: skip
            formation_template = self.add_page(
                space_id=formations["id"], creator_id=human["id"], title="Modèle - Formation", icon="🎓",
                doc=to_doc(FORMATION_TEMPLATE, "markdown"),
            )  # fmt: skip
            self.ids = IdMaker()
            self.demo_ids = {
                "workspace_id": self.workspace["id"],
                "bot_user_id": bot["id"],
                "human_user_id": human["id"],
                "space_agence_id": agence["id"],
                "space_formations_id": formations["id"],
                "project_template_page_id": project_template["id"],
                "compte_rendu_parent_page_id": reports["id"],
                "compte_rendu_template_page_id": report_template["id"],
                "formation_template_page_id": formation_template["id"],
            }
            return dict(self.demo_ids)

    # Authentication --------------------------------------------------------------------------------

    def issue_session_token(self, user: dict) -> str:
        issued = int(time.time())
        session_id = self.ids.uuid7()
        self.sessions[session_id] = {
            "userId": user["id"],
            "revoked": False,
            "expiresAt": issued + self.config["token_lifetime"],
        }
        payload = {
            "sub": user["id"],
            "email": user["email"],
            "workspaceId": self.workspace["id"],
            "sessionId": session_id,
            "type": "access",
            "iat": issued,
            "exp": issued + self.config["token_lifetime"],
        }
        return jwt_encode(payload, self.jwt_secret)

    def login_token(self, email: str = BOT_EMAIL) -> str:
        """A session token for a user without going through the throttled login (tests, tools)."""
        with self.lock:
            user = next(u for u in self.users.values() if u["email"] == email.lower())
            return self.issue_session_token(user)

    def revoke_sessions(self, email: str | None = None) -> int:
        with self.lock:
            count = 0
            for session in self.sessions.values():
                user = self.users.get(session["userId"])
                if email is None or (user and user["email"] == email.lower()):
                    session["revoked"] = True
                    count += 1
            return count

    def create_api_key(self, *, user_id: str, name: str, expires_at: str | None = None) -> dict:
        with self.lock:
            stamp = self.clock.now()
            key_id = self.ids.uuid7()
            issued = int(time.time())
            payload = {
                "sub": user_id,
                "apiKeyId": key_id,
                "workspaceId": self.workspace["id"],
                "type": "api_key",
                "iat": issued,
            }
            payload["exp"] = issued + 10 * 365 * 24 * 3600
            if expires_at:
                payload["exp"] = int(datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp())
            record = {
                "id": key_id,
                "name": name,
                "creatorId": user_id,
                "workspaceId": self.workspace["id"],
                "expiresAt": expires_at,
                "lastUsedAt": None,
                "createdAt": stamp,
                "updatedAt": stamp,
                "deletedAt": None,
            }
            self.api_keys[key_id] = record
            return {**record, "token": jwt_encode(payload, self.jwt_secret)}

    def _token_from(self, request: Request) -> str | None:
        auth = request.header("authorization")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        for part in request.header("cookie").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "authToken" and value:
                return value
        return None

    def _authenticate(self, request: Request) -> dict:
        token = self._token_from(request)
        payload = jwt_decode(token, self.jwt_secret) if token else None
        if not payload:
            raise unauthorized()
        with self.lock:
            if payload.get("type") == "api_key":
                if self.config["edition"] != "enterprise":
                    raise unauthorized("Enterprise API Key module missing")
                record = self.api_keys.get(payload.get("apiKeyId"))
                if record is None or record["deletedAt"] is not None:
                    raise unauthorized()
                record["lastUsedAt"] = self.clock.now()
            elif payload.get("type") == "access":
                session = self.sessions.get(payload.get("sessionId"))
                if session is None or session["revoked"] or session["expiresAt"] < time.time():
                    raise unauthorized()
            else:
                raise unauthorized()
            user = self.users.get(payload.get("sub"))
            if user is None:
                raise unauthorized()
            return user

    def _throttle(self, request: Request) -> None:
        now = time.monotonic()
        with self.lock:
            window = self.config["login_window"]
            recent = [t for t in self.login_times.get(request.client, []) if now - t < window]
            if len(recent) >= self.config["login_limit"]:
                self.login_times[request.client] = recent
                retry_after = max(1, int(window - (now - recent[0])) + 1)
                raise NestError(
                    429,
                    "ThrottlerException: Too Many Requests",
                    error=False,
                    headers=[("Retry-After", str(retry_after))],
                )
            recent.append(now)
            self.login_times[request.client] = recent

    # HTTP ------------------------------------------------------------------------------------------

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
        return NestError(400, f"Unexpected token in JSON: {error}").response()

    def fault_body(self, status: int) -> Any:
        if status == 429:
            return {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"}
        if status == 500:
            return {"statusCode": 500, "message": "Internal server error"}
        body: dict[str, Any] = {"message": STATUS_TEXT.get(status, "Error")}
        if status < 500:
            body["error"] = STATUS_TEXT.get(status, "Error")
        body["statusCode"] = status
        return body

    # Auth routes -----------------------------------------------------------------------------------

    def _api_login(self, request: Request) -> Response:
        self._throttle(request)
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
        response.headers.append(("Set-Cookie", cookie))
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

    # Spaces ----------------------------------------------------------------------------------------

    def _api_spaces(self, request: Request, user: dict) -> Response:
        options = Validator(request.json()).pagination().result()
        with self.lock:
            spaces = [s for s in self.spaces.values() if user["id"] in s["members"]]
            if options.get("query"):
                spaces = [s for s in spaces if options["query"].lower() in s["name"].lower()]
            spaces.sort(key=lambda s: s["name"])
            return envelope(paginate([self.space_for(s, user["id"]) for s in spaces], options))

    def _api_space_info(self, request: Request, user: dict) -> Response:
        data = Validator(request.json()).string("spaceId", required=True).result()
        with self.lock:
            space = self.find_space(data["spaceId"])
            if space is None:
                raise NestError(404, "Space not found")
            if user["id"] not in space["members"]:
                raise NestError(403)
            return envelope(self.space_for(space, user["id"], with_rules=True))

    # Pages -----------------------------------------------------------------------------------------

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
        try:
            return to_doc(data["content"], data.get("format", "json"))
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
            for key in ("title", "icon"):
                if key in data:
                    page[key] = data[key]
            if doc is not None:
                self.write_content(page, doc, data["operation"])
            page["updatedAt"] = self.clock.now()
            page["lastUpdatedById"] = user["id"]
            if user["id"] not in page["contributorIds"]:
                page["contributorIds"].append(user["id"])
            return envelope(self.page_full(page, data.get("format", "json"), with_deleted_by=False))

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
                    raise NestError(403, "Only space admins can permanently delete pages")
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
            return envelope(self.page_base(page))

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
            return envelope(paginate(items, options))

    def _api_pages_trash(self, request: Request, user: dict) -> Response:
        options = Validator(request.json()).string("spaceId", required=True, uuid_only=True).pagination().result()
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
            items = [{**self.page_base(p), "deletedBy": self._brief_user(p["deletedById"])} for p in pages]
            return envelope(paginate(items, options))

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
            pages.sort(key=lambda p: (p["position"], p["id"]))
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
            return envelope(paginate(items, options))

    # Shares ----------------------------------------------------------------------------------------

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
            return envelope(paginate([self.share_listed(s, user) for s in shares], options))

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
            page = self._live_page(data["pageId"])
            self._member_space(page["spaceId"], user)
            share = next((s for s in self.shares.values() if s["pageId"] == page["id"]), None)
            return envelope(dict(share) if share else None)

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

    # API keys (enterprise edition only) ------------------------------------------------------------

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

    # Control API -----------------------------------------------------------------------------------

    def _control_reset(self, request: Request) -> Response:
        data = request.json() or {}
        self.reset()
        result: dict[str, Any] = {"reset": True}
        if data.get("demo"):
            result["demo"] = self.seed_demo()
        return Response(200, result)

    def _control_demo(self, request: Request) -> Response:
        return Response(200, self.seed_demo())

    def _control_state(self, request: Request) -> Response:
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
        return Response(200, dict(self.config))

    def _control_set_config(self, request: Request) -> Response:
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
        data = request.json() or {}
        with self.lock:
            page = self._live_page(request.params["page_id"])
            self.soft_delete_page(page, self._control_user(data.get("userEmail"))["id"])
            return Response(200, self.page_markdown(page))

    def _control_page_restore(self, request: Request) -> Response:
        with self.lock:
            page = self._live_page(request.params["page_id"])
            if page["deletedAt"] is not None:
                self.restore_page(page)
            return Response(200, self.page_markdown(page))

    def _control_shares(self, request: Request) -> Response:
        with self.lock:
            return Response(200, {"shares": [dict(s) for s in self.shares.values()]})

    def _control_share_create(self, request: Request) -> Response:
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
        data = request.json() or {}
        return Response(200, {"revoked": self.revoke_sessions(data.get("email"))})

    def _control_login_token(self, request: Request) -> Response:
        data = request.json() or {}
        try:
            return Response(200, {"token": self.login_token(data.get("email", BOT_EMAIL))})
        except StopIteration:
            return Response(400, {"error": "no such user"})

    def _control_api_key(self, request: Request) -> Response:
        data = request.json() or {}
        with self.lock:
            user = self._control_user(data.get("email", BOT_EMAIL))
        return Response(201, self.create_api_key(user_id=user["id"], name=data.get("name", "sandbox")))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.docmost", description="Local Docmost stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8020)
    parser.add_argument("--demo", action="store_true", help="spaces Agence and Formations, templates, bot user")
    parser.add_argument(
        "--state", metavar="FILE", help="keep users, spaces, pages, shares and sessions in this JSON file"
    )
    parser.add_argument(
        "--edition", choices=("community", "enterprise"), default="community", help="enterprise adds API keys"
    )
    parser.add_argument("--login-limit", type=int, default=DEFAULT_CONFIG["login_limit"], help="login calls per window")
    parser.add_argument("--login-window", type=float, default=DEFAULT_CONFIG["login_window"], help="seconds")
    args = parser.parse_args(argv)
    stand_in = DocmostStandIn(
        host=args.host,
        port=args.port,
        demo=args.demo,
        state_file=args.state,
        edition=args.edition,
        login_limit=args.login_limit,
        login_window=args.login_window,
    )
    details = []
    if args.demo:
        details.append(f"Docmost demo: bot {BOT_EMAIL} / {BOT_PASSWORD}")
        details += [f"Docmost demo: {name} = {value}" for name, value in stand_in.demo_ids.items()]
    serve_forever(stand_in, "Docmost stand-in", tuple(details))


if __name__ == "__main__":
    main()
