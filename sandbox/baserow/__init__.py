"""A local stand-in for Baserow 1.35.3: the row REST API, JWT login, webhook management and webhook delivery.

Behaviour follows /work/shared/contracts/README.md (sections 1 to 3 and 9), field for field for what
formation-hub uses. Run `python -m sandbox.baserow --port 8010 --demo` or start `BaserowStandIn` in-process.
The control API under `/_sandbox/` is not part of Baserow.
"""

from sandbox.baserow.control import DEFAULT_CONFIG
from sandbox.baserow.demo import (
    DEMO_ADMIN_EMAIL,
    DEMO_ADMIN_PASSWORD,
    DEMO_DATABASE_ID,
    DEMO_TABLE_IDS,
    DEMO_TOKEN,
)
from sandbox.baserow.errors import ApiError
from sandbox.baserow.server import BaserowStandIn

__all__ = [
    "DEFAULT_CONFIG",
    "DEMO_ADMIN_EMAIL",
    "DEMO_ADMIN_PASSWORD",
    "DEMO_DATABASE_ID",
    "DEMO_TABLE_IDS",
    "DEMO_TOKEN",
    "ApiError",
    "BaserowStandIn",
]
