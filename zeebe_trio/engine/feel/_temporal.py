"""FEEL's temporal values: parsing, formatting and arithmetic.

Representation (chosen so the hot path can dispatch on ``type(v) is ...``):

- date: ``datetime.date``
- time: ``datetime.time``; naive is a local time, ``tzinfo`` a fixed offset or a ``ZoneInfo`` zone
- date and time: ``datetime.datetime``; naive is local, aware carries an offset or a zone
- days and time duration: ``datetime.timedelta``
- years and months duration: :class:`YearMonthDuration`
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "YearMonthDuration",
    "parse_date",
    "parse_time",
    "parse_date_and_time",
    "parse_duration",
    "parse_temporal_literal",
    "format_temporal",
    "format_temporal_json",
]

UTC = UTC
_REFERENCE_DATE = date(2000, 1, 1)


class YearMonthDuration:
    """A years-and-months duration, kept as a signed number of months (like java.time.Period)."""

    __slots__ = ("months",)

    def __init__(self, months: int) -> None:
        self.months = months

    def __eq__(self, other: object) -> bool:
        return type(other) is YearMonthDuration and other.months == self.months

    def __hash__(self) -> int:
        return hash(("ymd", self.months))

    def __repr__(self) -> str:
        return f"YearMonthDuration({format_year_month_duration(self)!r})"


# --- parsing -----------------------------------------------------------------------------------

_DATE = r"(-?\d{4,9})-(\d{2})-(\d{2})"
_TIME = r"(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
_ZONE = r"(Z|[+-]\d{2}:?\d{2}(?::\d{2})?|@[A-Za-z][A-Za-z0-9_/+\-]*)?(?:\[([A-Za-z][A-Za-z0-9_/+\-]*)\])?"
_DATE_RE = re.compile(_DATE + r"\Z")
_TIME_RE = re.compile(_TIME + _ZONE + r"\Z")
_DATE_TIME_RE = re.compile(_DATE + "T" + _TIME + _ZONE + r"\Z")
_DURATION_RE = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d{1,9}))?S)?)?\Z"
)
_MAX_DURATION_DAYS = 999_999_999


def _zone(offset_or_zone: str | None, bracket_zone: str | None) -> tzinfo | None:
    """The tzinfo for an offset/zone suffix; raises ValueError/KeyError when it is unknown."""
    if bracket_zone:
        return ZoneInfo(bracket_zone)
    if not offset_or_zone:
        return None
    if offset_or_zone == "Z":
        return UTC
    if offset_or_zone[0] == "@":
        return ZoneInfo(offset_or_zone[1:])
    sign = -1 if offset_or_zone[0] == "-" else 1
    digits = offset_or_zone[1:].replace(":", "")
    hours, minutes, seconds = int(digits[0:2]), int(digits[2:4]), int(digits[4:6] or 0)
    if hours > 18 or minutes > 59 or seconds > 59:
        raise ValueError("offset out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes, seconds=seconds))


def _micros(fraction: str | None) -> int:
    return int((fraction or "0")[:6].ljust(6, "0"))


def parse_date(text: str) -> date | None:
    m = _DATE_RE.match(text)
    if m is None:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def parse_time(text: str) -> time | None:
    m = _TIME_RE.match(text)
    if m is None:
        return None
    try:
        return time(int(m[1]), int(m[2]), int(m[3] or 0), _micros(m[4]), tzinfo=_zone(m[5], m[6]))
    except (ValueError, KeyError, OSError):
        return None


def parse_date_and_time(text: str) -> datetime | None:
    m = _DATE_TIME_RE.match(text)
    if m is None:
        d = parse_date(text)  # feel-scala accepts a bare date: midnight, local
        return None if d is None else datetime(d.year, d.month, d.day)
    try:
        hour = int(m[4])
        extra = timedelta(0)
        if hour == 24 and m[5] == "00" and not m[6] and not m[7]:
            hour, extra = 0, timedelta(days=1)  # 24:00 is the end of the day
        value = datetime(
            int(m[1]), int(m[2]), int(m[3]), hour, int(m[5]), int(m[6] or 0), _micros(m[7]),
            tzinfo=_zone(m[8], m[9]),
        )
        return value + extra
    except (ValueError, KeyError, OSError, OverflowError):
        return None


def parse_duration(text: str) -> timedelta | YearMonthDuration | None:
    m = _DURATION_RE.match(text)
    if m is None or text.endswith(("P", "T")):
        return None
    sign = -1 if m[1] else 1
    years, months, weeks, days, hours, minutes, seconds, fraction = m.groups()[1:]
    has_year_month = years is not None or months is not None
    has_day_time = any(x is not None for x in (weeks, days, hours, minutes, seconds))
    if has_year_month and not has_day_time:
        total = int(years or 0) * 12 + int(months or 0)
        if total > 12 * 999_999_999:
            return None
        return YearMonthDuration(sign * total)
    if has_year_month:
        return None  # FEEL has no duration that mixes months with days
    try:
        value = timedelta(
            weeks=int(weeks or 0), days=int(days or 0), hours=int(hours or 0),
            minutes=int(minutes or 0), seconds=int(seconds or 0), microseconds=_micros(fraction),
        )
    except OverflowError:
        return None
    return -value if sign < 0 else value


def parse_temporal_literal(text: str) -> Any:
    """The value of ``@"..."``: a date-time, date, time or duration, or None if it is none of them."""
    if text[:1] in ("P", "-"):
        return parse_duration(text)
    if "T" in text:
        m = _DATE_TIME_RE.match(text)
        return parse_date_and_time(text) if m else None
    if _DATE_RE.match(text):
        return parse_date(text)
    return parse_time(text)


# --- formatting --------------------------------------------------------------------------------


def _format_offset(offset: timedelta) -> str:
    if not offset:
        return "Z"
    sign = "-" if offset < timedelta(0) else "+"
    seconds = abs(int(offset.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return text + (f":{seconds:02d}" if seconds else "")


def _fraction(micros: int) -> str:
    if not micros:
        return ""
    if micros % 1000 == 0:
        return f".{micros // 1000:03d}"
    return f".{micros:06d}"


def _format_local_time(t: time | datetime, *, java: bool) -> str:
    text = f"{t.hour:02d}:{t.minute:02d}"
    if java and not t.second and not t.microsecond:
        return text  # java.time's toString drops zero seconds
    return text + f":{t.second:02d}" + _fraction(t.microsecond)


def _format_date(d: date) -> str:
    if 0 <= d.year <= 9999:
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    return f"{d.year}-{d.month:02d}-{d.day:02d}"


def format_days_time_duration(value: timedelta) -> str:
    negative = value < timedelta(0)
    if negative:
        value = -value
    days, seconds, micros = value.days, value.seconds, value.microseconds
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "-P" if negative else "P"
    if days:
        text += f"{days}D"
    time_part = ""
    if hours:
        time_part += f"{hours}H"
    if minutes:
        time_part += f"{minutes}M"
    if seconds or micros:
        fraction = f".{micros:06d}".rstrip("0") if micros else ""
        time_part += f"{seconds}{fraction}S"
    if time_part:
        text += "T" + time_part
    elif not days:
        text += "T0S"
    return text


def format_year_month_duration(value: YearMonthDuration) -> str:
    months = value.months
    text = "-P" if months < 0 else "P"
    years, months = divmod(abs(months), 12)
    if years:
        text += f"{years}Y"
    if months or not years:
        text += f"{months}M" if months or years else "0Y"
    return text


def _zone_suffix(tz: tzinfo | None, value: datetime | time) -> str:
    if tz is None:
        return ""
    if isinstance(tz, ZoneInfo):
        return "@" + tz.key
    offset = value.utcoffset()
    return _format_offset(offset) if offset is not None else ""


def format_temporal(value: Any) -> str | None:
    """FEEL's own string form (what ``string(x)`` returns), or None if value is not temporal."""
    t = type(value)
    if t is date:
        return _format_date(value)
    if t is datetime:
        return _format_date(value) + "T" + _format_local_time(value, java=False) + _zone_suffix(value.tzinfo, value)
    if t is time:
        return _format_local_time(value, java=False) + _zone_suffix(value.tzinfo, value)
    if t is timedelta:
        return format_days_time_duration(value)
    if t is YearMonthDuration:
        return format_year_month_duration(value)
    return None


