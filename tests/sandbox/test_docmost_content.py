"""Docmost content conversion: markdown and HTML in, ProseMirror stored, the same markdown back out."""

import pytest

from sandbox.docmost.content import InvalidContent, render, to_doc

ROUND_TRIPS = [
    "# Title\n\nA paragraph.",
    "- one\n- **two**",
    "1. first\n2. second",
    "> a quote",
    "```python\nx = 1\n```",
    "---",
    "Text with _italic_, **bold**, `code` and [a link](https://example.org).",
    "formation-hub-ref:projet:601/12",
    "docmost_page_id stays as_is",
]


@pytest.mark.parametrize("markdown", ROUND_TRIPS)
def test_markdown_comes_back_unchanged(markdown):
    assert render(to_doc(markdown, "markdown"), "markdown") == markdown


@pytest.mark.parametrize("markdown", [m for m in ROUND_TRIPS if not m.startswith("```")])
def test_html_rendering_parses_back_to_the_same_document(markdown):
    doc = to_doc(markdown, "markdown")

    assert to_doc(render(doc, "html"), "html") == doc


TABLE = "## Planning\n\n| Étape | Date |\n| --- | --- |\n| Lancement | 2026-12-01 |"


def test_markdown_export_of_a_table_adds_a_blank_header_row_as_docmost_0_95_does():
    exported = render(to_doc(TABLE, "markdown"), "markdown")
    again = render(to_doc(exported, "markdown"), "markdown")

    assert exported == "## Planning\n\n|     |     |\n| --- | --- |\n| Étape | Date |\n| Lancement | 2026-12-01 |"
    assert again.count("|     |     |") == 2  # one more blank row per round trip


def test_a_table_survives_any_number_of_html_round_trips():
    doc = to_doc(TABLE, "markdown")
    html = render(doc, "html")

    assert to_doc(render(to_doc(html, "html"), "html"), "html") == doc
    assert '<div class="tableWrapper">' in html and '<th colspan="1" rowspan="1">' in html


def test_json_content_is_checked_against_the_document_shape():
    doc = {"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x"}]}]}

    assert to_doc(doc, "json") == doc
    assert to_doc('{"type": "doc", "content": []}', "json") == {"type": "doc", "content": []}
    for invalid in ({"type": "paragraph"}, {"type": "doc", "content": [1]}, "not json", ["doc"]):
        with pytest.raises(InvalidContent):
            to_doc(invalid, "json")
