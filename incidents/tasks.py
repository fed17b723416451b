"""django-q2 entry points of the incidents app: thin."""

from formation_hub.context import correlation
from incidents.sweeps import incidents_sweep


def sweep_due() -> dict:
    with correlation():
        return incidents_sweep()
