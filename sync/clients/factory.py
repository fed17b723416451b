"""The two clients as the rules use them: built from the connection rows of the console, with the
quick-retry policy of sync.conf, and the Docmost target spaces resolved once and kept.

The connection rows come from the per-process configuration cache, and a client is built once per
thread and connection row (kept while the cache keeps that row), so one worker reuses its keep-alive
connections from item to item instead of opening new ones for each.
"""

import threading

from sync import conf
from sync.clients.baserow import BaserowClient
from sync.clients.docmost import DocmostClient
from sync.clients.errors import PermanentFailure
from sync.clients.http import RetryPolicy
from sync.config_cache import baserow_connection_cached, docmost_connection_cached
from sync.models import BaserowConnection, DocmostConnection


def retry_policy() -> RetryPolicy:
    return RetryPolicy(max_retries=conf.quick_retries(), base=conf.retry_base_seconds(), cap=4.0)


_clients = threading.local()


def baserow_connection() -> BaserowConnection:
    connection = baserow_connection_cached()
    if connection is None:
        raise PermanentFailure("No Baserow connection: add one in the console (Sync > Baserow connections).")
    return connection


def docmost_connection() -> DocmostConnection:
    connection = docmost_connection_cached()
    if connection is None:
        raise PermanentFailure("No Docmost connection: add one in the console (Sync > Docmost connections).")
    return connection


def _client_for(name: str, connection, build):
    """The thread's client for this connection row instance (a new row instance: a new client)."""
    kept = getattr(_clients, name, None)
    if kept is not None and kept[0] is connection:
        return kept[1]
    client = build(connection)
    setattr(_clients, name, (connection, client))
    return client


def baserow_client(connection: BaserowConnection | None = None) -> BaserowClient:
    if connection is not None:
        return BaserowClient.from_connection(connection, retry=retry_policy())
    return _client_for("baserow", baserow_connection(),
                       lambda row: BaserowClient.from_connection(row, retry=retry_policy()))


def docmost_client(connection: DocmostConnection | None = None) -> DocmostClient:
    if connection is not None:
        return DocmostClient.from_connection(connection, retry=retry_policy())
    return _client_for("docmost", docmost_connection(),
                       lambda row: DocmostClient.from_connection(row, retry=retry_policy()))


def target_space_id(client: DocmostClient, connection: DocmostConnection) -> str:
    """The UUID of the configured space (looked up by slug once, then kept on the connection)."""
    if not connection.space_id:
        connection.space_id = client.space_by_slug(connection.space_slug)["id"]
        DocmostConnection.objects.filter(pk=connection.pk).update(space_id=connection.space_id)
    return connection.space_id


def formation_space_id(client: DocmostClient, connection: DocmostConnection) -> str:
    if not connection.formation_space_slug or connection.formation_space_slug == connection.space_slug:
        return target_space_id(client, connection)
    return client.space_by_slug(connection.formation_space_slug)["id"]
