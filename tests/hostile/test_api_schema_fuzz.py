"""Every endpoint of /api/schema/ fuzzed by schemathesis through the WSGI app: never a 5xx, and every
answer (status, content type, headers, body) is one the schema declares."""

import pytest

# Pinned in requirements-dev.txt (schemathesis==4.32.5); skipped, saying so, where it is not installed yet.
schemathesis = pytest.importorskip("schemathesis", reason="schemathesis==4.32.5 not installed (requirements-dev.txt)")

from django.core.signals import request_finished, request_started  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from formation_hub.access import roles  # noqa: E402
from tests.hostile.conftest import SECRET  # noqa: E402

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# Loaded at collection through the app itself (the schema view touches no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


CHECKS_TOKEN = "fuzz-release-checks-token-5b8e2f0c7a1d4e3b"


@pytest.fixture(autouse=True)
def keep_the_test_transaction():
    """The WSGI handler closes a connection found inside a transaction at each request's start and end;
    Django's test client turns that off, and so must a test calling the WSGI app directly (PostgreSQL)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(make_user, monkeypatch):
    """Every credential an endpoint may ask for: an admin's API token, the webhook secret, the CI token."""
    monkeypatch.setenv("RELEASE_CHECKS_TOKEN", CHECKS_TOKEN)
    admin = make_user("fuzz-admin", roles.ADMIN, roles.ONCALL, roles.RELEASE_APPROVER, is_superuser=True)
    token = Token.objects.create(user=admin)
    return {"Authorization": f"Token {token.key}", "X-Formation-Hub-Secret": SECRET}


def _headers(case, credentials: dict) -> dict:
    if case.path == "/api/releases/{id}/checks/":
        return {**credentials, "Authorization": f"Bearer {CHECKS_TOKEN}"}
    return credentials


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@schema.parametrize()
@FUZZ
@pytest.mark.django_db
def test_every_endpoint_answers_within_its_schema_and_never_5xx(case, credentials):
    case.call_and_validate(headers=_headers(case, credentials), checks=CHECKS)
