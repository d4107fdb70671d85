"""Render a report, built as a list of blocks, to Markdown and to self-contained HTML; read a notes
file (a small Markdown subset) as blocks.

Text in paragraphs and list items may use ``**bold**`` and ```code``` spans; everything else
is escaped. HTML embeds each PNG as a base64 data URI, so the file can be mailed alone.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union


@dataclass
class Heading:
    level: int
    text: str


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    align_right: set[int] = field(default_factory=set)  # column indices holding numbers


@dataclass
class Image:
    path: str  # relative to the report's folder
    alt: str


Block = Union[Heading, Para, Bullets, Table, Image]


# ----------------------------------------------------------------------------- Markdown


def _md_cell(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: list[Block]) -> str:
    """Markdown with pipe tables and image links relative to the report."""
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {b.text}\n")
        elif isinstance(b, Para):
            out.append(b.text + "\n")
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {i}" for i in b.items) + "\n")
        elif isinstance(b, Table):
            if b.caption:
                out.append(f"*{b.caption}*\n")
            head = "| " + " | ".join(_md_cell(c) for c in b.columns) + " |"
            rule = "|" + "|".join("---:" if i in b.align_right else "---" for i in range(len(b.columns))) + "|"
            body = ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b.rows]
            out.append("\n".join([head, rule, *body]) + "\n")
        elif isinstance(b, Image):
            out.append(f"![{b.alt}]({b.path})\n")
    return "\n".join(out)


# ----------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #ddd;padding-bottom:.2em} h2{border-bottom:1px solid #eee;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.88em} th,td{border:1px solid #ddd;padding:3px 8px}
th{background:#f4f4f4;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(even) td{background:#fafafa} caption{caption-side:top;text-align:left;font-style:italic;color:#555;
padding-bottom:.3em} code{background:#f3f3f3;padding:0 3px;border-radius:3px} img{max-width:100%;
border:1px solid #eee;margin:.5em 0}
"""


def _inline(text: str) -> str:
    s = html.escape(text)
    s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)


def to_html(blocks: list[Block], title: str, base_dir: Path) -> str:
    """One HTML page; images are read from `base_dir` and embedded as data URIs."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
    ]
    for b in blocks:
        if isinstance(b, Heading):
            anchor = re.sub(r"[^a-z0-9]+", "-", b.text.lower()).strip("-")
            out.append(f'<h{b.level} id="{anchor}">{_inline(b.text)}</h{b.level}>')
        elif isinstance(b, Para):
            out.append(f"<p>{_inline(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            cap = f"<caption>{_inline(b.caption)}</caption>" if b.caption else ""
            head = "".join(f"<th>{html.escape(str(c))}</th>" for c in b.columns)
            body = "".join(
                "<tr>"
                + "".join(
                    f"<td{' class=num' if i in b.align_right else ''}>{_inline(str(c))}</td>" for i, c in enumerate(r)
                )
                + "</tr>"
                for r in b.rows
            )
            out.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif isinstance(b, Image):
            data = base64.b64encode((base_dir / b.path).read_bytes()).decode("ascii")
            out.append(f'<figure><img alt="{html.escape(b.alt)}" src="data:image/png;base64,{data}"></figure>')
    out.append("</body></html>")
    return "\n".join(out)


# ----------------------------------------------------------------------------- notes file


def _pipe_cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [c.strip().replace("\\|", "|") for c in cells]


def _pipe_table(lines: list[str]) -> Table:
    """A Markdown pipe table (header, rule, rows); a rule cell ending in ':' right-aligns its column."""
    rule = _pipe_cells(lines[1])
    return Table(
        _pipe_cells(lines[0]),
        [_pipe_cells(ln) for ln in lines[2:]],
        "",
        {i for i, c in enumerate(rule) if c.endswith(":")},
    )


def notes_blocks(text: str) -> list[Block]:
    """A small Markdown file (paragraphs, '- ' lists, '## ' headings, pipe tables) as report blocks."""
    blocks: list[Block] = []
    for chunk in [c.strip() for c in text.split("\n\n") if c.strip()]:
        lines = chunk.splitlines()
        if chunk.startswith("#"):
            blocks.append(Heading(3, chunk.lstrip("#").strip()))
        elif len(lines) >= 2 and all(ln.startswith("|") for ln in lines) and set(lines[1]) <= set("|-: "):
            blocks.append(_pipe_table(lines))
        elif all(line.startswith("- ") or line.startswith("  ") for line in lines):
            items, current = [], []
            for line in lines:
                if line.startswith("- ") and current:
                    items.append(" ".join(current))
                    current = []
                current.append(line[2:].strip() if line.startswith("- ") else line.strip())
            items.append(" ".join(current))
            blocks.append(Bullets(items))
        else:
            blocks.append(Para(" ".join(line.strip() for line in lines)))
    return blocks
