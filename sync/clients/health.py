"""Health checks "baserow" and "docmost": not configured until a connection row exists, then a
cheap call with a short timeout, made with the credentials the sync uses (a wrong token or bot
password is a failing check, not a reachable server). Docmost allows 10 logins a minute: its check
reuses the bot session the workers share (`sync.clients.shared_login`), so a probe logs in only when that
session is missing or stale, and a refused login is not tried again before its wait is over."""

import requests

from formation_hub.observability.health import FAILING, NOT_CONFIGURED, OK, CheckResult
from sync import conf
from sync.clients.docmost import DocmostClient
from sync.clients.errors import AuthenticationFailed, NotFound, RateLimited, ServiceError
from sync.clients.http import NO_RETRY
from sync.models import BaserowConnection, DocmostConnection, TableMapping


def check_baserow() -> CheckResult:
    connection = BaserowConnection.objects.first()
    if connection is None:
        return CheckResult(NOT_CONFIGURED, "no Baserow connection in the console")
    mapping = TableMapping.objects.filter(enabled=True).order_by("baserow_table_id").first()
    table_id = mapping.baserow_table_id if mapping else 0
    url = f"{connection.api_url}/api/database/rows/table/{table_id}/?size=1"
    try:
        response = requests.get(
            url, headers={"Authorization": f"Token {connection.token()}"}, timeout=conf.health_timeout_seconds()
        )
    except requests.RequestException as error:
        return CheckResult(FAILING, f"{connection.api_url} unreachable: {type(error).__name__}")
    if mapping is None:
        if response.status_code >= 500:
            return CheckResult(FAILING, f"{connection.api_url} answered {response.status_code}")
        return CheckResult(OK, f"{connection.api_url} reachable (no table mapped, token not checked)")
    if response.status_code == 200:
        return CheckResult(OK, f"{connection.api_url} reachable, token accepted on table {table_id}")
    return CheckResult(FAILING, f"{connection.api_url} answered {response.status_code} for table {table_id}")


def check_docmost() -> CheckResult:
    connection = DocmostConnection.objects.first()
    if connection is None:
        return CheckResult(NOT_CONFIGURED, "no Docmost connection in the console")
    space = connection.space_id or connection.space_slug
    try:
        client = DocmostClient.from_connection(connection, timeout=conf.health_timeout_seconds(), retry=NO_RETRY)
        client.space_info(space)
    except RateLimited as error:
        return CheckResult(FAILING, f"{connection.api_url}: the bot cannot sign in now ({error})")
    except AuthenticationFailed as error:
        return CheckResult(FAILING, f"{connection.api_url}: the bot cannot sign in ({error})")
    except NotFound:
        return CheckResult(FAILING, f"{connection.api_url}: signed in, but the space {space!r} does not exist")
    except ServiceError as error:
        return CheckResult(FAILING, f"{connection.api_url} unreachable or failing: {error}")
    how = "API key" if connection.api_key() else f"bot {connection.bot_email}"
    return CheckResult(OK, f"{connection.api_url}: signed in ({how}), space {connection.space_slug!r} readable")
