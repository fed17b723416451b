import re

from formation_hub.console.charts import Bar, stacked_bar_chart


def test_bars_are_stacked_in_proportion_to_their_values():
    svg = stacked_bar_chart(
        [Bar("09h", {"processed": 30, "failed": 10}), Bar("10h", {"processed": 20})],
        segments=["processed", "failed"], title="Sync events per hour",
    )
    bar_rect = r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"'
    heights = [float(height) for height in re.findall(bar_rect, svg)]
    assert heights[:3] == [102.0, 34.0, 68.0]  # 30, 10 and 20 on a 136 px plot scaled to the tallest bar (40)
    assert "<title>09h: processed 30, failed 10</title>" in svg
    assert 'aria-label="Sync events per hour"' in svg


def test_labels_are_escaped():
    svg = stacked_bar_chart([Bar("<script>", {"a": 1})], segments=["a"], title="t & <b>")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "t &amp; &lt;b&gt;" in svg


def test_an_empty_chart_renders_without_dividing_by_zero():
    svg = stacked_bar_chart([], segments=["a"], title="nothing yet")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
