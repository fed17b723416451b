"""`make run` (manage.py devserver) as a person uses it (issue 16, points 15 and 16): the demo's secrets are
printed and given to its children so the README's curl commands work, and SIGTERM or SIGHUP (a closed
terminal) stops every child, not only Ctrl-C."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from formation_hub.dev.demo import DEMO_SECRETS
from formation_hub.management.commands.devserver import Command
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_environment(tmp_path_factory):
    database = tmp_path_factory.mktemp("devserver") / "db.sqlite3"
    environment = {name: value for name, value in os.environ.items() if name not in DEMO_SECRETS}
    environment.update(DATABASE_URL=f"sqlite:///{database}", DJANGO_DEBUG="true",
                       SYNC_STANDIN_BASEROW_PORT=str(free_port()), SYNC_STANDIN_DOCMOST_PORT=str(free_port()))
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=environment, check=True)
    return environment


def _children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    pytest.fail(f"nothing listens on {port} after {seconds} s")


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_stops_every_child_and_the_demo_secrets_work(demo_environment, stop_signal):
    port = free_port()
    devserver = subprocess.Popen([sys.executable, "manage.py", "devserver", "--port", str(port)], cwd=ROOT,
                                 env=demo_environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    children = []
    try:
        _wait_for_port(port, 60)
        children += _children(devserver.pid)
        assert len(children) >= 4, "web, worker and the stand-ins"
        children += [grandchild for child in children for grandchild in _children(child)]
        alert = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/alerts/generic/", method="POST",
            data=json.dumps({"monitor": "demo api", "state": "up"}).encode(),
            headers={"Content-Type": "application/json", "X-Alert-Token": DEMO_SECRETS["ALERT_TOKENS"]})
        try:
            status = urllib.request.urlopen(alert, timeout=10).status  # noqa: S310 - our own local server
        except urllib.error.HTTPError as error:
            status = error.code
        assert status not in (401, 403), "the printed demo alert token is accepted"
        devserver.send_signal(stop_signal)
        output, _ = devserver.communicate(timeout=20)
    finally:
        if devserver.poll() is None:
            devserver.kill()
        still_running = [pid for pid in children if _alive(pid)]
        for pid in still_running:  # never leave a failed run's processes on their ports
            os.kill(pid, signal.SIGKILL)
    assert f"export ALERT_TOKENS={DEMO_SECRETS['ALERT_TOKENS']}" in output
    assert f"export RELEASE_CHECKS_TOKEN={DEMO_SECRETS['RELEASE_CHECKS_TOKEN']}" in output
    assert still_running == [], output[-2000:]


def test_production_mode_never_gets_the_demo_secrets(settings, monkeypatch):
    for name in DEMO_SECRETS:
        monkeypatch.delenv(name, raising=False)
    settings.DEBUG = False
    assert not set(DEMO_SECRETS) & set(Command()._environment())
    settings.DEBUG = True
    assert Command()._environment()["RELEASE_CHECKS_TOKEN"] == DEMO_SECRETS["RELEASE_CHECKS_TOKEN"]


def test_a_secret_set_in_the_environment_is_kept(settings, monkeypatch):
    monkeypatch.setenv("RELEASE_CHECKS_TOKEN", "the-real-one")
    settings.DEBUG = True
    assert Command()._environment()["RELEASE_CHECKS_TOKEN"] == "the-real-one"
