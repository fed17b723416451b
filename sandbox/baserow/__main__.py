"""`python -m sandbox.baserow --port 8010 [--demo] [--webhook-url URL] [--webhook-header NAME=VALUE] [--state FILE]`."""

import argparse

from sandbox.baserow.control import DEFAULT_CONFIG
from sandbox.baserow.demo import DEMO_DATABASE_ID, DEMO_TABLE_IDS, DEMO_TOKEN
from sandbox.baserow.server import BaserowStandIn
from sandbox.httpbase import serve_forever


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.baserow", description="Local Baserow 1.35.3 stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument("--state", metavar="FILE", help="keep tables, rows and webhooks in this JSON file")
    parser.add_argument("--demo", action="store_true", help="seed the demo dataset (database 60, tables 601-608)")
    parser.add_argument("--webhook-url", help="with --demo: one webhook per demo table pointing here")
    parser.add_argument(
        "--webhook-header", action="append", type=parse_header, default=[], metavar="NAME=VALUE", help="repeatable"
    )
    parser.add_argument(
        "--retry-base-delay", type=float, default=DEFAULT_CONFIG["retry_base_delay"], help="seconds (default 1)"
    )
    parser.add_argument("--max-retries", type=int, default=DEFAULT_CONFIG["max_retries"])
    parser.add_argument("--webhook-timeout", type=float, default=DEFAULT_CONFIG["timeout"])
    args = parser.parse_args(argv)
    stand_in = BaserowStandIn(
        host=args.host,
        port=args.port,
        state_file=args.state,
        demo=args.demo,
        webhook_url=args.webhook_url,
        webhook_headers=dict(args.webhook_header),
        retry_base_delay=args.retry_base_delay,
        max_retries=args.max_retries,
        timeout=args.webhook_timeout,
    )
    details = []
    if args.demo:
        tables = ", ".join(f"{name}={table_id}" for name, table_id in DEMO_TABLE_IDS.items())
        details.append(f"Baserow demo: database {DEMO_DATABASE_ID}, token {DEMO_TOKEN}, tables {tables}")
        if args.webhook_url:
            details.append(f"Baserow demo: one webhook per table -> {args.webhook_url}")
    serve_forever(stand_in, "Baserow stand-in", tuple(details))


if __name__ == "__main__":
    main()
