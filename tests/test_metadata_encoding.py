"""Decoding in w3lib's order (mark, header, page declaration, guess) with the Chinese repairs
only where the bytes contradict the declaration."""
from __future__ import annotations

import codecs

import pytest

from pipelines.analysis.encoding import _multibyte, _wide, chinese_share, decode_html

# Running text of our own, long enough for the share of common characters to tell.
SIMPLIFIED = "研究团队发布了一款面向端侧推理的芯片，功耗很低，可以在手机和汽车上运行大模型。" * 3
TRADITIONAL = "研究團隊發布了一款面向端側推理的晶片，功耗很低，可以在手機和汽車上運行大模型。" * 3


def page(text: str, meta: str = "") -> str:
    return f"<html><head>{meta}<title>t</title></head><body><p>{text}</p></body></html>"


@pytest.mark.parametrize("mark, codec", [
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF8, "utf-8"),
])
def test_a_byte_order_mark_decides(mark, codec):
    """UTF-32 LE's mark begins with UTF-16 LE's: it must be read as UTF-32, not UTF-16."""
    body = mark + page(SIMPLIFIED).encode(codec)
    text, used = decode_html(body, "text/html; charset=gbk")
    assert SIMPLIFIED in text and not text.startswith("\ufeff")
    assert used == codec


def test_a_short_declared_gb2312_page_stays_gb2312_not_a_big5_guess():
    body = page("端侧模型").encode("gb2312")
    text, used = decode_html(body, "text/html; charset=gb2312")
    assert "端侧模型" in text and used == "gb18030"


def test_one_bad_byte_does_not_hand_a_declared_gb18030_page_to_a_guess():
    body = page("Edge inference notes, part two. " * 20).encode("ascii")
    body = body.replace(b"part two", b"part \xff two", 1)
    text, used = decode_html(body, "text/html; charset=gb18030")
    assert used == "gb18030" and "Edge inference notes" in text


def test_a_declared_western_charset_over_gbk_bytes_is_repaired():
    body = page(SIMPLIFIED).encode("gbk")
    text, used = decode_html(body, "text/html; charset=iso-8859-1")
    assert SIMPLIFIED in text and used == "gb18030"


def test_a_declared_gb2312_over_big5_bytes_is_repaired():
    body = page(TRADITIONAL, "<meta charset='gb2312'>").encode("big5")
    text, used = decode_html(body)
    assert TRADITIONAL in text and used == "big5hkscs"


def test_valid_utf8_text_beats_a_declared_legacy_charset():
    body = page(SIMPLIFIED, "<meta charset='gbk'>").encode("utf-8")
    text, used = decode_html(body, "text/html; charset=iso-8859-1")
    assert SIMPLIFIED in text and used == "utf-8"


def test_a_true_western_declaration_is_kept():
    words = "Le café du coin publie une étude sur les puces basse consommation. " * 4
    body = page(words).encode("cp1252")
    text, used = decode_html(body, "text/html; charset=windows-1252")
    assert words in text and used == "cp1252"


@pytest.mark.parametrize("declared", ["utf-16", "base64", "rot13", "x-no-such-charset", "unicode_escape"])
def test_declarations_that_are_no_usable_charset_are_passed_over(declared):
    body = page(SIMPLIFIED, f"<meta charset='{declared}'>").encode("utf-8")
    text, used = decode_html(body)
    assert SIMPLIFIED in text and used == "utf-8"


@pytest.mark.parametrize("text, multibyte, wide", [
    ("", 0, 0),
    ("plain ascii\n", 0, 0),
    ("中\u3000a\xa0文\u2028", 5, 2),  # ideographic space, no-break space, line separator: not wide
    ("é\ufffd\U0001f600", 3, 3),
    ("中" * 20005 + "文", 20000, 20000),  # only the first 20,000 characters are counted
])
def test_the_counts_behind_the_utf8_and_chinese_checks(text, multibyte, wide):
    """Non-ASCII characters, and those of them that are not white space (``str.isspace``),
    among the first 20,000: what decide UTF-8 over a declaration and a Chinese repair."""
    assert _multibyte(text) == multibyte
    assert _wide(text) == wide


@pytest.mark.parametrize("text, share", [
    ("", 0.0),
    ("ascii only, 123\n", 0.0),
    ("的\u3000是\xa0é\u2028", 2 / 3),  # the spaces are not counted; é is wide and not Chinese
    ("芯片" + "鑫" * 2, 0.5),  # 鑫 is Chinese but not among the common characters
    ("锘挎柊鍗庣ぞ", 0.0),  # UTF-8 Chinese read as GBK: mojibake hits none
])
def test_the_share_of_common_chinese_among_the_wide_characters(text, share):
    """What tells Chinese read in the right codec from mojibake: the common characters'
    share of the characters that are neither ASCII nor white space, over the whole text."""
    assert chinese_share(text) == pytest.approx(share)
    assert chinese_share("x" * 30000 + text) == pytest.approx(share)