def format_temporal_json(value: Any) -> str | None:
    """The string Zeebe stores for a temporal result (java.time's toString for dates and date-times)."""
    t = type(value)
    if t is datetime:
        text = _format_date(value) + "T" + _format_local_time(value, java=True)
        tz = value.tzinfo
        if tz is None:
            return text
        offset = value.utcoffset()
        text += _format_offset(offset) if offset is not None else ""
        if isinstance(tz, ZoneInfo):
            text += f"[{tz.key}]"
        return text
    if t is time and value.tzinfo is None:
        return _format_local_time(value, java=True)
    return format_temporal(value)


# --- arithmetic --------------------------------------------------------------------------------


def add_months(value: date, months: int) -> date:
    """value shifted by whole months, clamping the day to the target month (like java.time)."""
    year, month0 = divmod(value.month - 1 + months, 12)
    year += value.year
    day = min(value.day, calendar.monthrange(year, month0 + 1)[1])
    return value.replace(year=year, month=month0 + 1, day=day)


def add_to_datetime(value: datetime, delta: timedelta) -> datetime:
    tz = value.tzinfo
    if isinstance(tz, ZoneInfo):  # exact (instant) arithmetic across DST changes, as java.time does
        return (value.astimezone(UTC) + delta).astimezone(tz)
    return value + delta


