"""What both stand-ins share: an in-process HTTP server, routing, fault injection, a call log and the CLI loop.

A stand-in is a `StandIn` subclass with a list of routes. Paths under `/_sandbox/` are the control API
(never faulted, never logged); every other request is logged, then goes through the fault list, then
to the product route.
"""

import json
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CONTROL_PREFIX = "/_sandbox/"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client: str
    raw_path: str
    params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def has_arg(self, name: str) -> bool:
        return name in self.query

    def json(self) -> Any:
        """The body parsed as JSON; an empty body is None. Raises ValueError on invalid JSON."""
        if not self.body.strip():
            return None
        return json.loads(self.body)


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    raw: bytes | None = None

    def encoded(self) -> bytes:
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body).encode()


class Router:
    """Routes `(method, pattern)` to handlers; patterns use `{name}` for one path segment."""

    def __init__(self):
        self._routes: list[tuple[str, re.Pattern, Any]] = []

    def add(self, method: str, pattern: str, handler) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self._routes.append((method, re.compile(regex), handler))

    def routes(self) -> list[tuple[str, re.Pattern, Any]]:
        return list(self._routes)

    def match(self, method: str, path: str):
        """(handler, params) for the route, (None, allowed_methods) when only the method differs."""
        allowed = []
        for route_method, regex, handler in self._routes:
            found = regex.match(path)
            if not found:
                continue
            if route_method == method:
                return handler, found.groupdict()
            allowed.append(route_method)
        return None, allowed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_bool(value: Any, default: bool = False) -> bool:
    """Baserow's query flag parsing: y, yes, true, t, on, 1 and an empty value are true."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"", "y", "yes", "true", "t", "on", "1"}


class StandIn:
    """Base class: `start()` binds 127.0.0.1 on the given (or a free) port and serves from a thread."""

    product = "stand-in"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port or free_port()
        self.lock = threading.RLock()
        self.faults: list[dict] = []
        self.calls: list[dict] = []
        self._fault_seq = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.router = Router()
        self.control = Router()
        self.control.add("GET", "/_sandbox", self._control_help)
        self.control.add("GET", "/_sandbox/faults", self._control_list_faults)
        self.control.add("POST", "/_sandbox/faults", self._control_add_fault)
        self.control.add("DELETE", "/_sandbox/faults", self._control_clear_faults)
        self.control.add("GET", "/_sandbox/calls", self._control_list_calls)
        self.control.add("DELETE", "/_sandbox/calls", self._control_clear_calls)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "StandIn":
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # http.server sends headers and body in two writes: without TCP_NODELAY every call after the
            # first on a keep-alive connection stalls ~40 ms (Nagle + delayed ACK, CPython gh-108736).
            disable_nagle_algorithm = True

            def _serve(self):
                stand_in._serve(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = _serve  # noqa: N815

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{self.product}-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # Fault injection -------------------------------------------------------------------------------

    def add_fault(
        self,
        *,
        status: int | None = None,
        delay: float = 0.0,
        count: int | None = 1,
        path_prefix: str = "/",
        method: str | None = None,
        body: Any = None,
        close: bool = False,
    ) -> dict:
        """The next `count` matching requests (None: until cleared) wait `delay` s, then answer `status`
        with `body` (the product's error shape by default), or drop the connection when `close`."""
        with self.lock:
            self._fault_seq += 1
            fault = {
                "id": self._fault_seq,
                "status": status,
                "delay": float(delay or 0),
                "count": count,
                "path_prefix": path_prefix or "/",
                "method": method.upper() if method else None,
                "body": body,
                "close": bool(close),
                "hits": 0,
            }
            self.faults.append(fault)
            return dict(fault)

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _take_fault(self, method: str, path: str) -> dict | None:
        with self.lock:
            for fault in self.faults:
                if not path.startswith(fault["path_prefix"]):
                    continue
                if fault["method"] and fault["method"] != method:
                    continue
                fault["hits"] += 1
                if fault["count"] is not None:
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                return dict(fault)
        return None

    def fault_body(self, status: int) -> Any:
        """The product's error body for an injected status (subclasses override)."""
        return {"error": "injected fault", "status": status}

    def fault_headers(self, status: int) -> list[tuple[str, str]]:
        return [("Retry-After", "1")] if status == 429 else []

    # Control API shared by both stand-ins ----------------------------------------------------------

    def _control_help(self, request: Request) -> Response:
        """Every control route with the first line of its handler's docstring."""
        routes = [
            {
                "method": method,
                "path": regex.pattern.strip("^$").replace("(?P<", "{").replace(">[^/]+)", "}"),
                "help": (handler.__doc__ or "").strip().split("\n")[0],
            }
            for method, regex, handler in self.control.routes()
        ]
        return Response(200, {"product": self.product, "routes": routes})

    def _control_list_faults(self, request: Request) -> Response:
        """Active faults."""
        with self.lock:
            return Response(200, {"faults": [dict(fault) for fault in self.faults]})

    def _control_add_fault(self, request: Request) -> Response:
        """Add a fault: {status?, delay?, count? (1; null: until cleared), path_prefix?, method?, body?, close?}."""
        data = request.json() or {}
        allowed = {"status", "delay", "count", "path_prefix", "method", "body", "close"}
        unknown = set(data) - allowed
        if unknown:
            return Response(400, {"error": f"unknown fault keys: {sorted(unknown)}; allowed: {sorted(allowed)}"})
        if data.get("status") is None and not data.get("delay") and not data.get("close"):
            return Response(400, {"error": "a fault needs at least one of status, delay or close"})
        return Response(201, self.add_fault(**data))

    def _control_clear_faults(self, request: Request) -> Response:
        """Remove every fault."""
        self.clear_faults()
        return Response(204)

    def _control_list_calls(self, request: Request) -> Response:
        """Product API calls received (?path_prefix=): method, path, query, headers, body, status, fault."""
        prefix = request.arg("path_prefix", "")
        with self.lock:
            calls = [call for call in self.calls if call["path"].startswith(prefix)]
        return Response(200, {"calls": calls})

    def _control_clear_calls(self, request: Request) -> Response:
        """Forget the call log."""
        with self.lock:
            self.calls.clear()
        return Response(204)

    # Request handling ------------------------------------------------------------------------------

    def route_not_found(self, request: Request, allowed: list[str]) -> Response:
        return Response(404, {"error": "not found"})

    def bad_json(self, request: Request, error: ValueError) -> Response:
        return Response(400, {"error": f"invalid JSON: {error}"})

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            handler, params = self.control.match(request.method, request.path.rstrip("/") or "/")
            if handler is not None and not isinstance(request.json(), dict | None):
                return Response(400, {"error": "the control API takes a JSON object"})
            if handler is None:
                return Response(
                    404 if not params else 405, {"error": f"no control route {request.method} {request.path}"}
                )
        else:
            handler, params = self.router.match(request.method, request.path)
            if handler is None:
                return self.route_not_found(request, params)
        request.params = params
        try:
            return handler(request)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            return self.bad_json(request, error)

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        split = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length) if length else b""
        request = Request(
            method=http.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in http.headers.items()},
            body=body,
            client=http.client_address[0],
            raw_path=http.path,
        )
        control = request.path.startswith(CONTROL_PREFIX)
        fault = None if control else self._take_fault(request.method, request.path)
        if fault and fault["delay"]:
            time.sleep(fault["delay"])
        if fault and fault["close"]:
            http.close_connection = True
            http.connection.shutdown(socket.SHUT_RDWR)
            self._log_call(request, None, fault)
            return
        if fault and fault["status"] is not None:
            status = int(fault["status"])
            response = Response(
                status,
                fault["body"] if fault["body"] is not None else self.fault_body(status),
                self.fault_headers(status),
            )
        else:
            try:
                response = self.dispatch(request)
            except Exception as error:  # a stand-in bug must answer like a server error, not hang the client
                response = Response(500, {"error": f"stand-in error: {type(error).__name__}: {error}"})
        if not control:
            self._log_call(request, response, fault)
        payload = response.encoded()
        http.send_response(response.status)
        has_type = any(name.lower() == "content-type" for name, _ in response.headers)
        if payload and not has_type:
            http.send_header("Content-Type", "application/json")
        for name, value in response.headers:
            http.send_header(name, value)
        http.send_header("Content-Length", str(len(payload)))
        http.end_headers()
        if request.method != "HEAD":
            http.wfile.write(payload)

    def _log_call(self, request: Request, response: Response | None, fault: dict | None) -> None:
        try:
            body = request.json()
        except ValueError:
            body = request.body.decode(errors="replace")
        entry = {
            "time": time.time(),
            "method": request.method,
            "path": request.path,
            "query": {name: values[-1] for name, values in request.query.items()},
            "headers": {name: value for name, value in request.headers.items() if name != "content-length"},
            "body": body,
            "status": response.status if response else None,
            "fault": fault["id"] if fault else None,
        }
        with self.lock:
            self.calls.append(entry)


def serve_forever(stand_in: StandIn, banner: str, details: tuple[str, ...] = ()) -> None:
    """CLI loop: start, print one line with the URL (then `details`), stop cleanly on SIGINT or SIGTERM."""
    stopping = threading.Event()

    def on_signal(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stand_in.start()
    print(f"{banner} listening on {stand_in.url}/", flush=True)
    for line in details:
        print(line, flush=True)
    while not stopping.wait(0.5):
        pass
    stand_in.stop()
    print(f"{banner} stopped", file=sys.stderr, flush=True)
