"""Summaries that read as the article's own opening: whole sentences, up to a length.

For now the summary is the lead of the text; a later stage may rank sentences instead.
Chinese sentences end at 。！？ (and a closing quote after them); English ones at . ! ?
followed by a space and a capital letter, so "e.g. the" and "3.5" do not end one.
"""
from __future__ import annotations

import re

_ZH_END = re.compile(r"(?<=[。！？!?；…])[”」』’\"）)]*")
_EN_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[A-Z0-9\"“(])")
_CJK = re.compile(r"[\u3400-\u9fff]")
_ABBREVIATION = re.compile(r"(?:\b(?:Dr|Mr|Mrs|Ms|Prof|Inc|Ltd|Jr|Sr|St|No|Fig|Eq|vs|etc|al|e\.g|i\.e|U\.S)|\b[A-Z])\.$")
# A line that only cites a URL ("论文地址：https://…"): the issue shows it as a link line.
_URL_LINE = re.compile(r"^[^\s]{0,16}\s*[:：]?\s*https?://\S+$")
# Bylines, account plugs and section headings: lines an editor never puts in a summary.
_BYLINE = re.compile(r"^(文|编辑|編輯|作者|来源|來源|记者|記者|撰文|编译|編譯|责编|責編|审校|出品|编者按|編者按)\s*[｜|:：丨]"
                     r"|发自|發自|公众号|公眾號|^\S{0,12}(报道|報道|编译|編譯|出品)$")
_ENDS_SENTENCE = tuple("。！？!?.…")
HEADING_CHARS = 25  # shorter unterminated lines read as headings, captions or bylines
_CLAUSE = re.compile(r"(?<=[，,；;：:、])")
# Latin text carries about a third of the information per character of Chinese; an
# English lead needs roughly twice the characters to say as much.
LATIN_FACTOR = 2


def sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences, keeping their end marks."""
    cjk = len(_CJK.findall(paragraph)) > len(paragraph) * 0.2
    pattern = _ZH_END if cjk else _EN_END
    parts: list[str] = []
    start = 0
    for match in [*pattern.finditer(paragraph), None]:
        end = match.end() if match else len(paragraph)
        piece = paragraph[start:end].strip()
        start = end
        if not piece:
            continue
        if parts and _ABBREVIATION.search(parts[-1]):  # "Dr." and "e.g." end no sentence
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts


def lead_summary(text: str, limit: int = 300, title: str | None = None) -> str:
    """The opening sentences of ``text`` up to about ``limit`` characters of Chinese."""
    paragraphs = [" ".join(p.split()) for p in text.splitlines()]
    paragraphs = [p for p in paragraphs if p and not _URL_LINE.match(p)]
    if title and paragraphs and " ".join(title.split()) == paragraphs[0]:
        paragraphs = paragraphs[1:]
    prose = [p for p in paragraphs if not _is_boilerplate(p)]
    paragraphs = prose or paragraphs
    if not paragraphs:
        return ""
    sample = "".join(paragraphs)[:500]
    if len(_CJK.findall(sample)) < len(sample) * 0.2:
        limit *= LATIN_FACTOR
    out: list[str] = []
    used = 0
    for paragraph in paragraphs:
        line: list[str] = []
        for sentence in sentences(paragraph):
            if used + len(sentence) > limit and (out or line):
                break
            if used + len(sentence) > limit * 2:
                sentence = _cut_at_clause(sentence, limit)
            line.append(sentence)
            used += len(sentence)
        else:
            if line:
                out.append(_join(line))
            continue
        if line:
            out.append(_join(line))
        break
    return "\n".join(out)


def _is_boilerplate(paragraph: str) -> bool:
    bare = paragraph.rstrip("”\"」』’)）")
    return bool(_BYLINE.search(paragraph)) or (
        len(paragraph) < HEADING_CHARS and not bare.endswith(_ENDS_SENTENCE))


def _join(parts: list[str]) -> str:
    text = ""
    for part in parts:
        if text and (text[-1].isascii() and part[:1].isascii()):
            text += " "
        text += part
    return text


def _cut_at_clause(sentence: str, limit: int) -> str:
    """A sentence far over the limit on its own: keep whole clauses up to the limit."""
    kept = ""
    for clause in _CLAUSE.split(sentence):
        if kept and len(kept) + len(clause) > limit:
            break
        kept += clause
    return kept.rstrip("，,；;：:、 ") + "…"
