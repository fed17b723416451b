"""Session JWTs from `/api/auth/login` (cookie `authToken` or Bearer), EE API keys, the login throttle."""

import time
from datetime import datetime

from sandbox.docmost.demo import BOT_EMAIL
from sandbox.docmost.nest import NestError, unauthorized
from sandbox.httpbase import Request
from sandbox.tokens import jwt_decode, jwt_encode


class SessionAuth:
    """Issues and checks tokens (contracts §5)."""

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

    def _throttle(self, request: Request) -> list[tuple[str, str]]:
        """Docmost 0.95's auth limiter: 10 calls a minute per client address, failed logins by anyone
        included; the 429 carries `Retry-After-Auth`, not `Retry-After` (contracts/REAL-PEERS.md point 2).
        Returns the `x-ratelimit-*-auth` headers of a call let through."""
        now = time.monotonic()
        with self.lock:
            window = self.config["login_window"]
            limit = self.config["login_limit"]
            recent = [t for t in self.login_times.get(request.client, []) if now - t < window]
            if len(recent) >= limit:
                self.login_times[request.client] = recent
                retry_after = max(1, int(window - (now - recent[0])) + 1) if recent else max(1, int(window))
                raise NestError(
                    429, "Too many requests", error=False, headers=[("Retry-After-Auth", str(retry_after))],
                )
            recent.append(now)
            self.login_times[request.client] = recent
            return [
                ("x-ratelimit-limit-auth", str(limit)),
                ("x-ratelimit-remaining-auth", str(limit - len(recent))),
                ("x-ratelimit-reset-auth", str(max(1, int(window)))),
            ]
