"""`python -m sandbox.docmost --port 8020 [--demo] [--state FILE] [--edition community|enterprise]`."""

import argparse

from sandbox.docmost.control import DEFAULT_CONFIG
from sandbox.docmost.demo import BOT_EMAIL, BOT_PASSWORD
from sandbox.docmost.server import DocmostStandIn
from sandbox.httpbase import serve_forever


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox.docmost", description="Local Docmost stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8020)
    parser.add_argument("--demo", action="store_true", help="spaces Agence and Formations, templates, bot user")
    parser.add_argument(
        "--state", metavar="FILE", help="keep users, spaces, pages, shares and sessions in this JSON file"
    )
    parser.add_argument(
        "--edition", choices=("community", "enterprise"), default="community", help="enterprise adds API keys"
    )
    parser.add_argument("--login-limit", type=int, default=DEFAULT_CONFIG["login_limit"], help="login calls per window")
    parser.add_argument("--login-window", type=float, default=DEFAULT_CONFIG["login_window"], help="seconds")
    args = parser.parse_args(argv)
    stand_in = DocmostStandIn(
        host=args.host,
        port=args.port,
        demo=args.demo,
        state_file=args.state,
        edition=args.edition,
        login_limit=args.login_limit,
        login_window=args.login_window,
    )
    details = []
    if args.demo:
        details.append(f"Docmost demo: bot {BOT_EMAIL} / {BOT_PASSWORD}")
        details += [f"Docmost demo: {name} = {value}" for name, value in stand_in.demo_ids.items()]
    serve_forever(stand_in, "Docmost stand-in", tuple(details))


if __name__ == "__main__":
    main()
