"""Dates as Chinese and English news sites and their feeds write them.

htmldate and trafilatura read ``2022年10月14日`` as 2022-01-01 without complaint, and
feedparser replaces a date it cannot read with the current month; so every date that
decides where an article goes passes through :func:`parse_date`, which returns the right
instant or None, never a guess. Naive times are read in the source's time zone.

The forms are one table, :data:`FORMATS`, tried in order: whole-string forms (ISO 8601,
RFC 822, asctime) first, then dates found inside running text, most explicit first; forms
that do not spell out a year (``10月14日``, ``3小时前``, ``昨天``) come last, so that
``with_year`` can stop before them. Feed entries go through :func:`feed_date`, which takes
feedparser's own reading where it can be trusted.
"""
from __future__ import annotations

import re
import time as time_module
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from pipelines.analysis.text import CJK

_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3,
              "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = "〇零○Ｏ一二两兩三四五六七八九十"

_MONTH_NAMES = [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
                ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
                ("oct", "october"), ("nov", "november"), ("dec", "december")]
_MONTHS = {name: n for n, names in enumerate(_MONTH_NAMES, start=1) for name in names}
_MONTH = "(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + ")"

# Zone names as feeds and English pages write them, hours east of UTC: RFC 822's names,
# the single-letter military zones RFC 822 lists (5.1), and the short names feeds use
# beside them (AT, ET, CT, MT, PT, MET, MEST). A name that the source's own zone uses at
# that instant means that zone: "CST" on a Shanghai site is China time, not US Central.
ZONE_NAMES: dict[str, float] = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1,
    "ADT": -3, "AST": -4, "AT": -4, "EDT": -4, "EST": -5, "ET": -5, "CDT": -5, "CST": -6, "CT": -6,
    "MDT": -6, "MST": -7, "MT": -7, "PDT": -7, "PST": -8, "PT": -8, "AKDT": -8, "AKST": -9,
    "HST": -10, "MET": 1, "MEST": 2, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3,
    "JST": 9, "KST": 9, "HKT": 8, "SGT": 8, "IST": 5.5,
    "A": -1, "N": 1, "M": -12, "Y": 12,
}
_ZONE = r"(?P<zone>[+-]\d{2}(?::?\d{2})?|" + "|".join(sorted(ZONE_NAMES, key=len, reverse=True)) + r")"

# Words before an hour that say which half of the day it is in. 晚8:00 is 20:00; 中午1点 is 13:00.
_AFTERNOON = ("下午", "晚上", "傍晚", "夜里", "夜間", "夜间", "晚", "pm")
_MORNING_12 = ("凌晨", "午夜", "am")
_HALF_DAY = "上午|下午|晚上|傍晚|夜里|夜間|夜间|凌晨|中午|早上|早晨|午夜|晚|早"

_TIME = (r"(?:\s*(?:T|\s)?\s*(?P<ampm>" + _HALF_DAY + r")?\s*(?P<H>\d{1,2})"
         r"(?:[:：时時點点](?P<M>\d{1,2})(?:[:：分](?P<S>\d{1,2})(?:\.\d+)?)?)?"
         r"(?:\s*(?P<ap>[AaPp]\.?[Mm]\.?))?(?:\s*" + _ZONE + r"\b)?)?")


def cn_number(text: str) -> int | None:
    """A number in Chinese numerals: digit by digit (二〇二二) or with tens (十四, 二十)."""
    if not text:
        return None
    if "十" in text:
        tens, _, units = text.partition("十")
        value = (_CN_DIGITS.get(tens, -100) if tens else 1) * 10 + (_CN_DIGITS.get(units, -100) if units else 0)
        return value if value >= 0 else None
    digits = [_CN_DIGITS.get(ch) for ch in text]
    if any(d is None for d in digits):
        return None
    return int("".join(str(d) for d in digits))


@dataclass(slots=True)
class _Context:
    tz: tzinfo
    now: datetime  # aware

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.tz)


