"""Dates as Chinese and English news sites and their feeds write them.

htmldate and trafilatura read ``2022年10月14日`` as 2022-01-01 without complaint, and
feedparser replaces a date it cannot read with the current month; so every date that
decides where an article goes passes through :func:`parse_date`, which returns the right
instant or None, never a guess. Naive times are read in the source's time zone.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "O": 0, "一": 1, "二": 2, "两": 2, "三": 3,
              "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = "〇零○Ｏ一二两三四五六七八九十"

_MONTHS = {name: n for n, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")], start=1) for name in names}

_TIME = r"(?:\s*(?:T|\s)?\s*(?P<ampm>上午|下午|晚上|凌晨|中午)?\s*(?P<H>\d{1,2})(?:[:：时點点](?P<M>\d{1,2})(?:[:：分](?P<S>\d{1,2})(?:\.\d+)?)?)?(?:\s*(?P<ap>[AaPp][Mm]))?(?P<tz>\s*(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT))?)?"
_SEP_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?P<sep>[-/.年])\s*(?P<m>\d{1,2})\s*(?:(?P=sep)|月)\s*(?P<d>\d{1,2})(?!\d)\s*日?"
    + _TIME)
_MONTH_DAY = re.compile(r"(?<![\d年])(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日" + _TIME)
_CN_DATE = re.compile(
    rf"(?P<y>[{_CN_NUMBER}]{{4}})年(?P<m>[{_CN_NUMBER}]{{1,3}})月(?P<d>[{_CN_NUMBER}]{{1,3}})[日号]")
_EN_MDY = re.compile(
    r"\b(?P<mon>[A-Za-z]{3,9})\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{2})\b" + _TIME)
_EN_DMY = re.compile(
    r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?P<mon>[A-Za-z]{3,9})\.?,?\s+(?P<y>(?:19|20)\d{2})\b" + _TIME)
_RELATIVE = re.compile(r"(?P<n>\d+|[一二两三四五六七八九十]+)\s*(?P<unit>秒|分钟|分鐘|小时|小時|天|日|周|週)前")
_DAY_WORD = re.compile(r"(?P<word>今天|昨天|前天)" + _TIME)


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


def _zone(match: re.Match, tz: tzinfo) -> tzinfo:
    text = (match.groupdict().get("tz") or "").strip()
    if not text:
        return tz
    if text in ("Z", "UTC", "GMT"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _clock(match: re.Match) -> time | None:
    groups = match.groupdict()
    if groups.get("H") is None:
        return time(0, 0)
    hour, minute, second = int(groups["H"]), int(groups.get("M") or 0), int(groups.get("S") or 0)
    marker = groups.get("ampm") or ""
    ap = (groups.get("ap") or "").lower()
    if (marker in ("下午", "晚上") or ap == "pm") and hour < 12:
        hour += 12
    if (marker == "凌晨" or ap == "am") and hour == 12:
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
    return datetime.combine(day_, clock, tzinfo=_zone(match, tz))


def _plausible(moment: datetime | None, now: datetime) -> datetime | None:
    """Dates before the web's news era or more than a day ahead are misreadings."""
    if moment is None or moment.year < 1995 or moment > now + timedelta(days=1):
        return None
    return moment


def parse_date(text: str | None, tz: tzinfo, now: datetime | None = None, *,
               with_year: bool = False) -> datetime | None:
    """The first date (with its time, if written) found in ``text``, aware, or None.

    ``tz`` is the zone for naive times; ``now`` (aware) anchors relative words and dates
    written without a year. ``with_year`` accepts only dates that spell out their year,
    for scanning running text, where "3天前" or "10月14日" may be about anything.
    """
    if not text:
        return None
    now = now or datetime.now(timezone.utc)
    text = text.strip()
    local_now = now.astimezone(tz)

    if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text) or re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is not None:
            return _plausible(moment if moment.tzinfo else moment.replace(tzinfo=tz), now)
    if re.match(r"^[A-Za-z]{3},?\s+\d{1,2}\s+[A-Za-z]{3}", text) or re.match(r"^\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d", text):
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            moment = None
        if moment is not None:
            return _plausible(moment if moment.tzinfo else moment.replace(tzinfo=tz), now)

    match = _SEP_DATE.search(text)
    if match:
        return _plausible(_build(int(match["y"]), int(match["m"]), int(match["d"]), match, tz), now)
    match = _CN_DATE.search(text)
    if match:
        year, month, day = cn_number(match["y"]), cn_number(match["m"]), cn_number(match["d"])
        if None not in (year, month, day):
            return _plausible(_build(year, month, day, match, tz), now)
    for pattern in (_EN_MDY, _EN_DMY):
        match = pattern.search(text)
        if match and match["mon"].lower() in _MONTHS:
            return _plausible(_build(int(match["y"]), _MONTHS[match["mon"].lower()], int(match["d"]),
                                     match, tz), now)
    if with_year:
        return None
    match = _MONTH_DAY.search(text)
    if match:
        # No year written: the latest such day that is not in the future.
        for year in (local_now.year, local_now.year - 1):
            moment = _build(year, int(match["m"]), int(match["d"]), match, tz)
            if moment is not None and moment <= now + timedelta(days=1):
                return _plausible(moment, now)
        return None
    if "刚刚" in text or "剛剛" in text:
        return now
    match = _RELATIVE.search(text)
    if match:
        amount = int(match["n"]) if match["n"].isdigit() else cn_number(match["n"])
        if amount is None:
            return None
        unit = {"秒": "seconds", "分钟": "minutes", "分鐘": "minutes", "小时": "hours", "小時": "hours",
                "天": "days", "日": "days", "周": "weeks", "週": "weeks"}[match["unit"]]
        return now - timedelta(**{unit: amount})
    match = _DAY_WORD.search(text)
    if match:
        back = {"今天": 0, "昨天": 1, "前天": 2}[match["word"]]
        day = (local_now - timedelta(days=back)).date()
        clock = _clock(match) or time(0, 0)
        return datetime.combine(day, clock, tzinfo=tz)
    return None


def from_timestamp(value: str | int | float | None) -> datetime | None:
    """A Unix timestamp in seconds or milliseconds (as pages embed them), aware UTC."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if number > 1e11:  # milliseconds
        number /= 1000
    if not 788918400 <= number <= 4102444800:  # 1995 .. 2100
        return None
    return datetime.fromtimestamp(number, timezone.utc)
