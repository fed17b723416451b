"""Signed tokens (HS256 JWT, as both products issue) and ids shaped like the real ones."""

import base64
import hashlib
import hmac
import json
import os
import random
import string
import time
import uuid


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_encode(payload: dict, secret: str) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def jwt_decode(token: str, secret: str) -> dict | None:
    """The payload of a valid, unexpired token signed with `secret`, else None."""
    try:
        header, body, signature = token.split(".")
        expected = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    if not isinstance(payload, dict) or payload.get("exp", 0) < time.time():
        return None
    return payload


class IdMaker:
    """UUIDv7 strings and nanoid-style keys; `seed` makes a run reproducible (the demo ids)."""

    def __init__(self, seed: int | None = None, epoch_ms: int | None = None):
        self._random = random.Random(seed) if seed is not None else random.SystemRandom()
        self._fixed_ms = epoch_ms
        self._last_ms = 0

    def uuid7(self) -> str:
        if self._fixed_ms is not None:
            self._fixed_ms += 1
            millis = self._fixed_ms
        else:
            millis = max(int(time.time() * 1000), self._last_ms + 1)
        self._last_ms = millis
        rand_a = self._random.getrandbits(12)
        rand_b = self._random.getrandbits(62)
        value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
        return str(uuid.UUID(int=value))

    def key(self, length: int = 10, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self._random.choice(alphabet) for _ in range(length))


def random_secret() -> str:
    return os.urandom(24).hex()
