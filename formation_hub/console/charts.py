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


@dataclass(frozen=True)
class _Frame:
    """The drawing area of a chart: margins for the axis figures on the left and the labels and legend
    below."""

    width: int
    height: int
    top: int = 10
    bottom: int = 34
    left: int = 40
    right: int = 8

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    @property
    def baseline(self) -> float:
        return self.top + self.plot_height

    def slot(self, bars: int) -> float:
        return (self.width - self.left - self.right) / max(bars, 1)

    def opening(self, title: str, peak_label: str) -> list[str]:
        return [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" role="img" '
            f'aria-label="{escape(title)}" class="ops-chart" style="max-width:100%;height:auto">',
            f"<title>{escape(title)}</title>",
            f'<line x1="{self.left}" y1="{self.baseline}" x2="{self.width - self.right}" y2="{self.baseline}" '
            'stroke="#999"/>',
            f'<text x="{self.left - 4}" y="{self.top + 8}" text-anchor="end" font-size="10">{peak_label}</text>',
            f'<text x="{self.left - 4}" y="{self.baseline}" text-anchor="end" font-size="10">0</text>',
        ]

    def bar_label(self, center: float, label: str) -> str:
        return (f'<text x="{center:.1f}" y="{self.baseline + 12}" text-anchor="middle" '
                f'font-size="9">{escape(label)}</text>')

    def closing(self, parts: list[str], segments: list[str], colors: dict[str, str]) -> SafeString:
        legend_x = self.left
        for name in segments:
            parts.append(
                f'<rect x="{legend_x}" y="{self.height - 12}" width="9" height="9" fill="{colors[name]}"/>'
                f'<text x="{legend_x + 12}" y="{self.height - 4}" font-size="10">{escape(name)}</text>'
            )
            legend_x += 14 + 7 * len(name)
        parts.append("</svg>")
        return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped


def _colors(segments: list[str], colors: dict[str, str] | None) -> dict[str, str]:
    return colors or {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(segments)}


def _labelled(bars: list[Bar]) -> int:
    """Every how many bars a label is drawn: about twelve labels whatever the number of bars."""
    return max(1, round(len(bars) / 12))


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
    colors = _colors(segments, colors)
    frame = _Frame(width, height)
    peak = max((sum(bar.values.get(name) or 0 for name in segments) for bar in bars), default=0) or 1
    slot = frame.slot(len(bars))
    bar_width = max(slot * 0.7, 1)
    parts = frame.opening(title, _number(peak))
    for index, bar in enumerate(bars):
        x = frame.left + index * slot + (slot - bar_width) / 2
        y = frame.baseline
        figures = ", ".join(f"{name} {_number(bar.values.get(name) or 0)}{unit}" for name in segments)
        parts.append(f"<g><title>{escape(bar.label)}: {escape(figures)}</title>")
        for name in segments:
            value = bar.values.get(name) or 0
            if value <= 0:
                continue
            segment_height = value / peak * frame.plot_height
            y -= segment_height
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" height="{segment_height:.1f}" '
                f'fill="{colors[name]}"/>'
            )
        parts.append("</g>")
        if index % _labelled(bars) == 0:
            parts.append(frame.bar_label(x + bar_width / 2, bar.label))
    return frame.closing(parts, segments, colors)


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
    colors = _colors(segments, colors)
    frame = _Frame(width, height)
    peak = max((value for bar in bars for value in bar.values.values() if value is not None), default=0) or 1
    slot = frame.slot(len(bars))
    column = max(slot * 0.8 / max(len(segments), 1), 1)
    parts = frame.opening(title, f"{_number(peak)}{escape(unit)}")
    for index, bar in enumerate(bars):
        x = frame.left + index * slot + slot * 0.1
        figures = ", ".join(
            f"{name} {_number(bar.values[name])}{unit}" if bar.values.get(name) is not None else f"{name} -"
            for name in segments
        )
        parts.append(f"<g><title>{escape(bar.label)}: {escape(figures)}</title>")
        for position, name in enumerate(segments):
            value = bar.values.get(name)
            if value is None:
                continue
            column_height = max(value / peak * frame.plot_height, 1)
            parts.append(
                f'<rect x="{x + position * column:.1f}" y="{frame.baseline - column_height:.1f}" '
                f'width="{column * 0.9:.1f}" height="{column_height:.1f}" fill="{colors[name]}"/>'
            )
        parts.append("</g>")
        if index % _labelled(bars) == 0:
            parts.append(frame.bar_label(x + slot * 0.4, bar.label))
    return frame.closing(parts, segments, colors)


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
