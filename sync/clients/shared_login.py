"""The Docmost bot's login, kept where every worker process of the host finds it.

Docmost 0.95 allows 10 auth calls a minute per client address, failed logins by anyone included, and
answers the 11th with 429 `Retry-After-Auth: 60` (contracts/REAL-PEERS.md, point 2). Workers restart
(deploys, django-q2 recycling, crashes): a token kept only in process memory costs one login per
restart, and twenty restarts in a minute lock the bot out. `DatabaseLoginStore` keeps the session token
and the refusal of the last login in a `SharedLogin` row, so a restarted worker reuses the token and,
while Docmost refuses logins, nobody sends another one.
"""

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import F

from sync.clients.errors import AuthenticationFailed, RateLimited
from sync.models import SharedLogin

SERVICE = "docmost"
LOGIN_PATH = "/api/auth/login"


@dataclass(frozen=True)
class Session:
    token: str
    expires: float | None


@dataclass(frozen=True)
class LoginRefusal:
    """Docmost refused the bot's login: nobody logs in again before `until` (Unix time)."""

    until: float
    status: int | None
    reason: str

    def error(self) -> Exception:
        """The error every caller gets while the refusal holds (RateLimited for a 429: the circuit opens
        until the wait is over; AuthenticationFailed otherwise: wrong password or no session cookie)."""
        wait = max(0.0, self.until - time.time())
        message = f"{self.reason} (no new login for {wait:.0f} s)"
        common = {"service": SERVICE, "method": "POST", "path": LOGIN_PATH, "status": self.status}
        if self.status == 429:
            return RateLimited(message, request_sent=False, retry_after=wait, **common)
        return AuthenticationFailed(message, **common)


class LoginStore:
    """Session tokens and login refusals of this process only (clients built without a connection row)."""

    def __init__(self):
        self._guard = threading.Lock()
        self._sessions: dict[str, Session] = {}
        self._refusals: dict[str, LoginRefusal] = {}
        self._locks: dict[str, threading.Lock] = {}

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Serialise the logins of one account, so that concurrent callers log in once."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield

    def session(self, key: str) -> Session | None:
        with self._guard:
            return self._sessions.get(key)

    def refusal(self, key: str) -> LoginRefusal | None:
        with self._guard:
            refusal = self._refusals.get(key)
        return refusal if refusal and refusal.until > time.time() else None

    def save_session(self, key: str, label: str, session: Session) -> None:
        with self._guard:
            self._sessions[key] = session
            self._refusals.pop(key, None)

    def save_refusal(self, key: str, label: str, refusal: LoginRefusal) -> None:
        with self._guard:
            self._refusals[key] = refusal

    def clear(self) -> None:
        with self._guard:
            self._sessions.clear()
            self._refusals.clear()


class DatabaseLoginStore(LoginStore):
    """The same, in the `SharedLogin` table: one row per base URL, account and password.

    `hold` locks the row (SELECT ... FOR UPDATE on PostgreSQL) for the time of one login, so workers of
    the host that all find the token stale at once send one login between them.
    """

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with super().hold(key), transaction.atomic():
            SharedLogin.objects.get_or_create(key=key)
            SharedLogin.objects.select_for_update().filter(key=key).first()
            yield

    def session(self, key: str) -> Session | None:
        row = SharedLogin.objects.filter(key=key).exclude(token="").values("token", "expires").first()
        return Session(row["token"], row["expires"]) if row else None

    def refusal(self, key: str) -> LoginRefusal | None:
        row = SharedLogin.objects.filter(key=key, refused_until__gt=datetime.now(UTC)).first()
        if row is None:
            return None
        return LoginRefusal(row.refused_until.timestamp(), row.refused_status, row.refused_reason)

    def save_session(self, key: str, label: str, session: Session) -> None:
        SharedLogin.objects.update_or_create(key=key, defaults={
            "label": label[:300], "token": session.token, "expires": session.expires, "refused_until": None,
            "refused_status": None, "refused_reason": "",
        })
        SharedLogin.objects.filter(key=key).update(logins=F("logins") + 1)

    def save_refusal(self, key: str, label: str, refusal: LoginRefusal) -> None:
        SharedLogin.objects.update_or_create(key=key, defaults={
            "label": label[:300], "refused_until": datetime.fromtimestamp(refusal.until, UTC),
            "refused_status": refusal.status, "refused_reason": refusal.reason[:500],
        })
        SharedLogin.objects.filter(key=key).update(logins=F("logins") + 1)

    def clear(self) -> None:
        SharedLogin.objects.all().delete()
