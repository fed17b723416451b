"""Panels of the console's landing page. Each app registers its panels from AppConfig.ready.

A panel is a template plus a function of the request that returns its context (or None to hide
the panel from this user); the landing page renders them in order. Panels must run a bounded
number of queries.

Two context keys are understood by the landing page itself (docs/console.md):
- `attention`: how many things in the panel need the signed-in user now (an int or a bool).
  Panels that need attention come first, marked, so the page answers "what needs me now".
- `list_url`: the filtered list behind the panel; the panel's title links to it.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)
# A panel slower than this is logged: the landing page must stay under 300 ms with a million rows.
SLOW_PANEL_MS = 100


@dataclass(frozen=True)
class Panel:
    name: str
    title: str
    template: str
    context: Callable[[object], dict | None]
    order: int = 100


@dataclass(frozen=True)
class RenderedPanel:
    panel: Panel
    context: dict
    attention: int = 0
    list_url: str = ""
    failed: bool = False
    elapsed_ms: float = 0.0


_panels: dict[str, Panel] = {}


def register_panel(panel: Panel) -> None:
    _panels[panel.name] = panel


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.name))


def panels_for(request) -> list[RenderedPanel]:
    """The panels this user sees, those needing them first, then in registration order.

    A panel whose context fails is shown as failed instead of taking the whole page down: the
    landing page is where people look when something is broken.
    """
    rendered = []
    for panel in panels():
        started = time.perf_counter()
        try:
            context = panel.context(request)
        except Exception:  # noqa: BLE001 - one broken panel must not hide the others
            logger.exception("console panel %s failed", panel.name)
            rendered.append(RenderedPanel(panel=panel, context={}, failed=True))
            continue
        elapsed_ms = (time.perf_counter() - started) * 1000
        if elapsed_ms > SLOW_PANEL_MS:
            logger.warning("console panel %s took %.0f ms", panel.name, elapsed_ms)
        if context is None:
            continue
        rendered.append(
            RenderedPanel(
                panel=panel, context=context, attention=int(context.get("attention") or 0),
                list_url=context.get("list_url", ""), elapsed_ms=elapsed_ms,
            )
        )
    # Stable sort: within each group the registration order holds.
    return sorted(rendered, key=lambda item: not (item.attention or item.failed))
