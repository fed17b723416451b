"""The sync's configuration rows (table mappings, the two connections) kept per process.

Every webhook and every item read the same few rows; reading them once per process and per
`SYNC_CONFIG_CACHE_SECONDS` saves a query each time. A save or delete of one of these rows
empties the cache of the process that made it at once (signals, wired in `SyncConfig.ready`);
the other processes see the change within `SYNC_CONFIG_CACHE_SECONDS`.
"""

import threading
import time

from sync import conf
from sync.models import BaserowConnection, DocmostConnection, TableMapping

_lock = threading.Lock()
_values: dict[str, object] = {}
_loaded_at: float | None = None


def config_forget(**_signal_kwargs) -> None:
    """Empty the cache (a configuration row was saved or deleted, a test begins)."""
    global _loaded_at
    with _lock:
        _values.clear()
        _loaded_at = None


def _cached(key: str, load):
    global _loaded_at
    now = time.monotonic()
    with _lock:
        if _loaded_at is None or now - _loaded_at > conf.config_cache_seconds():
            _values.clear()
            _loaded_at = now
        if key in _values:
            return _values[key]
    value = load()
    with _lock:
        _values.setdefault(key, value)
    return value


def mapping_for_table(table_id: int | None) -> TableMapping | None:
    """The mapping of a Baserow table (None when the table is not mapped)."""
    if table_id is None:
        return None
    mappings = _cached("mappings", lambda: {m.baserow_table_id: m for m in TableMapping.objects.all()})
    return mappings.get(table_id)


def baserow_connection_cached() -> BaserowConnection | None:
    return _cached("baserow", lambda: BaserowConnection.objects.first())


def docmost_connection_cached() -> DocmostConnection | None:
    return _cached("docmost", lambda: DocmostConnection.objects.first())


CACHED_MODELS = (TableMapping, BaserowConnection, DocmostConnection)
