"""Markdown as blocks of lines of runs, from markdown-it-py's CommonMark tokens.

The layout readers never look at Markdown syntax themselves: headings, paragraphs, list
items, code fences, tables and blockquotes come from the parser, and each line of a block
is a list of runs (text with the link it sits in, whether it is bold, or an image). So a
``#`` line inside a code fence, a numbered list in a body or a table row never reads as
an item, and ``[title](url)`` is a link however it is escaped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

_IMG_SRC = re.compile(r"""<img\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n.*?\n---[ \t]*\n", re.DOTALL)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table")
    # Keep URLs as written: the archive's canonical form is made later, and percent-encoding
    # here would change a URL that round-trips through an export.
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    return md


_MD = _parser()


@dataclass(slots=True)
class Run:
    text: str
    href: str | None = None
    strong: bool = False
    image: str | None = None
    markup: bool = False  # emphasis or code markers, kept only where text is kept as written


@dataclass(slots=True)
class Line:
    number: int  # 1-based line of the file where the block starts (a good enough pointer for a warning)
    runs: list[Run] = field(default_factory=list)

    def text(self, markup: bool = False) -> str:
        return "".join(r.text for r in self.runs if markup or not r.markup).strip()

    def links(self) -> list[tuple[str, str]]:
        """(link text, href) of each link on the line, in order."""
        found: list[tuple[str, str]] = []
        previous: str | None = None  # the link of the last text run: a link split by bold is one link
        for run in self.runs:
            if run.markup:
                continue
            if run.href is not None:
                if previous == run.href and found:
                    found[-1] = (found[-1][0] + run.text, run.href)
                else:
                    found.append((run.text, run.href))
            previous = run.href
        return [(label.strip(), href) for label, href in found]

    def images(self) -> list[str]:
        return [r.image for r in self.runs if r.image]


@dataclass(slots=True)
class Block:
    kind: str  # heading | paragraph | item (a list item's first paragraph) | fence | table | html | hr
    line: int
    raw: str = ""  # the block's source text
    level: int = 0  # heading level
    quoted: bool = False
    ordered: bool = False
    number: int | None = None  # an ordered list item's number
    depth: int = 0  # list nesting: 0 outside lists
    lines: list[Line] = field(default_factory=list)
    rows: list[list[Line]] = field(default_factory=list)  # a table's rows of cells, header first

    def text(self, markup: bool = False) -> str:
        return "\n".join(line.text(markup) for line in self.lines).strip()

    def links(self) -> list[tuple[str, str]]:
        return [link for line in self.lines for link in line.links()]

    def images(self) -> list[str]:
        return [image for line in self.lines for image in line.images()]


def strip_front_matter(text: str) -> tuple[str, int]:
    """The text without YAML front matter, and how many lines were cut."""
    text = text.lstrip("\ufeff")
    found = _FRONT_MATTER.match(text)
    if not found:
        return text, 0
    return text[found.end():], found.group(0).count("\n")


def blocks(text: str) -> list[Block]:
    """The file's blocks in order (see the module docstring)."""
    body, offset = strip_front_matter(text)
    source = body.splitlines()
    out: list[Block] = []
    quotes = 0
    lists: list[bool] = []  # ordered?
    first_in_item = False
    number: int | None = None
    pending: Block | None = None
    table: Block | None = None
    for token in _MD.parse(body):
        kind = token.type
        start = (token.map[0] if token.map else 0)
        raw = "\n".join(source[token.map[0]:token.map[1]]) if token.map else ""
        if kind == "blockquote_open":
            quotes += 1
        elif kind == "blockquote_close":
            quotes -= 1
        elif kind in ("bullet_list_open", "ordered_list_open"):
            lists.append(kind == "ordered_list_open")
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            first_in_item = True
            number = int(token.info) if lists and lists[-1] and token.info.isdigit() else None
        elif kind == "heading_open":
            pending = Block("heading", start + 1 + offset, raw, level=int(token.tag[1]), quoted=quotes > 0,
                            depth=len(lists))
        elif kind == "paragraph_open":
            as_item = first_in_item and bool(lists)
            pending = Block("item" if as_item else "paragraph", start + 1 + offset, raw, quoted=quotes > 0,
                            ordered=as_item and lists[-1], number=number if as_item else None, depth=len(lists))
            first_in_item = False
        elif kind == "table_open":
            table = Block("table", start + 1 + offset, raw, quoted=quotes > 0, depth=len(lists))
        elif kind == "tr_open" and table is not None:
            table.rows.append([])
        elif kind == "table_close" and table is not None:
            out.append(table)
            table = None
        elif kind == "inline":
            lines = _lines(token.children or [], start + 1 + offset)
            if table is not None:
                table.rows[-1].append(lines[0] if lines else Line(start + 1 + offset))
            elif pending is not None:
                pending.lines = lines
                out.append(pending)
                pending = None
        elif kind in ("fence", "code_block"):
            first_in_item = False
            out.append(Block("fence", start + 1 + offset, raw, quoted=quotes > 0, depth=len(lists),
                             lines=[Line(start + 1 + offset, [Run(token.content)])]))
        elif kind == "html_block":
            first_in_item = False
            images = [Run("", image=src) for src in _IMG_SRC.findall(token.content)]
            out.append(Block("html", start + 1 + offset, raw, quoted=quotes > 0, depth=len(lists),
                             lines=[Line(start + 1 + offset, images)]))
        elif kind == "hr":
            out.append(Block("hr", start + 1 + offset, raw))
    return out


def _lines(children: list[Token], number: int) -> list[Line]:
    lines = [Line(number)]
    href: str | None = None
    strong = 0
    for child in children:
        kind = child.type
        if kind in ("softbreak", "hardbreak"):
            number += 1
            lines.append(Line(number))
        elif kind == "link_open":
            href = str(child.attrs.get("href", ""))
        elif kind == "link_close":
            href = None
        elif kind in ("strong_open", "strong_close"):
            strong += 1 if kind == "strong_open" else -1
            lines[-1].runs.append(Run(child.markup, href, strong > 0, markup=True))
        elif kind in ("em_open", "em_close"):
            lines[-1].runs.append(Run(child.markup, href, strong > 0, markup=True))
        elif kind == "code_inline":
            lines[-1].runs.append(Run(child.markup, href, strong > 0, markup=True))
            lines[-1].runs.append(Run(child.content, href, strong > 0))
            lines[-1].runs.append(Run(child.markup, href, strong > 0, markup=True))
        elif kind == "image":
            lines[-1].runs.append(Run("", href, strong > 0, image=str(child.attrs.get("src", ""))))
        elif kind == "html_inline":
            if _BR.fullmatch(child.content.strip()):
                number += 1
                lines.append(Line(number))
            for src in _IMG_SRC.findall(child.content):
                lines[-1].runs.append(Run("", href, image=src))
        else:  # text, text_special joined into text, entities already decoded
            lines[-1].runs.append(Run(child.content, href, strong > 0))
    return lines
