"""Markdown typed by people is rendered, then sanitised: nothing hostile reaches the page."""

import pytest

from formation_hub.console.markdown import render_markdown


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("<script>alert(1)</script>", ["<script", "alert(1)"]),
        ("[click](javascript:alert(1))", ["javascript:"]),
        ("[click](JaVaScRiPt:alert(1))", ["javascript:", "JaVaScRiPt"]),
        ('<a href="javascript:alert(1)">x</a>', ["javascript:"]),
        ("[click](  javascript:alert(1))", ["javascript:"]),
        ("<img src=x onerror=alert(1)>", ["onerror", "alert"]),
        ("![pic](x.png)<span onmouseover=alert(1)>hi</span>", ["onmouseover"]),
        ('<iframe src="https://evil.example"></iframe>', ["<iframe"]),
        ("<style>body{display:none}</style>", ["<style", "display:none"]),
        ("[data](data:text/html;base64,PHNjcmlwdD4=)", ["data:text"]),
        ('<svg onload="alert(1)"></svg>', ["<svg", "onload"]),
        ('<div style="background:url(javascript:alert(1))">x</div>', ["style=", "javascript:"]),
        ("<!-- <script>alert(1)</script> -->", ["<script", "<!--"]),
        ('<form action="https://evil.example"><input name=pw></form>', ["<form", "<input"]),
    ],
)
def test_hostile_markdown_is_neutralised(text, forbidden):
    html = render_markdown(text)
    for fragment in forbidden:
        assert fragment.lower() not in html.lower()


def test_ordinary_markdown_keeps_its_formatting():
    html = render_markdown("## Steps\n\n1. `docker compose ps`\n2. **restart**\n\n[docs](https://docs.example.org)")
    assert "<h2>Steps</h2>" in html
    assert "<ol>" in html and "<code>docker compose ps</code>" in html and "<strong>restart</strong>" in html
    assert '<a href="https://docs.example.org" rel="noopener noreferrer nofollow">docs</a>' in html


def test_tables_and_mailto_links_survive():
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n<mailto:ops@example.org>")
    assert "<table>" in html and "<td>1</td>" in html
    assert 'href="mailto:ops@example.org"' in html


def test_empty_text_renders_nothing():
    assert render_markdown("") == "" and render_markdown(None) == ""


def test_the_result_is_marked_safe_for_templates():
    assert hasattr(render_markdown("*x*"), "__html__")
