"""Health checks "baserow" and "docmost": not configured until a connection row exists, then a
cheap call with a short timeout (never a login: Docmost allows 10 logins a minute)."""

import requests

from formation_hub.health import FAILING, NOT_CONFIGURED, OK, CheckResult
from sync import conf
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
    try:
        # Unauthenticated on purpose: a 401 in NestJS's shape proves the API answers.
        response = requests.post(
            f"{connection.api_url}/api/spaces/info", json={}, timeout=conf.health_timeout_seconds()
        )
    except requests.RequestException as error:
        return CheckResult(FAILING, f"{connection.api_url} unreachable: {type(error).__name__}")
    if response.status_code >= 500:
        return CheckResult(FAILING, f"{connection.api_url} answered {response.status_code}")
    return CheckResult(OK, f"{connection.api_url} reachable (answered {response.status_code})")
