"""Smoke checks are requests the server makes on someone's word: they must not reach the internal network."""

import pytest
from django.core.exceptions import ValidationError

from releases.models import SmokeCheck
from releases.pipeline.http_checks import run_http_check


@pytest.fixture
def production(monkeypatch):
    monkeypatch.setenv("SMOKE_CHECK_HOSTS", "localhost,127.0.0.1")
    monkeypatch.setenv("SMOKE_CHECK_ALLOW_PRIVATE", "false")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:5432/", "http://localhost:6379/", "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/", "file:///etc/passwd", "http://example.invalid/",
])
def test_internal_or_unlisted_targets_are_refused_before_any_request(production, url):
    outcome = run_http_check(url=url, expected_status=200)
    assert not outcome.ok and outcome.status_code is None and outcome.detail.startswith("Refused before any request")


def test_the_local_receiver_is_refused_in_production_mode(production, http_receiver):
    outcome = run_http_check(url=http_receiver.url, expected_status=200)
    assert "non-public address" in outcome.detail


def test_a_connection_error_does_not_tell_which_port_answered(http_receiver):
    closed = http_receiver.url.rsplit(":", 1)[0] + ":9/"
    outcome = run_http_check(url=closed, expected_status=200)
    assert outcome.detail == "No answer (ConnectionError)."


def test_the_console_refuses_a_smoke_check_url_outside_the_production_hosts(db, production):
    check = SmokeCheck(name="metadata", url="http://169.254.169.254/", expected_status=200)
    with pytest.raises(ValidationError, match="SMOKE_CHECK_HOSTS"):
        check.full_clean()
