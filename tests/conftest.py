"""Fixtures shared by every app's tests: people in roles, a real SMTP server, a local HTTP receiver."""

import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import Group

from tests.factories import UserFactory

pytest_plugins = ["tests.standins"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Django's default hasher spends ~0.5 s per password by design; tests make hundreds of users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _sync_config_read_afresh():
    """Each test starts with empty per-process caches of the sync's configuration rows and templates."""
    from sync.config_cache import config_forget
    from sync.processing.pages import templates_forget

    config_forget()
    templates_forget()
    yield
    config_forget()
    templates_forget()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def make_user(db):
    """make_user("alice", "oncall") -> a staff user in those role groups."""

    def make(username: str, *groups: str, **fields):
        user = UserFactory(username=username, **fields)
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in groups))
        return user

    return make


@dataclass
class _Mailbox:
    messages: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler name
        message = message_from_bytes(envelope.original_content)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": message})
        return "250 OK"


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on loopback; Django's SMTP backend is pointed at it."""
    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    yield mailbox
    controller.stop()


@dataclass
class HttpReceiver:
    """A local HTTP server that records what it receives and answers with `status`."""

    url: str
    requests: list = field(default_factory=list)
    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0

    def json_bodies(self) -> list:
        return [json.loads(request["body"]) for request in self.requests]


@pytest.fixture
def http_receiver():
    port = free_port()
    receiver = HttpReceiver(url=f"http://127.0.0.1:{port}/hook")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.requests.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            )
            if receiver.delay:
                threading.Event().wait(receiver.delay)
            self.send_response(receiver.status)
            self.send_header("Content-Length", str(len(receiver.body)))
            self.end_headers()
            self.wfile.write(receiver.body)

        do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _answer  # noqa: N815

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