def _zone(name: str | None, tz: tzinfo, day: datetime) -> tzinfo | None:
    """The zone a written name or offset stands for (``day``, naive, is the instant it is
    read at), the source's zone when none is written, None when it is no zone."""
    name = (name or "").strip()
    if not name:
        return tz
    if name[0] in "+-":
        digits = name[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            return None
        sign = -1 if name[0] == "-" else 1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        if tz.tzname(day) == name.upper():
            return tz
    except (OverflowError, ValueError):
        pass
    offset = ZONE_NAMES.get(name.upper())
    return None if offset is None else timezone(timedelta(hours=offset))


def _clock(match: re.Match) -> time | None:
    groups = match.groupdict()
    if groups.get("H") is None:
        return time(0, 0)
    hour, minute, second = int(groups["H"]), int(groups.get("M") or 0), int(groups.get("S") or 0)
    marker = (groups.get("ampm") or "") + (groups.get("ap") or "").lower().replace(".", "")
    if marker.endswith(_AFTERNOON) and hour < 12:
        hour += 12
    elif marker == "中午" and hour < 11:
        hour += 12
    elif marker.endswith(_MORNING_12) and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second)


def _build(year: int, month: int, day: int, match: re.Match, tz: tzinfo) -> datetime | None:
    try:
        day_ = date(year, month, day)
    except ValueError:
        return None
    clock = _clock(match)
    if clock is None:
        return None
    naive = datetime.combine(day_, clock)
    zone = _zone(match.groupdict().get("zone"), tz, naive)
    return naive.replace(tzinfo=zone) if zone is not None else None


def _year(text: str) -> int:
    """A four-digit year, or a two-digit one as RFC 2822 4.3 reads it."""
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 50 else 1900
    return year


# --- the readers, one per form ---------------------------------------------------------

def _read_iso(match: re.Match, ctx: _Context) -> datetime | None:
    try:
        moment = datetime.fromisoformat(match.group(0).strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=ctx.tz)


def _read_numeric(match: re.Match, ctx: _Context) -> datetime | None:
    return _build(_year(match["y"]), int(match["m"]), int(match["d"]), match, ctx.tz)


def _read_named_month(match: re.Match, ctx: _Context) -> datetime | None:
    return _build(_year(match["y"]), _MONTHS[match["mon"].lower()], int(match["d"]), match, ctx.tz)


def _read_chinese_numerals(match: re.Match, ctx: _Context) -> datetime | None:
    year, month, day = cn_number(match["y"]), cn_number(match["m"]), cn_number(match["d"])
    if None in (year, month, day):
        return None
    return _build(year, month, day, match, ctx.tz)


def _read_month_day(match: re.Match, ctx: _Context) -> datetime | None:
    """No year written: the latest such day that is not in the future."""
    for year in (ctx.local_now.year, ctx.local_now.year - 1):
        moment = _build(year, int(match["m"]), int(match["d"]), match, ctx.tz)
        if moment is not None and moment <= ctx.now + timedelta(days=1):
            return moment
    return None


def _read_just_now(match: re.Match, ctx: _Context) -> datetime | None:
    return ctx.now


# Units of a relative date, largest first, with their length; months and years are counted
# on the calendar.
_UNITS = {"年": "years", "个月": "months", "個月": "months", "月": "months", "周": "weeks", "週": "weeks",
          "星期": "weeks", "礼拜": "weeks", "禮拜": "weeks", "天": "days", "日": "days",
          "小时": "hours", "小時": "hours", "钟头": "hours", "鐘頭": "hours",
          "分钟": "minutes", "分鐘": "minutes", "分": "minutes", "秒钟": "seconds", "秒鐘": "seconds", "秒": "seconds",
          "year": "years", "month": "months", "week": "weeks", "day": "days", "hour": "hours",
          "minute": "minutes", "min": "minutes", "second": "seconds", "sec": "seconds"}
_ORDER = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
# Furthest back a relative date is believed: past this it is a phrase about something else.
_MAX_BACK = {"years": 30, "months": 360, "weeks": 1560, "days": 11000, "hours": 24 * 11000,
             "minutes": 60 * 24 * 11000, "seconds": 3600 * 24 * 11000}
_CN_UNIT = "|".join(sorted((u for u in _UNITS if not u.isascii()), key=len, reverse=True))
_CN_AMOUNT = r"(?:\d+|[零〇一二两兩三四五六七八九十]+|半)\s*(?:个|個)?\s*"
_CN_STEP = re.compile(r"(?P<n>\d+|[零〇一二两兩三四五六七八九十]+|半)\s*(?:个|個)?\s*(?P<unit>" + _CN_UNIT + r")")
_EN_STEP = re.compile(r"(?P<n>\d+|an?|one|half an?)\s+(?P<unit>year|month|week|day|hour|minute|min|second|sec)s?\b",
                      re.IGNORECASE)


