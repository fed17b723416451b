"""Database tokens (`Authorization: Token`) and JWTs from `/api/user/token-auth/` (contracts §3.2)."""

import time
import uuid

from sandbox.baserow.errors import ApiError
from sandbox.httpbase import Request
from sandbox.tokens import jwt_decode, jwt_encode, random_secret


class Authentication:
    """Tokens, users and the check every REST call goes through."""

    def add_token(self, *, key: str | None = None, name: str = "sandbox", permissions: dict | None = None) -> dict:
        """A database token; `permissions` maps create/read/update/delete to true or a list of table ids."""
        with self.lock:
            key = key or random_secret()[:32]
            all_ops = {"create": True, "read": True, "update": True, "delete": True}
            token = {
                "key": key,
                "name": name,
                "workspace_id": self.state["workspace_id"],
                "permissions": {**all_ops, **(permissions or {})},
            }
            self.state["tokens"][key] = token
            self._save()
            return dict(token)

    def add_user(self, *, email: str, password: str, first_name: str = "Admin") -> dict:
        with self.lock:
            user = {"id": self._next_id("user"), "email": email, "password": password, "first_name": first_name}
            self.state["users"][email.lower()] = user
            self._save()
            return {k: v for k, v in user.items() if k != "password"}

    def _issue_tokens(self, user: dict) -> dict:
        issued = int(time.time())
        base = {"user_id": user["id"], "iat": issued, "jti": uuid.uuid4().hex}
        access = jwt_encode(
            {**base, "token_type": "access", "exp": issued + self.config["access_token_lifetime"]}, self.jwt_secret
        )
        refresh = jwt_encode(
            {**base, "token_type": "refresh", "exp": issued + self.config["refresh_token_lifetime"]}, self.jwt_secret
        )
        return {"access": access, "refresh": refresh}

    def _public_user(self, user: dict) -> dict:
        return {
            "id": user["id"],
            "username": user["email"],
            "first_name": user["first_name"],
            "language": "en",
            "is_staff": True,
        }

    def _user_by_id(self, user_id: int) -> dict | None:
        return next((u for u in self.state["users"].values() if u["id"] == user_id), None)

    def _authenticate(
        self, request: Request, *, allow_token: bool, operation: str | None = None, table_id: int | None = None
    ):
        header = request.header("authorization").strip()
        scheme, _, credential = header.partition(" ")
        scheme = scheme.upper()
        if scheme == "JWT":
            payload = jwt_decode(credential.strip(), self.jwt_secret)
            if not payload or payload.get("token_type") != "access" or not self._user_by_id(payload.get("user_id")):
                raise ApiError(401, "ERROR_INVALID_ACCESS_TOKEN", "Access token is expired or invalid.")
            return {"user_id": payload["user_id"]}
        if scheme == "TOKEN" and allow_token:
            key = credential.strip()
            if not key or " " in key:
                raise ApiError(401, "ERROR_INVALID_TOKEN_HEADER", "Invalid token header. No credentials provided.")
            token = self.state["tokens"].get(key)
            if token is None:
                raise ApiError(401, "ERROR_TOKEN_DOES_NOT_EXIST", "The token does not exist.")
            if operation:
                allowed = token["permissions"].get(operation)
                if not (allowed is True or (isinstance(allowed, list) and table_id in allowed)):
                    raise ApiError(
                        401, "ERROR_NO_PERMISSION_TO_TABLE", "The token does not have permissions to the table."
                    )
            return {"token": key}
        raise ApiError(401, None, "Authentication credentials were not provided.")
