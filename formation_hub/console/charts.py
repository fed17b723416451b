"""Small server-rendered SVG charts for the console: no JavaScript, no CDN, readable offline.

A chart is a list of bars, each a label and its stacked segments; every bar carries a <title>
(tooltip and screen-reader text) with its figures.
"""

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#2f6f9f", "#1a7f37", "#b54708", "#b42318", "#6e59a5", "#667085")


@dataclass(frozen=True)
class Bar:
    label: str
    values: dict[str, float | None]


def stacked_bar_chart(
    bars: list[Bar],
    *,
    segments: list[str],
    title: str,
    unit: str = "",
    colors: dict[str, str] | None = None,
    width: int = 560,
    height: int = 180,
) -> SafeString:
    """An SVG stacked bar chart with a legend; segments are drawn bottom-up in the order given."""
    colors = colors or {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(segments)}
    top, bottom, left, right = 10, 34, 40, 8
    plot_height = height - top - bottom
    plot_width = width - left - right
    peak = max((sum(bar.values.get(name) or 0 for name in segments) for bar in bars), default=0) or 1
    slot = plot_width / max(len(bars), 1)
    bar_width = max(slot * 0.7, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="ops-chart" style="max-width:100%;height:auto">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_height}" x2="{width - right}" y2="{top + plot_height}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" font-size="10">{_number(peak)}</text>',
        f'<text x="{left - 4}" y="{top + plot_height}" text-anchor="end" font-size="10">0</text>',
    ]
    label_every = max(1, round(len(bars) / 12))
    for index, bar in enumerate(bars):
        x = left + index * slot + (slot - bar_width) / 2
        y = top + plot_height
        figures = ", ".join(f"{name} {_number(bar.values.get(name) or 0)}{unit}" for name in segments)
        parts.append(f"<g><title>{escape(bar.label)}: {escape(figures)}</title>")
        for name in segments:
            value = bar.values.get(name) or 0
            if value <= 0:
                continue
            segment_height = value / peak * plot_height
            y -= segment_height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{segment_height:.1f}" '
                f'fill="{colors[name]}"/>'
            )
        parts.append("</g>")
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + bar_width / 2:.1f}" y="{top + plot_height + 12}" text-anchor="middle" '
                f'font-size="9">{escape(bar.label)}</text>'
            )
    parts.extend(_legend(segments, colors, height, left))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def grouped_bar_chart(
    bars: list[Bar],
    *,
    segments: list[str],
    title: str,
    unit: str = "",
    colors: dict[str, str] | None = None,
    width: int = 560,
    height: int = 180,
) -> SafeString:
    """An SVG bar chart with the segments of each bar side by side (figures that do not add up,
    such as a median time per severity); a missing value draws no bar, a zero a flat one."""
    colors = colors or {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(segments)}
    top, bottom, left, right = 10, 34, 40, 8
    plot_height = height - top - bottom
    plot_width = width - left - right
    peak = max((value for bar in bars for value in bar.values.values() if value is not None), default=0) or 1
    slot = plot_width / max(len(bars), 1)
    column = max(slot * 0.8 / max(len(segments), 1), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="ops-chart" style="max-width:100%;height:auto">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_height}" x2="{width - right}" y2="{top + plot_height}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" font-size="10">{_number(peak)}{escape(unit)}</text>',
        f'<text x="{left - 4}" y="{top + plot_height}" text-anchor="end" font-size="10">0</text>',
    ]
    label_every = max(1, round(len(bars) / 12))
    for index, bar in enumerate(bars):
        x = left + index * slot + slot * 0.1
        figures = ", ".join(
            f"{name} {_number(bar.values[name])}{unit}" if bar.values.get(name) is not None else f"{name} -"
            for name in segments
        )
        parts.append(f"<g><title>{escape(bar.label)}: {escape(figures)}</title>")
        for position, name in enumerate(segments):
            value = bar.values.get(name)
            if value is None:
                continue
            column_height = max(value / peak * plot_height, 1)
            parts.append(
                f'<rect x="{x + position * column:.1f}" y="{top + plot_height - column_height:.1f}" '
                f'width="{column * 0.9:.1f}" height="{column_height:.1f}" fill="{colors[name]}"/>'
            )
        parts.append("</g>")
        if index % label_every == 0:
            parts.append(
                f'<text x="{x + slot * 0.4:.1f}" y="{top + plot_height + 12}" text-anchor="middle" '
                f'font-size="9">{escape(bar.label)}</text>'
            )
    parts.extend(_legend(segments, colors, height, left))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def _legend(segments: list[str], colors: dict[str, str], height: int, left: int) -> list[str]:
    parts, legend_x = [], left
    for name in segments:
        parts.append(
            f'<rect x="{legend_x}" y="{height - 12}" width="9" height="9" fill="{colors[name]}"/>'
            f'<text x="{legend_x + 12}" y="{height - 4}" font-size="10">{escape(name)}</text>'
        )
        legend_x += 14 + 7 * len(name)
    return parts


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
