"""A local stand-in for Docmost (server 0.95): POST-only JSON API, session JWT login, pages, spaces, shares.

Behaviour follows /work/shared/contracts/README.md sections 4 and 5: the `{data, success, status}`
envelope, NestJS errors (`{message, error, statusCode}`), unknown body keys silently dropped, the
`authToken` cookie from `/api/auth/login` (also accepted as `Authorization: Bearer`), 10 login calls a
minute. API keys exist only with `edition="enterprise"`. Run `python -m sandbox.docmost --port 8020 --demo`
or start `DocmostStandIn` in-process. The control API under `/_sandbox/` is not part of Docmost.
"""

from sandbox.docmost.control import DEFAULT_CONFIG
from sandbox.docmost.demo import BOT_EMAIL, BOT_PASSWORD, HUMAN_EMAIL, HUMAN_PASSWORD
from sandbox.docmost.nest import NestError
from sandbox.docmost.server import DocmostStandIn

__all__ = [
    "BOT_EMAIL",
    "BOT_PASSWORD",
    "DEFAULT_CONFIG",
    "HUMAN_EMAIL",
    "HUMAN_PASSWORD",
    "DocmostStandIn",
    "NestError",
]
