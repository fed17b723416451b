"""Count the Docmost logins of N worker restarts in a row (issue 13: no refused-login storm).

Each restart is a new Python process that builds the sync's client from the connection row and reads the
target space, as a worker does after a restart. With the shared login (the default) the first process
logs in and the others reuse its token from the database; `--process-only` keeps the token in process
memory, as before issue 13, so each restart logs in. Run against the stand-in or a real Docmost:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fh_bench DOCMOST_BOT_PASSWORD=... \\
        .venv/bin/python tests/bench/docmost_login_restarts.py --url http://127.0.0.1:8400 \\
        --email owner@docmost.test --space general --restarts 20

The database must be migrated (`manage.py migrate`); the script writes one DocmostConnection row and
clears the SharedLogin rows before it starts.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "formation_hub.settings")


def worker(process_only: bool) -> dict:
    from sync.clients.docmost import DocmostClient
    from sync.clients.errors import ServiceError
    from sync.clients.http import CallLog
    from sync.clients.shared_login import LoginStore
    from sync.models import DocmostConnection

    connection = DocmostConnection.objects.get()
    log = CallLog()
    options = {"recorder": log}
    if process_only:
        options["login_store"] = LoginStore()
    client = DocmostClient.from_connection(connection, **options)
    try:
        client.space_info(connection.space_slug)
        outcome = "ok"
    except ServiceError as error:
        outcome = f"{type(error).__name__}: {error}"
    logins = [record for record in log.records if record.path == "/api/auth/login"]
    return {"logins": len(logins), "refused": sum(record.status == 429 for record in logins), "outcome": outcome}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--space", required=True, help="slug of a space the account can read")
    parser.add_argument("--restarts", type=int, default=20)
    parser.add_argument("--process-only", action="store_true", help="no shared login (the behaviour before)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import django

    django.setup()
    if args.worker:
        print(json.dumps(worker(args.process_only)))
        return

    from sync.models import DocmostConnection, SharedLogin

    DocmostConnection.objects.all().delete()
    DocmostConnection.objects.create(url=args.url, bot_email=args.email, space_slug=args.space, api_key_env_var="")
    SharedLogin.objects.all().delete()
    started = time.monotonic()
    results = []
    for number in range(1, args.restarts + 1):
        command = [sys.executable, __file__, "--worker", "--url", args.url, "--email", args.email,
                   "--space", args.space]
        if args.process_only:
            command.append("--process-only")
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        result = json.loads(output)
        results.append(result)
        outcome = result["outcome"][:90]
        print(f"restart {number:2d}: {result['logins']} login(s), {result['refused']} refused, {outcome}")
    elapsed = time.monotonic() - started
    logins = sum(result["logins"] for result in results)
    refused = sum(result["refused"] for result in results)
    failed = sum(result["outcome"] != "ok" for result in results)
    per_minute = logins / elapsed * 60
    print(f"{args.restarts} restarts in {elapsed:.1f} s: {logins} login(s) sent ({per_minute:.1f} a minute), "
          f"{refused} refused with 429, {failed} restart(s) could not read the space")


if __name__ == "__main__":
    main()
