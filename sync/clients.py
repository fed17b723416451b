"""The two clients as the rules use them: built from the connection rows of the console, with the
quick-retry policy of sync.conf, and the Docmost target spaces resolved once and kept."""

from sync import conf
from sync.baserow_client import BaserowClient
from sync.docmost_client import DocmostClient
from sync.http import RetryPolicy
from sync.models import BaserowConnection, DocmostConnection
from sync.routing import PermanentFailure


def retry_policy() -> RetryPolicy:
    return RetryPolicy(max_retries=conf.quick_retries(), base=conf.retry_base_seconds(), cap=4.0)


def baserow_connection() -> BaserowConnection:
    connection = BaserowConnection.objects.first()
    if connection is None:
        raise PermanentFailure("No Baserow connection: add one in the console (Sync > Baserow connections).")
    return connection


def docmost_connection() -> DocmostConnection:
    connection = DocmostConnection.objects.first()
    if connection is None:
        raise PermanentFailure("No Docmost connection: add one in the console (Sync > Docmost connections).")
    return connection


def baserow_client(connection: BaserowConnection | None = None) -> BaserowClient:
    return BaserowClient.from_connection(connection or baserow_connection(), retry=retry_policy())


def docmost_client(connection: DocmostConnection | None = None) -> DocmostClient:
    return DocmostClient.from_connection(connection or docmost_connection(), retry=retry_policy())


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
