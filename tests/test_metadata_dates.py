"""Dates on pages and in feeds we have never seen: relative phrases against the fetch time,
half-day words before an hour, zone names, asctime, and phrases that are no date at all."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from pipelines.analysis.dates import FORMATS, feed_date, parse_date

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
FETCHED = datetime(2023, 3, 31, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai, the last of March


@pytest.mark.parametrize("text, expected", [
    ("半小时前", "2023-03-31T11:30:00+08:00"),
    ("约半小时前发布", "2023-03-31T11:30:00+08:00"),
    ("2 年前", "2021-03-31T12:00:00+08:00"),
    ("12 個月前", "2022-03-31T12:00:00+08:00"),
    ("1个月前", "2023-02-28T12:00:00+08:00"),  # no February 31st: the month's last day
    ("两周前", "2023-03-17T12:00:00+08:00"),
    ("1天3小时前", "2023-03-30T09:00:00+08:00"),
    ("5 分钟前", "2023-03-31T11:55:00+08:00"),
    ("十五分鐘前", "2023-03-31T11:45:00+08:00"),
    ("3 hours ago", "2023-03-31T09:00:00+08:00"),
    ("a day ago", "2023-03-30T12:00:00+08:00"),
    ("刚刚", "2023-03-31T12:00:00+08:00"),
])
def test_relative_dates_resolve_against_the_fetch_time(text, expected):
    assert parse_date(text, SHANGHAI, FETCHED) == datetime.fromisoformat(expected)


@pytest.mark.parametrize("text", [
    "小时分钟秒前",          # units with no amounts
    "5秒3小时前",           # smaller unit before a larger one
    "3小时2小时前",         # the same unit twice
    "几天前",               # "a few days ago": no instant
    "日前",                 # "recently"
    "1000年前",             # a history phrase, not a publication time
    "数月前",
    "years ago",
])
def test_phrases_that_are_no_date_give_none_never_now(text):
    assert parse_date(text, SHANGHAI, FETCHED) is None


@pytest.mark.parametrize("text, expected", [
    ("2016年9月14日晚8:00", "2016-09-14T20:00:00+08:00"),
    ("2016年9月14日 晚上8点30分", "2016-09-14T20:30:00+08:00"),
    ("2019年6月1日中午1:15", "2019-06-01T13:15:00+08:00"),
    ("2019年6月1日中午12:15", "2019-06-01T12:15:00+08:00"),
    ("2019年6月1日凌晨12:40", "2019-06-01T00:40:00+08:00"),
    ("2019年6月1日上午9:05", "2019-06-01T09:05:00+08:00"),
    ("2019-06-01 傍晚6:00", "2019-06-01T18:00:00+08:00"),
    ("June 1, 2019 7:45 p.m.", "2019-06-01T19:45:00+08:00"),
])
def test_half_day_words_set_the_hour(text, expected):
    assert parse_date(text, SHANGHAI, FETCHED) == datetime.fromisoformat(expected)


@pytest.mark.parametrize("text, expected", [
    ("Tue, 07 Mar 2017 09:10:00 PT", "2017-03-07T17:10:00+00:00"),
    ("Tue, 07 Mar 2017 09:10:00 ET", "2017-03-07T14:10:00+00:00"),
    ("Tue, 07 Mar 2017 09:10:00 CT", "2017-03-07T15:10:00+00:00"),
    ("Tue, 07 Mar 2017 09:10:00 MT", "2017-03-07T16:10:00+00:00"),
    ("Tue, 07 Mar 2017 09:10:00 AT", "2017-03-07T13:10:00+00:00"),
    ("Tue, 07 Mar 2017 09:10:00 MET", "2017-03-07T08:10:00+00:00"),
    ("Tue, 07 Mar 2017 09:10:00 MEST", "2017-03-07T07:10:00+00:00"),
    ("Tue, 07 Mar 2017 09:10:00 -02:30", "2017-03-07T11:40:00+00:00"),
    ("Tue, 07 Mar 17 09:10:00 GMT", "2017-03-07T09:10:00+00:00"),  # two-digit year, RFC 2822 4.3
    ("Tue Mar  7 09:10:00 2017", "2017-03-07T01:10:00+00:00"),  # asctime: no zone, the source's
    ("Mar 7, 2017 9:10 am EST", "2017-03-07T14:10:00+00:00"),
])
def test_zone_names_and_asctime(text, expected):
    got = parse_date(text, SHANGHAI, FETCHED)
    assert got is not None and got.astimezone(timezone.utc) == datetime.fromisoformat(expected)


def test_a_zone_name_the_source_uses_means_the_sources_zone():
    """CST on a Chinese site is China Standard Time, on an American one Central time."""
    text = "Fri, 10 Mar 2023 08:00:00 CST"
    assert parse_date(text, SHANGHAI, FETCHED).utcoffset().total_seconds() == 8 * 3600
    assert parse_date(text, NEW_YORK, FETCHED).utcoffset().total_seconds() == -6 * 3600


def test_the_format_table_is_ordered_and_named_once():
    names = [form.name for form in FORMATS]
    assert len(names) == len(set(names))
    # Forms without a written year come after every form with one: with_year stops there.
    years = [form.written_year for form in FORMATS]
    assert years == sorted(years, reverse=True)
    assert parse_date("3小时前", SHANGHAI, FETCHED, with_year=True) is None


def _struct(text: str) -> time.struct_time:
    return time.strptime(text, "%Y-%m-%dT%H:%M:%S")


@pytest.mark.parametrize("raw, parsed, expected", [
    # feedparser read the zone name: its reading stands.
    ("Tue, 07 Mar 2017 09:10:00 PT", _struct("2017-03-07T17:10:00"), "2017-03-07T17:10:00+00:00"),
    ("Sun Jan  4 16:29:06 2004", _struct("2004-01-04T16:29:06"), "2004-01-04T16:29:06+00:00"),
    # Chinese text: feedparser's "current month" is refused, our reading is taken.
    ("2022年10月14日 08:30", _struct("2023-03-01T00:00:00"), "2022-10-14T00:30:00+00:00"),
    # ISO with no zone: the source's zone, not UTC.
    ("2022-10-14 08:30:00", _struct("2022-10-14T08:30:00"), "2022-10-14T00:30:00+00:00"),
    # A year feedparser did not find in the text: not its reading.
    ("Friday 14/10/22", _struct("2023-03-01T00:00:00"), None),
    # Its "current month" for a slashed date that names the year: ours.
    ("2022/10/13 20:30", _struct("2023-03-01T00:00:00"), "2022-10-13T12:30:00+00:00"),
    # A form we do not read, whose year, month and day feedparser found as written: its reading.
    ("2017년 3월 7일 09:10:00", None, None),
    ("Dienstag 2017.03.07 09:10", _struct("2017-03-07T09:10:00"), "2017-03-07T01:10:00+00:00"),
    # feedparser had nothing: ours.
    ("3小时前", None, "2023-03-31T01:00:00+00:00"),
])
def test_feed_dates_take_feedparsers_reading_where_it_holds(raw, parsed, expected):
    got = feed_date(raw, parsed, SHANGHAI, FETCHED)
    assert (got.astimezone(timezone.utc).isoformat() if got else None) == expected
