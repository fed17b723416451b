"""Docmost's workspace, users, spaces, pages and shares in memory (optionally in a JSON file)."""

import copy
import json
import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sandbox.docmost.content import render
from sandbox.docmost.nest import NestError
from sandbox.tokens import IdMaker

_save_lock = threading.Lock()

# Docmost 0.95 names the CASL subjects in lowercase (contracts/REAL-PEERS.md point 5).
CASL_ADMIN_RULES = [
    {"action": "manage", "subject": "settings"},
    {"action": "manage", "subject": "member"},
    {"action": "manage", "subject": "page"},
    {"action": "manage", "subject": "share"},
]
CASL_WRITER_RULES = [
    {"action": "read", "subject": "settings"},
    {"action": "read", "subject": "member"},
    {"action": "manage", "subject": "page"},
    {"action": "manage", "subject": "share"},
]


class Clock:
    """ISO timestamps with milliseconds, strictly increasing so that `updatedAt` orders every change."""

    def __init__(self):
        self._last = 0

    def now(self) -> str:
        millis = max(int(time.time() * 1000), self._last + 1)
        self._last = millis
        return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def position_key(index: int) -> str:
    """Fractional-index-like page positions that sort as strings: a0..az, b00..bzz."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    if index < 62:
        return "a" + digits[index]
    index -= 62
    return "b" + digits[index // 62 % 62] + digits[index % 62]


class DocmostStore:
    """The records and how the API shows them."""

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
        # One save at a time: two calls finishing together would race on the temporary file, and an
        # older snapshot could be written last.
        with _save_lock:
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
                "contributorIds": [],  # a new page has none yet, as in 0.95
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

    def brief_space(self, space_id: str) -> dict:
        space = self.spaces[space_id]
        return {"id": space["id"], "name": space["name"], "slug": space["slug"]}

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
