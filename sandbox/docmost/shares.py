"""The Docmost stand-in's share routes (`/api/shares*`): list, create, find for a page, update, delete."""

from sandbox.docmost.nest import NestError, Validator, envelope, paginate
from sandbox.httpbase import Request, Response


class ShareRoutes:
    """Route handlers of DocmostStandIn for shares (public links to a page and its children)."""

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
