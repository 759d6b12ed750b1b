"""Dates as Chinese and English sites write them: the right instant or None, never a guess."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from pipelines.analysis.dates import cn_number, from_timestamp, parse_date

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2022, 10, 20, 3, 0, tzinfo=timezone.utc)  # 11:00 in Shanghai


@pytest.mark.parametrize("text, expected", [
    ("2022年10月14日", "2022-10-14T00:00:00+08:00"),
    ("发布时间：2022年10月14日 08:30", "2022-10-14T08:30:00+08:00"),
    ("<time>2022年01月05日</time>", "2022-01-05T00:00:00+08:00"),
    ("2022年10月14日下午3:05", "2022-10-14T15:05:00+08:00"),
    ("2022/10/14 08:00", "2022-10-14T08:00:00+08:00"),
    ("2022.10.14", "2022-10-14T00:00:00+08:00"),
    ("· 2022-10-13 18:05", "2022-10-13T18:05:00+08:00"),
    ("2018-09-18 14:38:10", "2018-09-18T14:38:10+08:00"),
    ("Fri, 14 Oct 2022 07:30:00 +0800", "2022-10-14T07:30:00+08:00"),
    ("14 Oct 2022 07:30:00 GMT", "2022-10-14T07:30:00+00:00"),
    ("2022-10-11T10:01:00.002-07:00", "2022-10-11T10:01:00.002000-07:00"),
    ("2022-10-14T01:12:00Z", "2022-10-14T01:12:00+00:00"),
    ("Tuesday, October 11, 2022", "2022-10-11T00:00:00+08:00"),
    ("[Submitted on 12 Oct 2022]", "2022-10-12T00:00:00+08:00"),
    ("二〇二二年十月十四日", "2022-10-14T00:00:00+08:00"),
    ("10月14日 10:30", "2022-10-14T10:30:00+08:00"),  # no year: the latest such day
    ("12月30日", "2021-12-30T00:00:00+08:00"),  # would be in the future this year
    ("昨天 10:30", "2022-10-19T10:30:00+08:00"),
    ("3小时前", "2022-10-20T00:00:00+00:00"),
    ("刚刚", "2022-10-20T03:00:00+00:00"),
])
def test_parses(text, expected):
    assert parse_date(text, SHANGHAI, NOW) == datetime.fromisoformat(expected)


@pytest.mark.parametrize("text", ["", "hello", "2022年13月40日", "1900-01-01", "2023-01-01", "第3期", "v2.0.1"])
def test_refuses_what_it_cannot_trust(text):
    assert parse_date(text, SHANGHAI, NOW) is None


def test_never_january_first_for_a_chinese_date():
    """htmldate's failure mode: 2022年10月14日 read as 2022-01-01."""
    got = parse_date("2022年10月14日", SHANGHAI, NOW)
    assert (got.month, got.day) == (10, 14)


def test_naive_times_read_in_the_sources_zone():
    got = parse_date("2022-10-14 00:00:00", ZoneInfo("America/New_York"), NOW)
    assert got.astimezone(timezone.utc).isoformat() == "2022-10-14T04:00:00+00:00"


def test_with_year_skips_relative_and_yearless_forms():
    assert parse_date("3小时前", SHANGHAI, NOW, with_year=True) is None
    assert parse_date("10月14日", SHANGHAI, NOW, with_year=True) is None
    assert parse_date("于2022年10月14日发布", SHANGHAI, NOW, with_year=True).day == 14


@pytest.mark.parametrize("text, value", [("二〇二二", 2022), ("十", 10), ("十四", 14), ("二十", 20),
                                         ("三十一", 31), ("九", 9), ("x", None)])
def test_chinese_numerals(text, value):
    assert cn_number(text) == value


def test_timestamps():
    assert from_timestamp("1665709920") == datetime(2022, 10, 14, 1, 12, tzinfo=timezone.utc)
    assert from_timestamp(1665655500000) == datetime(2022, 10, 13, 10, 5, tzinfo=timezone.utc)
    assert from_timestamp("0") is None and from_timestamp("abc") is None
