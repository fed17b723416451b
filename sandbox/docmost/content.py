"""Docmost content conversion: markdown or HTML in, ProseMirror (Tiptap) JSON stored, any of the three out.

Covers what pages written by formation-hub contain: headings, paragraphs, bullet and ordered lists,
blockquotes, code blocks, horizontal rules, and bold / italic / code / link marks.
"""

import html
import json
import re
from html.parser import HTMLParser

INLINE = re.compile(
    r"(\*\*(?P<bold>.+?)\*\*|`(?P<code>[^`]+)`|\[(?P<label>[^\]]+)\]\((?P<href>[^)]+)\)|(?<![\w*])[*_](?P<em>[^*_]+)[*_](?![\w*]))"
)
LIST_ITEM = re.compile(r"^(?P<indent>\s*)(?P<marker>[-*+]|\d+[.)])\s+(?P<text>.*)$")


class InvalidContent(ValueError):
    """Content that is not a valid document for its format (Docmost answers 400 "Invalid content format")."""


def _text(text: str, marks: list | None = None) -> dict:
    node = {"type": "text", "text": text}
    if marks:
        node["marks"] = marks
    return node


def inline_nodes(text: str, marks: list | None = None) -> list[dict]:
    marks = marks or []
    nodes, position = [], 0
    for found in INLINE.finditer(text):
        if found.start() > position:
            nodes.append(_text(text[position : found.start()], marks))
        if found.group("bold") is not None:
            nodes += inline_nodes(found.group("bold"), [*marks, {"type": "bold"}])
        elif found.group("code") is not None:
            nodes.append(_text(found.group("code"), [*marks, {"type": "code"}]))
        elif found.group("label") is not None:
            link = {"type": "link", "attrs": {"href": found.group("href"), "target": "_blank"}}
            nodes += inline_nodes(found.group("label"), [*marks, link])
        else:
            nodes += inline_nodes(found.group("em"), [*marks, {"type": "italic"}])
        position = found.end()
    if position < len(text):
        nodes.append(_text(text[position:], marks))
    return nodes


def _paragraph(text: str) -> dict:
    content = inline_nodes(text.strip())
    return {"type": "paragraph", "content": content} if content else {"type": "paragraph"}


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _table(lines: list[str]) -> dict:
    """A GFM table: the first row is the header when a `| --- |` line follows it."""
    has_header = len(lines) > 1 and all(re.fullmatch(r":?-{3,}:?", cell) for cell in _cells(lines[1]))
    rows = []
    for number, line in enumerate(lines):
        if has_header and number == 1:
            continue
        cell_type = "tableHeader" if has_header and number == 0 else "tableCell"
        cells = [
            {"type": cell_type, "attrs": {"colspan": 1, "rowspan": 1}, "content": [_paragraph(text)]}
            for text in _cells(line)
        ]
        rows.append({"type": "tableRow", "content": cells})
    return {"type": "table", "content": rows}


def markdown_to_doc(markdown: str) -> dict:
    lines = markdown.replace("\r\n", "\n").split("\n")
    blocks: list[dict] = []
    paragraph: list[str] = []
    index = 0

    def flush():
        if paragraph:
            blocks.append(_paragraph(" ".join(line.strip() for line in paragraph)))
            paragraph.clear()

    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            flush()
            index += 1
            continue
        if stripped.startswith("```"):
            flush()
            language = stripped[3:].strip() or None
            code, index = [], index + 1
            while index < len(lines) and not lines[index].strip().startswith("```"):
                code.append(lines[index])
                index += 1
            node = {"type": "codeBlock", "attrs": {"language": language}}
            if code:
                node["content"] = [_text("\n".join(code))]
            blocks.append(node)
            index += 1
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        if heading:
            flush()
            node = {"type": "heading", "attrs": {"level": len(heading.group(1))}}
            content = inline_nodes(heading.group(2).strip())
            if content:
                node["content"] = content
            blocks.append(node)
            index += 1
            continue
        if re.match(r"^(-{3,}|\*{3,}|_{3,})$", stripped):
            flush()
            blocks.append({"type": "horizontalRule"})
            index += 1
            continue
        if stripped.startswith(">"):
            flush()
            quoted = []
            while index < len(lines) and lines[index].strip().startswith(">"):
                quoted.append(lines[index].strip()[1:].lstrip())
                index += 1
            blocks.append({"type": "blockquote", "content": markdown_to_doc("\n".join(quoted))["content"]})
            continue
        if stripped.startswith("|"):
            flush()
            table_lines = []
            while index < len(lines) and lines[index].strip().startswith("|"):
                table_lines.append(lines[index].strip())
                index += 1
            blocks.append(_table(table_lines))
            continue
        item = LIST_ITEM.match(line)
        if item:
            flush()
            ordered = item.group("marker")[0].isdigit()
            items = []
            while index < len(lines):
                found = LIST_ITEM.match(lines[index])
                if not found or found.group("marker")[0].isdigit() != ordered:
                    break
                items.append({"type": "listItem", "content": [_paragraph(found.group("text"))]})
                index += 1
            node = {"type": "orderedList", "attrs": {"start": 1}} if ordered else {"type": "bulletList"}
            node["content"] = items
            blocks.append(node)
            continue
        paragraph.append(line)
        index += 1
    flush()
    return {"type": "doc", "content": blocks or [{"type": "paragraph"}]}