def _months_back(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def _read_relative(match: re.Match, ctx: _Context) -> datetime | None:
    """``3小时前``, ``半小时前``, ``1年2个月前``, ``2 hours ago``: the fetch time less the
    span. Units must run from larger to smaller, each once; any other run is no date."""
    run = match["run"]
    step = _EN_STEP if run.isascii() else _CN_STEP
    amounts: dict[str, float] = {}
    at, last = 0, -1
    for part in step.finditer(run):
        if run[at:part.start()].strip(" ,，"):
            return None
        at = part.end()
        unit = _UNITS.get(part["unit"].lower()) or _UNITS.get(part["unit"].lower().rstrip("s"))
        if unit is None or _ORDER.index(unit) <= last:
            return None
        last = _ORDER.index(unit)
        raw = part["n"].lower()
        if raw.startswith("half") or raw == "半":
            amount: float | None = 0.5
        elif raw.isdigit():
            amount = int(raw)
        elif raw in ("a", "an", "one"):
            amount = 1
        else:
            amount = cn_number(raw)
        if amount is None or amount > _MAX_BACK[unit]:
            return None
        amounts[unit] = amount
    if not amounts or run[at:].strip(" ,，"):
        return None
    moment = ctx.now.astimezone(ctx.tz)
    months = amounts.pop("years", 0) * 12 + amounts.pop("months", 0)
    whole = int(months)
    if whole:
        moment = _months_back(moment, whole)
    if months - whole:  # half a month or a year's half: days on the calendar
        moment -= timedelta(days=15 * (months - whole) / 0.5)
    return moment - timedelta(**amounts)


def _read_day_word(match: re.Match, ctx: _Context) -> datetime | None:
    back = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}[match["word"]]
    day = (ctx.local_now - timedelta(days=back)).date()
    clock = _clock(match)
    if clock is None:
        return None
    return datetime.combine(day, clock, tzinfo=ctx.tz)


@dataclass(frozen=True, slots=True)
class DateFormat:
    """One way of writing a date. ``whole``: the pattern must be the whole text, and a
    reading that fails lets the next form try; otherwise the first form found in the text
    decides (a ``2022-13-40`` is no date, not a cue to look for another).
    ``written_year``: the form spells out its year (see ``parse_date(with_year=...)``)."""

    name: str
    pattern: re.Pattern
    read: Callable[[re.Match, _Context], datetime | None]
    written_year: bool = True
    whole: bool = False


FORMATS: tuple[DateFormat, ...] = (
    DateFormat("iso-8601", re.compile(
        r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*(?:[Zz]|[+-]\d{2}:?\d{2}))?)?"),
        _read_iso, whole=True),
    DateFormat("rfc-822", re.compile(
        r"(?:[A-Za-z]{3,9},?\s+)?(?P<d>\d{1,2})\s+" + _MONTH + r"\.?,?\s+(?P<y>\d{4}|\d{2})\s+"
        r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\s*" + _ZONE + r")?", re.IGNORECASE),
        _read_named_month, whole=True),
    DateFormat("asctime", re.compile(
        r"(?:[A-Za-z]{3},?\s+)?" + _MONTH + r"\s+(?P<d>\d{1,2})\s+(?P<H>\d{1,2}):(?P<M>\d{2}):(?P<S>\d{2})"
        r"(?:\s+" + _ZONE + r")?\s+(?P<y>\d{4})", re.IGNORECASE),
        _read_named_month, whole=True),
    DateFormat("numeric", re.compile(
        r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?P<sep>[-/.年])\s*(?P<m>\d{1,2})\s*(?:(?P=sep)|月)\s*(?P<d>\d{1,2})"
        r"(?!\d)\s*[日号號]?" + _TIME), _read_numeric),
    DateFormat("chinese-numerals", re.compile(
        rf"(?P<y>[{_CN_NUMBER}]{{4}})年(?P<m>[{_CN_NUMBER}]{{1,3}})月(?P<d>[{_CN_NUMBER}]{{1,3}})[日号號]"),
        _read_chinese_numerals),
    DateFormat("month-day-year", re.compile(
        r"\b" + _MONTH + r"\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{2})\b" + _TIME,
        re.IGNORECASE), _read_named_month),
    DateFormat("day-month-year", re.compile(
        r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r"\.?,?\s+(?P<y>(?:19|20)\d{2})\b" + _TIME,
        re.IGNORECASE), _read_named_month),
    DateFormat("month-day", re.compile(r"(?<![\d年])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号號]" + _TIME),
               _read_month_day, written_year=False),
    DateFormat("just-now", re.compile(r"刚刚|剛剛|\bjust now\b", re.IGNORECASE), _read_just_now, written_year=False),
    DateFormat("relative", re.compile(
        r"(?P<run>(?:" + _CN_AMOUNT + r"(?:" + _CN_UNIT + r")\s*[,，]?\s*)+)(?:之|以)?前"),
        _read_relative, written_year=False),
    DateFormat("relative-english", re.compile(
        r"\b(?P<run>(?:(?:\d+|an?|one|half an?)\s+(?:year|month|week|day|hour|minute|min|second|sec)s?,?\s*"
        r"(?:and\s+)?)+)ago\b", re.IGNORECASE), _read_relative, written_year=False),
    DateFormat("day-word", re.compile(r"(?P<word>今天|今日|昨天|昨日|前天)" + _TIME), _read_day_word,
               written_year=False),
)


