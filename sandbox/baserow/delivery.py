"""Baserow's webhook delivery, as `DB/webhooks/tasks.py` does it (contracts §2.3).

One call in flight per webhook (a FIFO per webhook), different webhooks in parallel. A failed attempt
(status >= 400 or no answer within the timeout) is retried after `retry_base_delay * 2**n` seconds while
later calls of the same webhook go on, so order is not kept under failure. Every failed attempt counts:
an attempt that fails with `failed_triggers` already at the limit switches the webhook off and drops its
queue; any success resets the counter.
"""

import heapq
import http.client
import itertools
import json
import threading
import time
from urllib.parse import urlsplit

# What python-requests sends by default; Baserow calls webhooks with requests.
REQUESTS_DEFAULT_HEADERS = {
    "User-Agent": "python-requests/2.32.3",
    "Accept-Encoding": "gzip, deflate",
    "Accept": "*/*",
    "Connection": "keep-alive",
}


def send_http(*, method: str, url: str, headers: dict, body: bytes, timeout: float) -> dict:
    """One HTTP call; {"status", "response", "response_headers", "error"} (status None when unreachable)."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        return {
            "status": response.status,
            "response": text[:10000],
            "response_headers": dict(response.getheaders()),
            "error": "",
        }
    except (OSError, http.client.HTTPException) as error:
        return {"status": None, "response": "", "response_headers": {}, "error": f"{type(error).__name__}: {error}"}
    finally:
        connection.close()


class Dispatcher:
    """Delivers queued webhook calls from background threads (one thread per webhook)."""

    def __init__(self, stand_in):
        self.stand_in = stand_in
        self._cond = threading.Condition()
        self._queues: dict[int, list] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._busy: set[int] = set()
        self._seq = itertools.count()
        self._stopping = False

    def enqueue(self, webhook_id: int, call: dict) -> None:
        with self._cond:
            if self._stopping:
                return
            heapq.heappush(self._queues.setdefault(webhook_id, []), (time.monotonic(), next(self._seq), call))
            if webhook_id not in self._threads:
                thread = threading.Thread(
                    target=self._run, args=(webhook_id,), name=f"webhook-{webhook_id}", daemon=True
                )
                self._threads[webhook_id] = thread
                thread.start()
            self._cond.notify_all()

    def clear(self, webhook_id: int | None = None) -> None:
        with self._cond:
            for key in [webhook_id] if webhook_id is not None else list(self._queues):
                self._queues[key] = []
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return sum(len(queue) for queue in self._queues.values()) + len(self._busy)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """True once nothing is queued, waiting for a retry or in flight."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._busy and not any(self._queues.values()),
                timeout=timeout,
            )

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._queues.clear()
            self._cond.notify_all()
        for thread in list(self._threads.values()):
            thread.join(timeout=1)

    def _next_call(self, webhook_id: int) -> dict | None:
        with self._cond:
            while True:
                if self._stopping:
                    return None
                queue = self._queues.get(webhook_id)
                now = time.monotonic()
                if queue and queue[0][0] <= now:
                    self._busy.add(webhook_id)
                    return heapq.heappop(queue)[2]
                self._cond.wait(queue[0][0] - now if queue else None)

    def _run(self, webhook_id: int) -> None:
        while True:
            call = self._next_call(webhook_id)
            if call is None:
                return
            retry_in = None
            try:
                retry_in = self._attempt(webhook_id, call)
            finally:
                with self._cond:
                    self._busy.discard(webhook_id)
                    if retry_in is not None and not self._stopping:
                        heapq.heappush(
                            self._queues.setdefault(webhook_id, []),
                            (time.monotonic() + retry_in, next(self._seq), call),
                        )
                    self._cond.notify_all()

    def _attempt(self, webhook_id: int, call: dict) -> float | None:
        """Send once; the delay before the next attempt, or None when done (delivered, dropped, given up)."""
        stand_in = self.stand_in
        config = stand_in.config
        webhook = stand_in.webhook_snapshot(webhook_id)
        if webhook is None or not webhook["active"]:
            return None
        call["attempt"] = call.get("attempt", 0) + 1
        body = json.dumps(call["payload"]).encode()
        started = time.time()
        result = send_http(
            method=call["method"], url=call["url"], headers=call["headers"], body=body, timeout=config["timeout"]
        )
        ok = result["status"] is not None and result["status"] < 400
        deactivated = stand_in.record_webhook_attempt(webhook_id, call, result, ok=ok, started=started)
        if ok or deactivated:
            if deactivated:
                self.clear(webhook_id)
            return None
        retries_done = call["attempt"] - 1
        if retries_done >= config["max_retries"]:
            return None
        return config["retry_base_delay"] * (2**retries_done)