def add_to_time(value: time, delta: timedelta) -> time:
    moved = datetime.combine(_REFERENCE_DATE, value) + delta
    return moved.timetz()


def time_difference(a: time, b: time) -> timedelta | None:
    if (a.tzinfo is None) != (b.tzinfo is None):
        return None
    return datetime.combine(_REFERENCE_DATE, a) - datetime.combine(_REFERENCE_DATE, b)


def temporal_add(a: Any, b: Any) -> Any:
    """a + b for temporal operands; None when the operation is not defined."""
    ta, tb = type(a), type(b)
    if ta is timedelta or ta is YearMonthDuration:
        if tb is ta:
            return a + b if ta is timedelta else YearMonthDuration(a.months + b.months)
        if tb in (date, datetime, time):
            a, b, ta, tb = b, a, tb, ta
        else:
            return None
    if tb is timedelta:
        if ta is datetime:
            return add_to_datetime(a, b)
        if ta is date:
            return (datetime(a.year, a.month, a.day) + b).date()
        if ta is time:
            return add_to_time(a, b)
    elif tb is YearMonthDuration:
        if ta is datetime or ta is date:
            return add_months(a, b.months)
    return None


def temporal_subtract(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if tb is timedelta:
        if ta is timedelta:
            return a - b
        if ta is datetime:
            return add_to_datetime(a, -b)
        if ta is date:
            return (datetime(a.year, a.month, a.day) - b).date()
        if ta is time:
            return add_to_time(a, -b)
        return None
    if tb is YearMonthDuration:
        if ta is YearMonthDuration:
            return YearMonthDuration(a.months - b.months)
        if ta is datetime or ta is date:
            return add_months(a, -b.months)
        return None
    if ta is tb:
        if ta is date:
            return timedelta(days=(a - b).days)
        if ta is datetime:
            if (a.tzinfo is None) != (b.tzinfo is None):
                return None
            return a - b
        if ta is time:
            return time_difference(a, b)
    if ta is datetime and tb is date and a.tzinfo is None:
        return a - datetime(b.year, b.month, b.day)
    if ta is date and tb is datetime and b.tzinfo is None:
        return datetime(a.year, a.month, a.day) - b
    return None


def scale_duration(value: Any, factor: Decimal) -> Any:
    """A duration multiplied by a number (None if not a duration)."""
    if type(value) is timedelta:
        micros = (value // timedelta(microseconds=1)) * factor
        return timedelta(microseconds=int(micros))
    if type(value) is YearMonthDuration:
        return YearMonthDuration(int(value.months * factor))
    return None


def duration_ratio(a: Any, b: Any) -> Decimal | None:
    if type(a) is timedelta and type(b) is timedelta and b:
        return Decimal(a // timedelta(microseconds=1)) / Decimal(b // timedelta(microseconds=1))
    if type(a) is YearMonthDuration and type(b) is YearMonthDuration and b.months:
        return Decimal(a.months) / Decimal(b.months)
    return None


_DURATION_PROPERTIES = ("days", "hours", "minutes", "seconds")
_WEEKDAY = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


def day_name(value: date) -> str:
    return _WEEKDAY[value.weekday()]


def month_name(value: date) -> str:
    return _MONTHS[value.month - 1]


def temporal_property(value: Any, name: str) -> Any:
    """``x.year``, ``x.hours`` and the like; None for an unknown property."""
    t = type(value)
    if t is date or t is datetime:
        if name == "year":
            return value.year
        if name == "month":
            return value.month
        if name == "day":
            return value.day
        if name == "weekday":
            return value.isoweekday()
    if t is time or t is datetime:
        if name == "hour":
            return value.hour
        if name == "minute":
            return value.minute
        if name == "second":
            return value.second if not value.microsecond else Decimal(value.second) + Decimal(
                value.microsecond
            ).scaleb(-6)
        if name == "time offset":
            offset = value.utcoffset() if value.tzinfo is not None else None
            return offset
        if name == "timezone":
            tz = value.tzinfo
            if isinstance(tz, ZoneInfo):
                return tz.key
            return None
    if t is timedelta:
        sign = -1 if value < timedelta(0) else 1
        magnitude = abs(value)
        if name == "days":
            return sign * magnitude.days
        if name == "hours":
            return sign * (magnitude.seconds // 3600)
        if name == "minutes":
            return sign * (magnitude.seconds // 60 % 60)
        if name == "seconds":
            return sign * (magnitude.seconds % 60)
    if t is YearMonthDuration:
        sign = -1 if value.months < 0 else 1
        if name == "years":
            return sign * (abs(value.months) // 12)
        if name == "months":
            return sign * (abs(value.months) % 12)
    return None