def _plausible(moment: datetime | None, now: datetime) -> datetime | None:
    """Dates before the web's news era or more than a day ahead are misreadings."""
    if moment is None or moment.year < 1995 or moment > now + timedelta(days=1):
        return None
    return moment


def parse_date(text: str | None, tz: tzinfo, now: datetime | None = None, *,
               with_year: bool = False) -> datetime | None:
    """The first date (with its time, if written) found in ``text``, aware, or None.

    ``tz`` is the zone for naive times; ``now`` (aware, the fetch time) anchors relative
    words and dates written without a year. ``with_year`` accepts only dates that spell out
    their year, for scanning running text, where "3天前" or "10月14日" may be about anything.
    """
    if not text or not isinstance(text, str):
        return None
    ctx = _Context(tz, now or datetime.now(timezone.utc))
    text = text.strip()[:2000]
    for form in FORMATS:
        if with_year and not form.written_year:
            break
        match = form.pattern.fullmatch(text) if form.whole else form.pattern.search(text)
        if match is None:
            continue
        try:
            moment = form.read(match, ctx)
        except (OverflowError, ValueError):
            moment = None
        if moment is not None or not form.whole:
            return _plausible(moment, ctx.now)
    return None


_NAMED_MONTH = re.compile(r"(?<![A-Za-z])" + _MONTH + r"(?![A-Za-z])", re.IGNORECASE)


def feed_date(raw: str | None, parsed: time_module.struct_time | None, tz: tzinfo,
              now: datetime | None = None) -> datetime | None:
    """A feed entry's date: feedparser's own reading (``published_parsed`` and the like,
    UTC, with its table of zone names and its many formats) where it read the date as
    written, else :func:`parse_date` on the text.

    feedparser's reading is taken first for dates that name their month in English (RFC
    822, asctime and their variants, which it reads with their zone names). For the rest,
    ours comes first: feedparser gives the current month for ``2022/10/13`` and
    ``2022年10月14日``, and reads an ISO date with no zone as UTC (here it is the source's).
    Where ours finds nothing, feedparser's reading is taken only if the year, month and day
    it found are all written in the text.
    """
    now = now or datetime.now(timezone.utc)
    if not isinstance(raw, str) or not raw.strip():
        return None
    theirs = None
    if parsed is not None and not CJK.search(raw):
        try:
            theirs = datetime(*parsed[:6], tzinfo=timezone.utc)
        except (TypeError, ValueError, OverflowError):
            theirs = None
    if theirs is not None and _NAMED_MONTH.search(raw) and str(theirs.year) in raw:
        return _plausible(theirs, now)
    ours = parse_date(raw, tz, now)
    if ours is not None or theirs is None:
        return ours
    written = all(re.search(rf"(?<!\d)0?{number}(?!\d)", raw) for number in (theirs.month, theirs.day))
    return _plausible(theirs, now) if written and str(theirs.year) in raw else None


def from_timestamp(value: str | int | float | None) -> datetime | None:
    """A Unix timestamp in seconds or milliseconds (as pages embed them), aware UTC."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if number != number:  # NaN
        return None
    if number > 1e11:  # milliseconds
        number /= 1000
    if not 788918400 <= number <= 4102444800:  # 1995 .. 2100
        return None
    return datetime.fromtimestamp(number, timezone.utc)
