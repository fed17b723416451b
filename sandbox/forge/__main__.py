"""`python -m sandbox.forge --port 8030 [--demo] [--token TOKEN]`."""

import argparse

from sandbox.forge.server import DEMO_REPOSITORY, DEMO_TOKEN, ForgeStandIn
from sandbox.httpbase import serve_forever


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.forge", description="Local GitHub/Forgejo stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8030)
    parser.add_argument("--demo", action="store_true", help=f"repository {DEMO_REPOSITORY}, protected main")
    parser.add_argument("--token", default=DEMO_TOKEN, help="the API token the stand-in accepts")
    args = parser.parse_args(argv)
    stand_in = ForgeStandIn(host=args.host, port=args.port, demo=args.demo, token=args.token)
    details = (f"Forge demo: repository {DEMO_REPOSITORY}, token {args.token}",) if args.demo else ()
    serve_forever(stand_in, "Forge stand-in", details)


if __name__ == "__main__":
    main()
