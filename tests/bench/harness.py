"""What `make bench` and `make chaos` share: a throwaway production-shaped stack on loopback.

PostgreSQL databases cloned from a migrated template, Redis on one database number (flushed, nothing
else), gunicorn with sync workers, django-q2 clusters on the Redis broker and the Baserow/Docmost
stand-ins, each in its own process group on a free port; a load generator (asyncio, raw HTTP/1.1,
one connection per request like Baserow's `requests` calls); peak memory read from /proc.
Everything it starts it stops, and every database it creates it drops.
"""

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
PG_DSN = os.environ.get("BENCH_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
SECRET_HEADER = "X-Formation-Hub-Secret"
WEBHOOK_SECRET = "bench-" + secrets.token_hex(24)
BASEROW_TOKEN = "demo-baserow-token"
PROJET_TABLE, CLIENT_TABLE = 601, 607
# The Baserow webhooks of the README's deployment (Console -> Sync -> Table mappings, "webhook events to
# subscribe"): each demo table with a rule subscribed to the events its rules handle, no webhook on the
# others (client, personne...). The stand-in's demo seeds one webhook with every row event on every table.
DOCUMENTED_WEBHOOK_EVENTS = {
    601: ["rows.created", "rows.deleted", "rows.updated"],  # projet
    602: ["rows.created", "rows.deleted", "rows.updated"],  # formation
    604: ["rows.created"],  # intervention
    605: ["rows.created"],  # attribution
}
OWNER_KEY = "formation-hub-bench:owner"
# Sync workers for 2 cores: 2 per core, so a worker waiting on a PostgreSQL commit or on Redis does not
# leave a core idle; more only adds context switches and memory on a machine where PostgreSQL, Redis and
# the load generator share the same two cores (BENCH_WEB_WORKERS overrides it).
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "4"))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_json(method: str, url: str, body=None, headers: dict | None = None, timeout: float = 30.0):
    """(status, decoded body) of one call; (0, error text) when the server cannot be reached."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    except (OSError, urllib.error.URLError) as error:
        return 0, str(error)
    try:
        return status, json.loads(raw) if raw.strip() else None
    except ValueError:
        return status, raw.decode(errors="replace")


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# ---------------------------------------------------------------- load generator


@dataclass
class Result:
    status: int
    seconds: float
    body: bytes = b""


@dataclass
class LoadRun:
    results: list[Result]
    wall: float

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        return dict(sorted(counts.items()))

    def accepted(self, ok=(200, 201, 202)) -> list[Result]:
        return [result for result in self.results if result.status in ok]

    def rate(self, ok=(200, 201, 202)) -> float:
        return len(self.accepted(ok)) / self.wall if self.wall else 0.0

    def latency_ms(self, pct: float) -> float:
        return percentile([result.seconds for result in self.results], pct) * 1000


async def _one_request(host: str, port: int, raw: bytes, timeout: float) -> Result:
    started = time.perf_counter()
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        writer.write(raw)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(-1), timeout)
    except (TimeoutError, OSError):
        return Result(0, time.perf_counter() - started)
    finally:
        if writer is not None:
            writer.close()
    elapsed = time.perf_counter() - started
    head, _, body = response.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return Result(int(match.group(1)) if match else 0, elapsed, body)


def build_request(method: str, host: str, port: int, path: str, body: bytes, headers: dict) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def post_many(
    url_host: str, port: int, path: str, bodies: list[bytes], headers: dict, *, concurrency: int,
    rate: float | None = None, timeout: float = 30.0, deadline: float = 300.0,
) -> LoadRun:
    """POST every body with at most `concurrency` in flight (and at most `rate` starts a second when
    given); stops starting new requests after `deadline` seconds."""
    requests_raw = [build_request("POST", url_host, port, path, body, headers) for body in bodies]

    async def run() -> LoadRun:
        results: list[Result | None] = [None] * len(requests_raw)
        next_index = 0
        started = time.perf_counter()

        async def worker():
            nonlocal next_index
            while next_index < len(requests_raw):
                index = next_index
                next_index += 1
                if rate:
                    wait = started + index / rate - time.perf_counter()
                    if wait > 0:
                        await asyncio.sleep(wait)
                if time.perf_counter() - started > deadline:
                    return
                results[index] = await _one_request(url_host, port, requests_raw[index], timeout)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return LoadRun([r for r in results if r is not None], time.perf_counter() - started)

    return asyncio.run(run())


# ---------------------------------------------------------------- processes


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the process group it leads, SIGKILL after `timeout`."""
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)
        # Children left in the group (a cluster's workers) go with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def process_tree(pid: int) -> list[int]:
    """The pid and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def _status_kib(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler:
    """Samples the RSS of process groups every 0.25 s: peak of the group's sum and of one process."""

    def __init__(self):
        self.groups: dict[str, Proc] = {}
        self.peak_total: dict[str, int] = {}
        self.peak_process: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, label: str, proc: Proc) -> None:
        self.groups[label] = proc

    def start(self) -> "MemorySampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            for label, proc in list(self.groups.items()):
                if not proc.alive():
                    continue
                pids = process_tree(proc.pid)
                total = sum(_status_kib(pid, "VmRSS") for pid in pids)
                biggest = max((_status_kib(pid, "VmHWM") for pid in pids), default=0)
                self.peak_total[label] = max(self.peak_total.get(label, 0), total)
                self.peak_process[label] = max(self.peak_process.get(label, 0), biggest)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int | None:
    """User + system CPU of one process so far, in clock ticks (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


class CpuMeter:
    """CPU time of process groups between `start` and `stop`, sampled every 0.25 s so that a process
    that ends in between still counts (up to its last sample). Each group is a callable giving its pids."""

    def __init__(self, groups: dict):
        self.groups = groups
        self._first: dict[tuple[str, int], int] = {}
        self._last: dict[tuple[str, int], int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, initial: bool = False) -> None:
        for label, pids in self.groups.items():
            try:
                current = pids()
            except Exception:  # noqa: BLE001 - a group that cannot be listed right now is sampled next time
                continue
            for pid in current:
                ticks = cpu_ticks(pid)
                if ticks is None:
                    continue
                self._first.setdefault((label, pid), ticks if initial else 0)
                self._last[(label, pid)] = ticks

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self._sample()

    def start(self) -> "CpuMeter":
        self._sample(initial=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        """{group: CPU milliseconds used since start}."""
        self._sample()
        self._stop.set()
        self._thread.join(2)
        used: dict[str, float] = dict.fromkeys(self.groups, 0.0)
        for (label, pid), last in self._last.items():
            used[label] += (last - self._first.get((label, pid), 0)) * 1000 / CLOCK_TICKS
        return used


@dataclass
class Stack:
    """One run's services. `label` names its databases; `redis_db` is the only Redis database it flushes."""

    label: str
    redis_db: int
    web_workers: int = WEB_WORKERS
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fh-bench-")))
    web_port: int = field(default_factory=free_port)
    baserow_port: int = field(default_factory=free_port)
    docmost_port: int = field(default_factory=free_port)
    databases: list[str] = field(default_factory=list)
    procs: dict[str, Proc] = field(default_factory=dict)
    db_url: str = ""
    settings_module: str = "tests.bench.bench_settings"
    extra_env: dict = field(default_factory=dict)
    memory: MemorySampler = field(default_factory=MemorySampler)

    # ------------------------------------------------------------ environment
    @property
    def template(self) -> str:
        return f"fh_bench_{self.label}_tpl_{os.getpid()}"

    @property
    def sql_dir(self) -> Path:
        path = self.tmp / "sql"
        path.mkdir(exist_ok=True)
        return path

    def sql_totals(self) -> dict[str, dict[str, int]]:
        """Statements and commits so far per role (web, workers), from the processes' counter files."""
        time.sleep(0.7)  # the counters are written twice a second
        from tests.bench.sqlcount import totals

        return totals(str(self.sql_dir))

    def cpu_groups(self, workers: str) -> dict:
        """The process groups whose CPU the end-to-end runs report, each a callable listing its pids."""
        cluster = self.procs[workers]

        def logged_pids(pattern: str) -> set[int]:
            return {int(pid) for pid in re.findall(pattern, cluster.log_text())}

        def cluster_rest() -> list[int]:
            named = logged_pids(r"ready for work at (\d+)") | logged_pids(r"monitoring at (\d+)")
            return [pid for pid in process_tree(cluster.pid) if pid not in named]

        return {
            "web (gunicorn)": lambda: process_tree(self.procs["web"].pid),
            "task workers": lambda: sorted(logged_pids(r"ready for work at (\d+)")),
            "django-q2 monitor": lambda: sorted(logged_pids(r"monitoring at (\d+)")),
            "django-q2 sentinel, pusher": cluster_rest,
            "PostgreSQL backends": self.database_backends(),
            "Baserow stand-in": lambda: process_tree(self.procs["baserow"].pid),
            "Docmost stand-in": lambda: process_tree(self.procs["docmost"].pid),
            "load generator (this script)": lambda: [os.getpid()],
        }

    def database_backends(self):
        """A callable listing the PostgreSQL backends connected to this run's database (not the one asking,
        which stays open so that sampling does not start a backend each time)."""
        database = self.db_url.rsplit("/", 1)[1]
        dsn = f"{PG_DSN.replace('dbname=postgres', '')} dbname={database}"
        holder: dict = {}

        def pids() -> list[int]:
            if holder.get("connection") is None or holder["connection"].closed:
                holder["connection"] = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
            return [row[0] for row in holder["connection"].execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()]

        return pids

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def baserow_url(self) -> str:
        return f"http://127.0.0.1:{self.baserow_port}"

    @property
    def docmost_url(self) -> str:
        return f"http://127.0.0.1:{self.docmost_port}"

    def env(self, **overrides) -> dict:
        env = {
            key: value for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "Q_", "SYNC_", "BASEROW_", "DOCMOST_"))
        }
        env.update({
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("BENCH_EXTRA_PYTHONPATH")])),
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-" + "k" * 60,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": self.db_url,
            # Longer than any run, so each process keeps its PostgreSQL backend (whose CPU is measured).
            "DATABASE_CONN_MAX_AGE": "600",
            "BENCH_SQL_DIR": str(self.sql_dir),
            "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}",
            "LOG_LEVEL": "WARNING",
            "BASEROW_WEBHOOK_SECRETS": WEBHOOK_SECRET,
            "SYNC_WEBHOOK_SECRET_HEADER": SECRET_HEADER,
            "BASEROW_DATABASE_TOKEN": BASEROW_TOKEN,
            "BASEROW_ADMIN_PASSWORD": "demo-baserow-admin",
            "DOCMOST_BOT_PASSWORD": "demo-docmost-password",
            "SYNC_STANDIN_BASEROW_PORT": str(self.baserow_port),
            "SYNC_STANDIN_DOCMOST_PORT": str(self.docmost_port),
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        })
        env.update(self.extra_env)
        env.update(overrides)
        return env

    def manage(self, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    # ------------------------------------------------------------ databases and Redis
    def prepare_template(self) -> None:
        """Migrate once into a template database, configure the sync for the stand-ins, add the floor table."""
        self._create_database(self.template)
        self.db_url = f"{PG_URL}/{self.template}"
        log(f"migrating template database {self.template}")
        self.manage("migrate", "--noinput")
        self.manage("shell", "-c", "from sync.demo import load_demo_sync; print(load_demo_sync())")
        with psycopg.connect(f"{PG_DSN.replace('dbname=postgres', '')} dbname={self.template}", autocommit=True) as c:
            c.execute(
                "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, received_at timestamptz NOT NULL, body text)"
            )

    def fresh_database(self, name: str) -> str:
        """A new database cloned from the template; becomes the stack's DATABASE_URL."""
        database = f"fh_bench_{self.label}_{name}_{os.getpid()}"
        self._create_database(database, template=self.template)
        self.db_url = f"{PG_URL}/{database}"
        return self.db_url

    def _create_database(self, name: str, template: str | None = None) -> None:
        with psycopg.connect(PG_DSN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            suffix = f' TEMPLATE "{template}"' if template else ""
            connection.execute(f'CREATE DATABASE "{name}"{suffix}')
        self.databases.append(name)

    def drop_databases(self) -> None:
        for name in reversed(self.databases):
            try:
                with psycopg.connect(PG_DSN, autocommit=True, connect_timeout=5) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except psycopg.Error as error:
                log(f"could not drop database {name}: {error}")
        self.databases.clear()

    def claim_redis_db(self) -> int:
        """An empty Redis database from `redis_db` up to 15, marked as this run's (two runs sharing one would
        take each other's tasks); only that one is ever flushed."""
        for number in range(self.redis_db, 16):
            client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number)
            if client.dbsize() == 0 and client.set(OWNER_KEY, f"{self.label}:{os.getpid()}", nx=True):
                self.redis_db = number
                return number
        raise RuntimeError(f"no empty Redis database between {self.redis_db} and 15: another benchmark running?")

    def flush_redis(self) -> None:
        """Empty this run's Redis database, keeping the mark that it is this run's."""
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=self.redis_db)
        if client.get(OWNER_KEY) != f"{self.label}:{os.getpid()}".encode():
            raise RuntimeError(f"Redis database {self.redis_db} is not this run's: not flushing it")
        client.flushdb()
        client.set(OWNER_KEY, f"{self.label}:{os.getpid()}")

    def sql(self, query: str, params=()) -> list[tuple]:
        database = self.db_url.rsplit("/", 1)[1]
        with psycopg.connect(f"{PG_DSN.replace('dbname=postgres', '')} dbname={database}", connect_timeout=10) as c:
            return c.execute(query, params).fetchall()

    # ------------------------------------------------------------ processes
    def _spawn(self, name: str, argv: list[str], env: dict | None = None) -> Proc:
        log_path = self.tmp / f"{name}.log"
        handle = open(log_path, "ab")  # noqa: SIM115 - the child keeps it
        popen = subprocess.Popen(
            argv, cwd=ROOT, env=env or self.env(), stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        proc = Proc(name, popen, log_path)
        self.procs[name] = proc
        return proc

    def _wait_http(self, url: str, proc: Proc, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited:\n{proc.log_text()[-3000:]}")
            status, _ = http_json("GET", url, timeout=2)
            if status:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{proc.name} did not answer {url} within {timeout} s:\n{proc.log_text()[-3000:]}")

    def start_baserow(self) -> Proc:
        proc = self._spawn("baserow", [
            PYTHON, "-m", "sandbox.baserow", "--port", str(self.baserow_port), "--demo",
            "--webhook-url", f"{self.web_url}/api/webhooks/baserow/",
            "--webhook-header", f"{SECRET_HEADER}={WEBHOOK_SECRET}",
        ])
        self._wait_http(f"{self.baserow_url}/_sandbox/state", proc)
        self.subscribe_as_documented()
        return proc

    def start_docmost(self, *, keep_state: bool = False) -> Proc:
        """In memory, or with a state file that survives a stop and restart (chaos)."""
        state = ["--state", str(self.tmp / "docmost-state.json")] if keep_state else []
        proc = self._spawn("docmost", [
            PYTHON, "-m", "sandbox.docmost", "--port", str(self.docmost_port), "--demo", *state,
        ])
        self._wait_http(f"{self.docmost_url}/_sandbox/state", proc)
        return proc

    def start_web(self) -> Proc:
        proc = self._spawn("web", [
            PYTHON, "-m", "gunicorn", os.environ.get("BENCH_WSGI_APP", "formation_hub.wsgi:application"),
            "--bind", f"127.0.0.1:{self.web_port}", "--workers", str(self.web_workers),
            "--worker-class", "sync", "--backlog", "2048", "--timeout", "30", "--graceful-timeout", "5",
            "--log-level", "warning",
        ])
        self._wait_http(f"{self.web_url}/healthz", proc)
        self.memory.watch("web", proc)
        return proc

    def start_workers(self, count: int, name: str = "workers") -> Proc:
        # INFO: django-q2 logs each worker's pid ("ready for work at"), which chaos needs to kill one.
        proc = self._spawn(name, [PYTHON, "manage.py", "qcluster"], self.env(Q_WORKERS=str(count), LOG_LEVEL="INFO"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not proc.alive():
                raise RuntimeError(f"qcluster exited:\n{proc.log_text()[-3000:]}")
            if len(self.worker_pids(proc)) >= count:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"qcluster did not start {count} workers:\n{proc.log_text()[-3000:]}")
        self.memory.watch(name, proc)
        return proc

    def worker_pids(self, proc: Proc) -> list[int]:
        """Live worker processes of a cluster, from its 'ready for work at <pid>' log lines."""
        pids = [int(pid) for pid in re.findall(r"ready for work at (\d+)", proc.log_text())]
        return [pid for pid in dict.fromkeys(pids) if os.path.exists(f"/proc/{pid}") and _status_kib(pid, "VmRSS")]

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None:
            proc.stop()
            self.memory.groups.pop(name, None)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def close(self) -> None:
        """Stops everything started, drops every database created, empties the Redis database; each step
        runs even when an earlier one failed."""
        self.memory.stop()
        for name in list(self.procs):
            try:
                self.stop(name)
            except Exception as error:  # noqa: BLE001 - keep stopping the others
                log(f"could not stop {name}: {error}")
        self.drop_databases()
        with contextlib.suppress(redis.RedisError, RuntimeError):
            self.flush_redis()
            redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=self.redis_db).delete(OWNER_KEY)

    # ------------------------------------------------------------ stand-ins
    def baserow(self, method: str, path: str, body=None):
        return http_json(method, f"{self.baserow_url}{path}", body, {"Authorization": f"Token {BASEROW_TOKEN}"})

    def control(self, service: str, method: str, path: str, body=None):
        base = self.baserow_url if service == "baserow" else self.docmost_url
        status, data = http_json(method, f"{base}/_sandbox/{path.lstrip('/')}", body)
        if not 200 <= status < 300:
            raise RuntimeError(f"{service} {method} /_sandbox/{path} answered {status}: {data}")
        return data

    def reset_standins(self) -> None:
        self.control("baserow", "POST", "reset", {
            "demo": True, "webhook_url": f"{self.web_url}/api/webhooks/baserow/",
            "webhook_headers": {SECRET_HEADER: WEBHOOK_SECRET},
        })
        self.control("docmost", "POST", "reset", {"demo": True})
        self.subscribe_as_documented()

    def subscribe_as_documented(self) -> None:
        for webhook in self.control("baserow", "GET", "webhooks")["webhooks"]:
            events = DOCUMENTED_WEBHOOK_EVENTS.get(webhook["table_id"])
            if events is None:
                self.control("baserow", "DELETE", f"webhooks/{webhook['id']}")
            else:
                self.control("baserow", "PATCH", f"webhooks/{webhook['id']}",
                             {"include_all_events": False, "events": events})

    def projet_webhook(self) -> dict:
        return next(w for w in self.control("baserow", "GET", "webhooks")["webhooks"] if w["table_id"] == PROJET_TABLE)

    def projet_rows(self) -> list[dict]:
        return self.control("baserow", "GET", f"tables/{PROJET_TABLE}/rows")["rows"]

    def docmost_pages(self) -> list[dict]:
        return self.control("docmost", "GET", "pages")["pages"]


def unique_names(prefix: str, count: int) -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"{prefix}-{run}-{index:05d}" for index in range(count)]


def page_field(row: dict) -> str:
    """The page id the bridge wrote back into a projet row (user field names or field ids)."""
    for key in ("docmost_page_id", "field_6013"):
        value = row.get(key)
        if value:
            return str(value)
    return ""


@dataclass
class SyncCheck:
    """What the stand-ins hold for a set of projet names: rows with their page id, pages per name."""

    expected: int
    rows_linked: int
    pages_per_name: dict[str, int]
    bad_links: int

    @property
    def missing_pages(self) -> list[str]:
        return [name for name, count in self.pages_per_name.items() if count == 0]

    @property
    def duplicated_pages(self) -> list[str]:
        return [name for name, count in self.pages_per_name.items() if count > 1]

    @property
    def complete(self) -> bool:
        return (
            self.rows_linked == self.expected and not self.missing_pages and not self.duplicated_pages
            and not self.bad_links
        )

    def lost(self) -> str:
        parts = []
        if self.missing_pages:
            parts.append(f"{len(self.missing_pages)} row(s) with no page (e.g. {self.missing_pages[:3]})")
        if self.duplicated_pages:
            duplicated = self.duplicated_pages
            parts.append(f"{len(duplicated)} row(s) with more than one page (e.g. {duplicated[:3]})")
        if self.rows_linked != self.expected:
            parts.append(f"{self.expected - self.rows_linked} row(s) without their page id")
        if self.bad_links:
            parts.append(f"{self.bad_links} row(s) pointing at a page that is not theirs")
        return "; ".join(parts) or "nothing"


def check_sync(stack: Stack, names: list[str]) -> SyncCheck:
    """Every named projet row holds the id of exactly one live Docmost page whose title carries its name."""
    wanted = set(names)
    pages = [page for page in stack.docmost_pages() if not page.get("deletedAt")]
    per_name = dict.fromkeys(names, 0)
    page_names: dict[str, str] = {}
    title_name = re.compile(r"Projet (\S+)")
    for page in pages:
        match = title_name.match(page.get("title") or "")
        if match and match.group(1) in wanted:
            per_name[match.group(1)] += 1
            page_names[page["id"]] = match.group(1)
            page_names[page.get("slugId", "")] = match.group(1)
    linked = bad = 0
    for row in stack.projet_rows():
        name = row.get("nom") or row.get("field_6010")
        if name not in wanted:
            continue
        page_id = page_field(row)
        if page_id:
            linked += 1
            if page_names.get(page_id) != name:
                bad += 1
    return SyncCheck(len(names), linked, per_name, bad)


def wait_for_sync(stack: Stack, names: list[str], timeout: float, poll: float = 1.0) -> tuple[SyncCheck, float]:
    """Polls until every row is synced exactly once or `timeout`; (last check, seconds waited)."""
    started = time.monotonic()
    while True:
        check = check_sync(stack, names)
        waited = time.monotonic() - started
        if check.complete or waited > timeout:
            return check, waited
        time.sleep(poll)


def create_projet_rows(stack: Stack, names: list[str], client_id: int, *, rate: float, concurrency: int = 8) -> LoadRun:
    """Creates the rows through Baserow's row API at `rate` a second; the stand-in sends one webhook each."""
    bodies = [json.dumps({"nom": name, "client": [client_id]}).encode() for name in names]
    return post_many(
        "127.0.0.1", stack.baserow_port, f"/api/database/rows/table/{PROJET_TABLE}/?user_field_names=true", bodies,
        {"Content-Type": "application/json", "Authorization": f"Token {BASEROW_TOKEN}"},
        concurrency=concurrency, rate=rate,
    )


def demo_client(stack: Stack) -> int:
    status, row = stack.baserow("POST", f"/api/database/rows/table/{CLIENT_TABLE}/?user_field_names=true",
                                {"nom": "ACME"})
    if status != 200:
        raise RuntimeError(f"could not create the client row: {status} {row}")
    return row["id"]


def event_latencies(stack: Stack, since_id: int = 0) -> tuple[list[float], dict[str, int]]:
    """(seconds from receipt to processed per processed rows.created event, events per state)."""
    rows = stack.sql(
        "SELECT state, EXTRACT(EPOCH FROM processed_at - received_at) FROM sync_event "
        "WHERE id > %s AND event_type = 'rows.created' AND table_id = %s",
        (since_id, PROJET_TABLE),
    )
    states: dict[str, int] = {}
    latencies = []
    for state, seconds in rows:
        states[state] = states.get(state, 0) + 1
        if state == "processed" and seconds is not None:
            latencies.append(float(seconds))
    return latencies, states


def print_table(title: str, header: list[str], rows: list[list]) -> None:
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(header[i]), *(len(row[i]) for row in cells)) if cells else len(header[i])
              for i in range(len(header))]
    print(f"\n{title}")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    sys.stdout.flush()


def machine_line() -> str:
    load = os.getloadavg()
    cores = os.cpu_count()
    with open("/proc/meminfo") as meminfo:
        total_kib = int(meminfo.readline().split()[1])
    return (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cores} cores, "
            f"{total_kib / 1024 / 1024:.0f} GiB, load average before the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
