"""The Docmost bot account's session, shared by every client of the process for the same base URL and
account, and through a `LoginStore` by every process of the host (`sync.clients.shared_login`).

The login is throttled to 10 calls a minute per client address (failed logins by anyone included; the
429 says `Retry-After-Auth: 60`), so it is never retried here, and a refused login is remembered until
its wait is over: no client logs in again before, each gets the refusal (RateLimited opens the circuit).
"""

import hashlib
import time

from requests.cookies import remove_cookie_by_name

from sync.clients.errors import AuthenticationFailed, RateLimited
from sync.clients.http import NO_RETRY, TokenCache, Transport, check_fields, jwt_expiry
from sync.clients.shared_login import LoginRefusal, LoginStore, Session

AUTH_COOKIE = "authToken"
LOGIN_FIELDS = frozenset({"email", "password"})
RENEW_MARGIN = 60.0
# How long a refused login (wrong password, no cookie) is not tried again; a 429 says its own wait.
LOGIN_REFUSAL_SECONDS = 60.0
AUTH_LIMIT_WAIT_SECONDS = 60.0

_TOKENS = TokenCache()
PROCESS_LOGINS = LoginStore()


class BotLogin:
    """The session token of one bot account on one Docmost, logged in through `transport`."""

    def __init__(self, transport: Transport, *, email: str, password: str, store: LoginStore):
        self.transport = transport
        self.store = store
        self._email = email
        self._password = password

    @property
    def _login_key(self) -> str:
        """Names the account's shared session: base URL, account and password (a new password starts over)."""
        material = f"{self.transport.base_url}\n{self._email.lower()}\n{self._password}"
        return hashlib.sha256(material.encode()).hexdigest()

    @property
    def _login_label(self) -> str:
        return f"{self.transport.base_url} as {self._email.lower()}"

    def token(self, *, stale: str | None = None) -> str:
        """The bot's session token: from this process, else from the login store, else from one login
        (only when there is none, it is about to expire, or it is the `stale` one Docmost just refused,
        and never while an earlier login's refusal holds)."""
        key = self._login_key
        current: Session | None = _TOKENS.get(key)
        if current and self._usable(current, stale):
            return current.token
        with _TOKENS.lock(key):
            current = _TOKENS.get(key)
            if current and self._usable(current, stale):
                return current.token
            fresh = self._stored_or_new_session(key, stale)
            _TOKENS.set(key, fresh)
            return fresh.token

    def _stored_or_new_session(self, key: str, stale: str | None) -> Session:
        store = self.store
        with store.hold(key):
            stored = store.session(key)
            if stored and self._usable(stored, stale):
                return stored
            refusal = store.refusal(key)
            if refusal is None:
                try:
                    fresh = self._login()
                except (RateLimited, AuthenticationFailed) as error:
                    refusal = _refusal_for(error)
                    store.save_refusal(key, self._login_label, refusal)
                else:
                    store.save_session(key, self._login_label, fresh)
                    return fresh
        # Raised outside `hold`: the database store's transaction must keep the refusal it saved.
        raise refusal.error()

    @staticmethod
    def _usable(session: Session, stale: str | None) -> bool:
        if session.token == stale:
            return False
        return session.expires is None or session.expires - RENEW_MARGIN > time.time()

    def _login(self) -> Session:
        """One login, never retried here: every attempt counts against Docmost's auth limit."""
        check_fields("/api/auth/login", {"email": self._email, "password": self._password},
                     allowed=LOGIN_FIELDS, required=LOGIN_FIELDS, service=self.transport.service)
        response = self.transport.request(
            "POST", "/api/auth/login", json_body={"email": self._email, "password": self._password},
            retry=NO_RETRY,
        )
        token = response.cookies.get(AUTH_COOKIE)
        # The cookie would ride along on later calls and win over a renewed Bearer token.
        remove_cookie_by_name(self.transport.session.cookies, AUTH_COOKIE)
        if not token:
            raise AuthenticationFailed(
                "Docmost login answered without an authToken cookie (SSO enforced or MFA on the bot account?)",
                service=self.transport.service, method="POST", path="/api/auth/login", status=response.status_code,
            )
        return Session(token, jwt_expiry(token))


def _refusal_for(error: RateLimited | AuthenticationFailed) -> LoginRefusal:
    if isinstance(error, RateLimited):
        wait = error.retry_after if error.retry_after is not None else AUTH_LIMIT_WAIT_SECONDS
        return LoginRefusal(time.time() + wait, 429, f"Docmost refused the bot's login: {error.message}")
    return LoginRefusal(time.time() + LOGIN_REFUSAL_SECONDS, error.status,
                        f"Docmost refused the bot's login: {error.message}")


def forget_cached_tokens() -> None:
    """Drop every cached bot session and login refusal of this process (tests)."""
    _TOKENS.clear()
    PROCESS_LOGINS.clear()
