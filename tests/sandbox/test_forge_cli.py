"""`python -m sandbox.forge`, as `make run` starts it: the demo repository answers both API shapes."""

import signal
import sys

from formation_hub.dev.companions import companion_processes
from sandbox.httpbase import free_port
from tests.sandbox.test_cli import start
from tests.standins import http_json


def test_make_run_starts_the_forge_stand_in():
    assert dict(companion_processes())["forge stand-in"] == [
        sys.executable, "-m", "sandbox.forge", "--port", "8030", "--demo",
    ]


def test_forge_cli_serves_the_demo_repository_in_both_shapes_and_stops_cleanly():
    port = free_port()
    process, lines = start("sandbox.forge", "--port", str(port), "--demo")
    try:
        assert lines[0] == f"Forge stand-in listening on http://127.0.0.1:{port}/"
        base = f"http://127.0.0.1:{port}"
        issue = {"title": "SEV3", "body": ""}
        github = http_json("POST", f"{base}/repos/formation-hub/app/issues", issue,
                           {"Authorization": "Bearer demo-forge-token"})
        forgejo = http_json("POST", f"{base}/api/v1/repos/formation-hub/app/issues", issue,
                            {"Authorization": "token demo-forge-token"})
        refused = http_json("POST", f"{base}/api/v1/repos/formation-hub/app/issues", issue)
        assert (github[0], forgejo[0], refused[0]) == (201, 201, 401)
        assert forgejo[1]["number"] == github[1]["number"] + 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        process.stdout.close()
        process.stderr.close()
