"""`python -m sandbox.baserow` and `python -m sandbox.docmost`: URL on the first line, clean stop on a signal."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.httpbase import free_port
from tests.standins import http_json

ROOT = Path(__file__).resolve().parents[2]


def start(module: str, *args: str) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines = [process.stdout.readline().strip()]
    return process, lines


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_baserow_cli_serves_the_demo_and_stops_cleanly(stop_signal, http_receiver):
    port = free_port()
    process, lines = start(
        "sandbox.baserow", "--port", str(port), "--demo", "--webhook-url", http_receiver.url,
        "--webhook-header", "X-Formation-Hub-Secret=s3cret", "--retry-base-delay", "0.01",
    )  # fmt: skip
    try:
        assert lines[0] == f"Baserow stand-in listening on http://127.0.0.1:{port}/"
        token = {"Authorization": "Token demo-baserow-token"}
        status, row, _ = http_json(
            "PATCH",
            f"http://127.0.0.1:{port}/api/database/rows/table/601/1/?user_field_names=true",
            {"nom": "X"},
            token,
        )
        deliveries = http_json("POST", f"http://127.0.0.1:{port}/_sandbox/deliveries/wait", {"timeout": 5})
        assert status == 200 and row["nom"] == "X"
        assert deliveries[0] == 200
        assert http_receiver.requests[0]["headers"]["X-Formation-Hub-Secret"] == "s3cret"
    finally:
        process.send_signal(stop_signal)
        assert process.wait(timeout=5) == 0
        process.stdout.close()
        process.stderr.close()


def test_docmost_cli_prints_the_demo_ids_and_stops_cleanly():
    port = free_port()
    process, lines = start("sandbox.docmost", "--port", str(port), "--demo")
    try:
        lines += [process.stdout.readline().strip() for _ in range(3)]
        assert lines[0] == f"Docmost stand-in listening on http://127.0.0.1:{port}/"
        assert lines[1] == "Docmost demo: bot bot@formation-hub.local / demo-docmost-password"
        assert lines[3].startswith("Docmost demo: bot_user_id = ")
        login = {"email": "bot@formation-hub.local", "password": "demo-docmost-password"}
        assert http_json("POST", f"http://127.0.0.1:{port}/api/auth/login", login)[0] == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        process.stdout.close()
        process.stderr.close()


def test_baserow_cli_keeps_state_in_the_state_file(tmp_path):
    state = tmp_path / "baserow.json"
    port = free_port()
    process, lines = start("sandbox.baserow", "--port", str(port), "--demo", "--state", str(state))
    try:
        token = {"Authorization": "Token demo-baserow-token"}
        http_json(
            "POST", f"http://127.0.0.1:{port}/api/database/rows/table/607/?user_field_names=true", {"nom": "Z"}, token
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=5)
        process.stdout.close()
        process.stderr.close()

    assert '"Z"' in state.read_text()
