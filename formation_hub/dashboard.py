"""Panels of the console's landing page. Each app registers its panels from AppConfig.ready.

A panel is a template plus a function of the request that returns its context; the landing page
renders them in order. Panels must run a bounded number of queries.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    name: str
    title: str
    template: str
    context: Callable[[object], dict]
    order: int = 100


_panels: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _panels[panel.name] = panel


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.name))
