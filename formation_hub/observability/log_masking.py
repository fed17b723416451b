"""Secrets in query strings never reach a log line: UptimeRobot can send its alert token only as
`?token=...`, and both the access log (gunicorn in production, the development server) and Django's own
request logs would print it (issue 17, Low)."""

import logging
import re

from gunicorn.glogging import Logger

SECRET_PARAMETERS = ("token", "secret", "key", "api_key", "access_token", "password")
_SECRET_IN_QUERY = re.compile(
    r"(?P<name>[?&;](?:" + "|".join(SECRET_PARAMETERS) + r")=)[^&;\s\"']*", re.IGNORECASE
)
MASK = "***"


def mask_secrets(text: str) -> str:
    """`text` with the value of every secret query parameter replaced by ***."""
    return _SECRET_IN_QUERY.sub(lambda match: match["name"] + MASK, text)


class SecretMaskingFilter(logging.Filter):
    """Masks secret query parameters in every record passing the handler it is attached to."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class MaskingGunicornLogger(Logger):
    """gunicorn's logger whose access lines show `?token=***` (`--logger-class` in the Dockerfile)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name in ("r", "q"):
            if isinstance(atoms.get(name), str):
                atoms[name] = mask_secrets(atoms[name])
        return atoms