class _HtmlToDoc(HTMLParser):
    MARKS = {"strong": "bold", "b": "bold", "em": "italic", "i": "italic", "code": "code"}
    BLOCKS = {
        "p": ("paragraph", None),
        "ul": ("bulletList", None),
        "ol": ("orderedList", {"start": 1}),
        "blockquote": ("blockquote", None),
        "pre": ("codeBlock", {"language": None}),
        "table": ("table", None),
        "tr": ("tableRow", None),
        **{f"h{level}": ("heading", {"level": level}) for level in range(1, 7)},
    }
    CONTAINERS = ("doc", "blockquote", "bulletList", "orderedList", "listItem", "tableCell", "tableHeader")
    WRAPPERS = {"li": "listItem", "td": "tableCell", "th": "tableHeader"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[dict] = [{"type": "doc", "content": []}]
        self.marks: list[dict] = []
        self.implicit: set[int] = set()  # paragraphs opened by <li> or by loose text, closed by the next block

    def _open(self, node: dict) -> dict:
        self.stack[-1].setdefault("content", []).append(node)
        self.stack.append(node)
        return node

    def _close_implicit(self) -> None:
        if len(self.stack) > 1 and id(self.stack[-1]) in self.implicit:
            self.implicit.discard(id(self.stack.pop()))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        top = self.stack[-1]
        if tag == "p" and id(top) in self.implicit and not top.get("content"):
            self.implicit.discard(id(top))
        elif tag in self.BLOCKS:
            self._close_implicit()
            node_type, node_attrs = self.BLOCKS[tag]
            self._open({"type": node_type, **({"attrs": dict(node_attrs)} if node_attrs else {})})
        elif tag in self.WRAPPERS:
            self._close_implicit()
            node_type = self.WRAPPERS[tag]
            cell_attrs = {"attrs": {"colspan": 1, "rowspan": 1}} if node_type != "listItem" else {}
            self._open({"type": node_type, **cell_attrs})
            self.implicit.add(id(self._open({"type": "paragraph"})))
        elif tag == "hr":
            self._close_implicit()
            self.stack[-1].setdefault("content", []).append({"type": "horizontalRule"})
        elif tag == "a":
            self.marks.append({"type": "link", "attrs": {"href": attrs.get("href", ""), "target": "_blank"}})
        elif tag in self.MARKS and top["type"] != "codeBlock":
            self.marks.append({"type": self.MARKS[tag]})

    def handle_endtag(self, tag):
        if tag in self.BLOCKS or tag in self.WRAPPERS:
            expected = self.WRAPPERS[tag] if tag in self.WRAPPERS else self.BLOCKS[tag][0]
            self._close_implicit()
            if len(self.stack) > 1 and self.stack[-1]["type"] == expected:
                self.stack.pop()
        elif (tag == "a" or tag in self.MARKS) and self.marks:
            self.marks.pop()

    def handle_data(self, data):
        if self.stack[-1]["type"] in self.CONTAINERS:
            if not data.strip():
                return
            self.implicit.add(id(self._open({"type": "paragraph"})))
        self.stack[-1].setdefault("content", []).append(_text(data, list(self.marks)))


def html_to_doc(text: str) -> dict:
    parser = _HtmlToDoc()
    parser.feed(text)
    parser.close()
    doc = parser.stack[0]
    if not doc.get("content"):
        doc["content"] = [{"type": "paragraph"}]
    return doc


def check_doc(doc) -> dict:
    def walk(node) -> None:
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            raise InvalidContent("Invalid content format")
        if node["type"] == "text" and not isinstance(node.get("text"), str):
            raise InvalidContent("Invalid content format")
        content = node.get("content", [])
        if not isinstance(content, list):
            raise InvalidContent("Invalid content format")
        for child in content:
            walk(child)

    if not isinstance(doc, dict) or doc.get("type") != "doc":
        raise InvalidContent("Invalid content format")
    walk(doc)
    return doc


def to_doc(content, content_format: str) -> dict:
    """Request content in `markdown`, `html` or `json` (a dict or a JSON string) as a ProseMirror doc."""
    if content_format == "markdown":
        if not isinstance(content, str):
            raise InvalidContent("Invalid content format")
        return markdown_to_doc(content)
    if content_format == "html":
        if not isinstance(content, str):
            raise InvalidContent("Invalid content format")
        return html_to_doc(content)
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            raise InvalidContent("Invalid content format") from None
    return check_doc(content)


def _inline_markdown(nodes: list) -> str:
    out = []
    for node in nodes or []:
        if node.get("type") == "hardBreak":
            out.append("\n")
            continue
        text = node.get("text", "")
        for mark in node.get("marks", []):
            kind = mark.get("type")
            if kind == "bold":
                text = f"**{text}**"
            elif kind == "italic":
                text = f"_{text}_"
            elif kind == "code":
                text = f"`{text}`"
            elif kind == "link":
                text = f"[{text}]({mark.get('attrs', {}).get('href', '')})"
        out.append(text)
    return "".join(out)


def _cell_text(cell: dict, render_block) -> str:
    return " ".join(render_block(child) for child in cell.get("content", []))


def _table_markdown(node: dict) -> str:
    """As Docmost 0.95 exports a table: an empty header row, then every row, the real header included,
    as a body row (contracts/REAL-PEERS.md point 1). Read back as markdown, the empty row becomes the
    header and the old header a body row: each round trip adds one blank row."""
    rows = node.get("content", [])
    width = max((len(row.get("content", [])) for row in rows), default=0)
    lines = ["| " + " | ".join(["   "] * width) + " |", "| " + " | ".join(["---"] * width) + " |"]
    for row in rows:
        cells = [_cell_text(cell, _block_markdown).ljust(3) for cell in row.get("content", [])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _block_markdown(node: dict) -> str:
    kind = node.get("type")
    content = node.get("content", [])
    if kind == "table":
        return _table_markdown(node)
    if kind == "heading":
        return "#" * node.get("attrs", {}).get("level", 1) + " " + _inline_markdown(content)
    if kind == "paragraph":
        return _inline_markdown(content)
    if kind in ("bulletList", "orderedList"):
        lines = []
        for number, item in enumerate(content, start=1):
            marker = f"{number}." if kind == "orderedList" else "-"
            inner = "\n".join(_block_markdown(child) for child in item.get("content", []))
            lines.append(f"{marker} {inner}")
        return "\n".join(lines)
    if kind == "blockquote":
        return "\n".join("> " + line for line in "\n\n".join(_block_markdown(c) for c in content).split("\n"))
    if kind == "codeBlock":
        language = (node.get("attrs") or {}).get("language") or ""
        return f"```{language}\n" + "".join(c.get("text", "") for c in content) + "\n```"
    if kind == "horizontalRule":
        return "---"
    return _inline_markdown(content) if content and content[0].get("type") == "text" else ""


def doc_to_markdown(doc: dict) -> str:
    return "\n\n".join(_block_markdown(node) for node in doc.get("content", [])).strip()


def _inline_html(nodes: list) -> str:
    out = []
    for node in nodes or []:
        text = html.escape(node.get("text", ""))
        for mark in node.get("marks", []):
            kind = mark.get("type")
            if kind == "link":
                href = html.escape(mark.get("attrs", {}).get("href", ""))
                text = f'<a target="_blank" href="{href}">{text}</a>'
            else:
                tag = {"bold": "strong", "italic": "em", "code": "code"}.get(kind)
                if tag:
                    text = f"<{tag}>{text}</{tag}>"
        out.append(text)
    return "".join(out)


def _block_html(node: dict) -> str:
    kind = node.get("type")
    content = node.get("content", [])
    if kind == "table":
        rows = []
        for row in content:
            cells = []
            for cell in row.get("content", []):
                tag = "th" if cell.get("type") == "tableHeader" else "td"
                inner = "".join(_block_html(child) for child in cell.get("content", []))
                cells.append(f'<{tag} colspan="1" rowspan="1">{inner}</{tag}>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
        width = max((len(row.get("content", [])) for row in content), default=0)
        columns = '<col style="min-width: 25px;" />' * width
        return (f'<div class="tableWrapper"><table style="min-width: {25 * width}px;"><colgroup>{columns}</colgroup>'
                "<tbody>" + "".join(rows) + "</tbody></table></div>")
    if kind == "heading":
        level = node.get("attrs", {}).get("level", 1)
        return f"<h{level}>{_inline_html(content)}</h{level}>"
    if kind == "paragraph":
        return f"<p>{_inline_html(content)}</p>"
    if kind in ("bulletList", "orderedList"):
        tag = "ol" if kind == "orderedList" else "ul"
        items = "".join("<li>" + "".join(_block_html(c) for c in item.get("content", [])) + "</li>" for item in content)
        return f"<{tag}>{items}</{tag}>"
    if kind == "blockquote":
        return "<blockquote>" + "".join(_block_html(c) for c in content) + "</blockquote>"
    if kind == "codeBlock":
        return "<pre><code>" + html.escape("".join(c.get("text", "") for c in content)) + "</code></pre>"
    if kind == "horizontalRule":
        return "<hr>"
    return ""


def doc_to_html(doc: dict) -> str:
    return "".join(_block_html(node) for node in doc.get("content", []))


def render(doc: dict, content_format: str):
    if content_format == "markdown":
        return doc_to_markdown(doc)
    if content_format == "html":
        return doc_to_html(doc)
    return doc
