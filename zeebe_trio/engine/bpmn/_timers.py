"""Timer definitions of BPMN timer events: parsing and due times, the way Zeebe 8.8 computes them.

A timer event has one of three definitions (Zeebe's ``io.camunda.zeebe.model.bpmn.util.time``):

- ``timeDuration``: an ISO 8601 duration (``PT10S``, ``P1DT2H``, ``P2W``, ``-PT5S``), due that long
  after the element is entered. Years and months are calendar arithmetic on the start's local date in
  a zone, days are calendar days (24 hours in UTC), hours/minutes/seconds are exact (Zeebe's
  ``Interval`` = ``java.time.Period`` + ``java.time.Duration``).
- ``timeDate``: a date-time with an offset (``2025-01-01T08:00:00Z``, ``...+02:00``,
  ``...+02:00[Europe/Berlin]``), as ``ZonedDateTime.parse`` reads it; due at that instant.
- ``timeCycle``: text starting with ``R`` is a repeating interval (``R5/PT10S``, ``R/PT1H`` for ever,
  ``R3/2025-01-01T08:00:00Z/P1D`` with a start); any other text is a Spring cron expression of six
  fields (``0 0 9-17 * * MON-FRI``) or a macro (``@daily``).

A FEEL expression (``=...``) is evaluated by the engine; :func:`timer_from_value` turns its result
(a ``timedelta``, a ``YearMonthDuration``, a ``datetime`` or a string) into the same objects, with
Zeebe's type-check wording.

Everything is in epoch milliseconds and deterministic: no wall clock, and the zone used for calendar
arithmetic, naive date-times and cron fields is a parameter (UTC by default; Zeebe uses the JVM's
system default zone, ``ZoneId.systemDefault()``). Due times are clamped to
``LATEST_DUE_TIME`` (the year 9999: never). Computations are bounded: a cron search looks at most one
400-year Gregorian cycle ahead, and a cron expression that can never fire is refused when parsed.
"""

from __future__ import annotations

import bisect
import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from .._due import LATEST_DUE_TIME
from ..feel import YearMonthDuration
from ._errors import excerpt
from ._result_types import result_type as _feel_type

__all__ = [
    "EARLIEST_DUE_TIME",
    "MAX_TIMER_TEXT_LENGTH",
    "CronTimer",
    "DateTimer",
    "DurationTimer",
    "IsoInterval",
    "RepeatingIntervalTimer",
    "TimerDefinition",
    "TimerKind",
    "TimerParseError",
    "parse_iso_interval",
    "parse_timer",
    "timer_from_value",
]

TimerKind = Literal["duration", "date", "cycle"]

EARLIEST_DUE_TIME = -62_135_596_800_000
"""0001-01-01T00:00:00Z in epoch milliseconds: the earliest instant a date holds."""

MAX_TIMER_TEXT_LENGTH = 1_000
"""Characters of timer text parsed at most; longer text is refused before any parsing."""

_CRON_SEARCH_MONTHS = 400 * 12
"""The Gregorian calendar repeats every 400 years: a cron that matches no day in that span never will."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_MS = timedelta(milliseconds=1)
_NANOS_PER_SECOND = 1_000_000_000
_NANOS_PER_MS = 1_000_000
_MAX_EXACT_NANOS = (2**63 - 1) * _NANOS_PER_SECOND  # java.time.Duration holds a long of seconds
_INT32_MAX = 2**31 - 1


class TimerParseError(ValueError):
    """A timer definition (or the value of its expression) that is not a valid timer.

    ``reason`` is the failure as Zeebe words it where it has a wording (the incident message at run
    time); ``str()`` wraps it the way a deployment rejection does: ``Invalid timer cycle expression
    (Repetition spec must start with R)``.
    """

    def __init__(self, kind: TimerKind, reason: str) -> None:
        super().__init__(f"Invalid timer {kind} expression ({reason})")
        self.kind = kind
        self.reason = reason


class TimerDefinition(Protocol):
    """What the engine needs of any timer: when it is first due, when again, how many times in all."""

    @property
    def repetitions(self) -> int | None:
        """How many times the timer fires in all (``None``: for ever)."""
        ...

    def first_due(self, start_ms: int) -> int:
        """The due time of a timer scheduled at ``start_ms`` (may lie in the past: due at once)."""
        ...

    def next_due(self, previous_due_ms: int, now_ms: int | None = None) -> int | None:
        """The due time after one that fired at ``previous_due_ms``; ``None`` for a one-shot timer."""
        ...


# --- calendar arithmetic -----------------------------------------------------------------------


def _clamp(ms: int) -> int:
    return max(EARLIEST_DUE_TIME, min(ms, LATEST_DUE_TIME))


def _local(epoch_ms: int, zone: tzinfo) -> datetime:
    """The naive local date-time of an instant in ``zone``."""
    return (_EPOCH + timedelta(milliseconds=epoch_ms)).astimezone(zone).replace(tzinfo=None)


def _epoch_ms(local: datetime, zone: tzinfo, preferred: timedelta | None = None) -> int:
    """The instant of a naive local date-time in ``zone``, resolved as ``java.time`` resolves it.

    In a gap (spring forward) the time moves later by the gap's length; in an overlap the
    ``preferred`` offset is kept when it is one of the two, else the earlier offset wins.
    """
    earlier = local.replace(tzinfo=zone, fold=0)
    offset = earlier.utcoffset()
    assert offset is not None
    later_offset = local.replace(tzinfo=zone, fold=1).utcoffset()
    if later_offset is not None and later_offset != offset and preferred == later_offset:
        in_gap = earlier.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local
        if not in_gap:
            offset = later_offset
    return (local - offset - _NAIVE_EPOCH) // _MS


def _add_months(value: datetime, months: int) -> datetime:
    """``value`` plus ``months`` calendar months, the day clamped to the end of a shorter month."""
    total = value.year * 12 + value.month - 1 + months
    year, month0 = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise OverflowError("year out of range")
    day = min(value.day, calendar.monthrange(year, month0 + 1)[1])
    return value.replace(year=year, month=month0 + 1, day=day)


# --- ISO 8601 durations (Zeebe's Interval) -----------------------------------------------------

_NUMBER = r"([-+]?\d{1,19})"
_PERIOD_RE = re.compile(rf"(?i)([-+]?)P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?\Z")
_DURATION_RE = re.compile(
    rf"(?i)([-+]?)P(?:{_NUMBER}D)?(?-i:T)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}(?:[.,](\d{{0,9}}))?S)?\Z"
)


@dataclass(frozen=True, slots=True)
class IsoInterval:
    """An ISO 8601 duration as Zeebe's ``Interval`` holds it, with an optional start.

    ``months`` and ``days`` are calendar amounts (``java.time.Period``: years fold into months,
    weeks into days), added in that order to the local date-time in ``zone``; ``nanos`` is exact
    (``java.time.Duration``). ``start_ms`` is the start of an interval written ``<date-time>/<duration>``.
    """

    months: int = 0
    days: int = 0
    nanos: int = 0
    start_ms: int | None = None
    zone: tzinfo = field(default=UTC, compare=False)

    @property
    def is_positive(self) -> bool:
        """No part below zero and at least a millisecond in all: each addition moves strictly forward
        on the engine's millisecond clock."""
        if min(self.months, self.days, self.nanos) < 0:
            return False
        return self.months > 0 or self.days > 0 or self.nanos >= _NANOS_PER_MS

    def add_to(self, epoch_ms: int) -> int:
        """``epoch_ms`` plus this duration (calendar part first, in ``zone``), clamped to dates."""
        ms = epoch_ms
        if self.months or self.days:
            try:
                local = _local(epoch_ms, self.zone)
                offset = local.replace(tzinfo=self.zone).utcoffset()
                shifted = _add_months(local, self.months) if self.months else local
                shifted += timedelta(days=self.days)
                ms = _epoch_ms(shifted, self.zone, offset)
            except (OverflowError, ValueError):  # beyond the years 1-9999 a date holds
                return LATEST_DUE_TIME if (self.months, self.days) > (0, 0) else EARLIEST_DUE_TIME
        return _clamp((ms * _NANOS_PER_MS + self.nanos) // _NANOS_PER_MS)

    def __str__(self) -> str:
        """The ISO 8601 text (canonical: months, days, seconds), ``start/`` first when there is one."""
        text = "P"
        if self.months:
            text += f"{self.months}M"
        if self.days:
            text += f"{self.days}D"
        if self.nanos or not (self.months or self.days):
            whole, fraction = divmod(abs(self.nanos), _NANOS_PER_SECOND)
            sign = "-" if self.nanos < 0 else ""
            digits = f".{fraction:09d}".rstrip("0") if fraction else ""
            text += f"T{sign}{whole}{digits}S"
        if self.start_ms is None:
            return text
        start = (_EPOCH + timedelta(milliseconds=self.start_ms)).astimezone(self.zone)
        return f"{start.isoformat()}/{text}"


def _int(text: str | None) -> int:
    return int(text) if text else 0


def _parse_period(text: str) -> tuple[int, int] | None:
    match = _PERIOD_RE.match(text)
    if not match or not any(match.group(i) for i in range(2, 6)):
        return None
    sign = -1 if match.group(1) == "-" else 1
    years, months, weeks, days = (_int(match.group(i)) for i in range(2, 6))
    if not all(-_INT32_MAX - 1 <= part <= _INT32_MAX for part in (years, months, weeks, days)):
        return None  # java.time.Period holds ints
    return sign * (years * 12 + months), sign * (weeks * 7 + days)


def _parse_exact(text: str) -> int | None:
    match = _DURATION_RE.match(text)
    if not match or not any(match.group(i) for i in (3, 4, 5)):
        return None
    sign = -1 if match.group(1) == "-" else 1
    days, hours, minutes = _int(match.group(2)), _int(match.group(3)), _int(match.group(4))
    seconds_text, fraction_text = match.group(5), match.group(6)
    seconds = _int(seconds_text)
    fraction = int((fraction_text or "").ljust(9, "0")) if fraction_text else 0
    if seconds_text and seconds_text.startswith("-"):
        fraction = -fraction
    nanos = sign * ((((days * 24 + hours) * 60 + minutes) * 60 + seconds) * _NANOS_PER_SECOND + fraction)
    return nanos if abs(nanos) <= _MAX_EXACT_NANOS else None


def _parse_duration_part(text: str) -> tuple[int, int, int] | None:
    """``PnYnMnWnDTnHnMnS`` split the way Zeebe's ``Interval.parse`` splits it: at the ``T``."""
    sign_length = 1 if text[:1] in ("-", "+") else 0
    time_at = text.find("T")
    if time_at == -1:
        period = _parse_period(text)
        return None if period is None else (*period, 0)
    if time_at == sign_length + 1:
        nanos = _parse_exact(text)
        return None if nanos is None else (0, 0, nanos)
    period = _parse_period(text[:time_at])
    nanos = _parse_exact(text[:sign_length] + "P" + text[time_at:])
    return None if period is None or nanos is None else (*period, nanos)


def parse_iso_interval(text: str, *, zone: tzinfo = UTC) -> IsoInterval:
    """An ISO 8601 duration, optionally ``<date-time>/<duration>`` (Zeebe's ``Interval.parse``).

    Raises ``ValueError`` naming what cannot be parsed.
    """
    start_ms: int | None = None
    slash = text.rfind("/")
    if slash > 0:
        start_text = text[:slash]
        parsed = _parse_zoned_date_time(start_text)
        if parsed is None:
            raise ValueError(
                f"Text '{excerpt(start_text, quote=chr(39))}' could not be parsed as a date-time"
            )
        start_ms, zone = parsed
    duration_text = text[slash + 1 :]
    parts = _parse_duration_part(duration_text)
    if parts is None:
        raise ValueError(f"Text '{excerpt(duration_text, quote=chr(39))}' cannot be parsed to a duration")
    months, days, nanos = parts
    return IsoInterval(months, days, nanos, start_ms, zone)


# --- date-times (ZonedDateTime.parse) ------------------------------------------------------------

_DATE_TIME_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{0,9}))?)?"
    r"([Zz]|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)"
    r"(?:\[([A-Za-z][A-Za-z0-9_/+\-]{0,63})\])?\Z"
)


def _parse_offset(text: str) -> timedelta | None:
    if text in ("Z", "z"):
        return timedelta(0)
    digits = text[1:].replace(":", "")
    hours, minutes, seconds = int(digits[:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    if minutes > 59 or seconds > 59:
        return None
    offset = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if offset > timedelta(hours=18):
        return None
    return -offset if text[0] == "-" else offset


def _parse_zoned_date_time(text: str) -> tuple[int, tzinfo] | None:
    """(epoch ms, zone) of an ISO date-time with an offset and an optional ``[region]``, else None.

    The offset fixes the instant (as ``ZonedDateTime.parse`` does); the region, when given, is the
    zone of later calendar arithmetic.
    """
    match = _DATE_TIME_RE.match(text)
    if not match:
        return None
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = _int(match.group(6))
    micros = int((match.group(7) or "").ljust(6, "0")[:6]) if match.group(7) else 0
    offset = _parse_offset(match.group(8))
    if offset is None:
        return None
    try:
        local = datetime(year, month, day, hour, minute, second, micros)
    except ValueError:
        return None
    zone: tzinfo = timezone(offset) if offset else UTC
    if match.group(9):
        try:
            zone = ZoneInfo(match.group(9))
        except (ValueError, OSError, KeyError):
            return None
    return (local - offset - _NAIVE_EPOCH) // _MS, zone


# --- the timers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DurationTimer:
    """A ``timeDuration``: due ``interval`` after the start (or at its start, when it has one)."""

    interval: IsoInterval
    repetitions: int | None = 1

    def first_due(self, start_ms: int) -> int:
        if self.interval.start_ms is not None:
            return max(self.interval.start_ms, start_ms)
        return self.interval.add_to(start_ms)

    def next_due(self, previous_due_ms: int, now_ms: int | None = None) -> int | None:
        return None


@dataclass(frozen=True, slots=True)
class DateTimer:
    """A ``timeDate``: due at one instant, whenever it is scheduled (in the past: due at once)."""

    due_ms: int
    repetitions: int | None = 1

    def first_due(self, start_ms: int) -> int:
        return _clamp(self.due_ms)

    def next_due(self, previous_due_ms: int, now_ms: int | None = None) -> int | None:
        return None


@dataclass(frozen=True, slots=True)
class RepeatingIntervalTimer:
    """A ``timeCycle`` ``R<n>/[<start>/]<duration>``: fires ``repetitions`` times (``None``: for ever).

    The first time is the start (or at once when the start has passed), else one interval after the
    scheduling; each next time is one interval after the previous one. As in Zeebe, the engine
    reschedules while more than one repetition is left, so ``R0`` and ``R1`` both fire once.
    """

    interval: IsoInterval
    repetitions: int | None

    def first_due(self, start_ms: int) -> int:
        if self.interval.start_ms is not None:
            return max(self.interval.start_ms, start_ms)
        return self.interval.add_to(start_ms)

    def next_due(self, previous_due_ms: int, now_ms: int | None = None) -> int | None:
        """One interval after ``previous_due_ms``; when that is not after ``now_ms`` (cycles were
        missed, e.g. the broker was down), one interval after ``now_ms`` instead, like Zeebe's
        ``RepeatingInterval.nextOccurrenceAfter``. ``None`` once the year 9999 is reached."""
        if previous_due_ms >= LATEST_DUE_TIME:
            return None
        natural = self.interval.add_to(previous_due_ms)
        if now_ms is not None and natural <= now_ms:
            natural = self.interval.add_to(now_ms)
        return natural if natural > previous_due_ms else None


# --- cron (Spring's CronExpression, as Zeebe forked it) -------------------------------------------

_MACROS = {
    "@yearly": "0 0 0 1 1 *",
    "@annually": "0 0 0 1 1 *",
    "@monthly": "0 0 0 1 * *",
    "@weekly": "0 0 0 * * 0",
    "@daily": "0 0 0 * * *",
    "@midnight": "0 0 0 * * *",
    "@hourly": "0 0 * * * *",
}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_CRON_FIELDS = ("second", "minute", "hour", "day-of-month", "month", "day-of-week")
_RANGES = {
    "second": (0, 59),
    "minute": (0, 59),
    "hour": (0, 23),
    "day-of-month": (1, 31),
    "month": (1, 12),
    "day-of-week": (0, 7),
}


class _CronSyntaxError(ValueError):
    pass


def _replace_names(value: str, names: tuple[str, ...]) -> str:
    upper = value.upper()
    for number, name in enumerate(names, start=1):
        upper = upper.replace(name, str(number))
    return upper


def _cron_int(text: str, name: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise _CronSyntaxError(
            f"the {name} field has '{excerpt(text, quote=chr(39))}' where a number belongs"
        )
    return int(text)


def _cron_value(text: str, name: str) -> int:
    value = _cron_int(text, name)
    low, high = _RANGES[name]
    if not low <= value <= high:
        raise _CronSyntaxError(f"the {name} value {value} is out of range {low}-{high}")
    return value


def _parse_plain(value: str, name: str) -> frozenset[int]:
    """A list of ``*``, ``n``, ``a-b``, each optionally ``/step`` (Spring's ``BitsCronField``)."""
    low, high = _RANGES[name]
    if name == "day-of-week":
        low = 1  # 0 and 7 are both Sunday; 7 is kept
    result: set[int] = set()
    for part in value.split(","):
        range_text, slash, step_text = part.partition("/")
        if range_text == "*":
            first, last = low, high
        elif "-" in range_text:
            a, _, b = range_text.partition("-")
            first, last = _cron_value(a, name), _cron_value(b, name)
            if name == "day-of-week" and first == 7:
                first = 0  # as the start of a range, Sunday is 0 (SUN-SAT is 0-6)
            if first > last:
                raise _CronSyntaxError(f"the {name} range {first}-{last} starts after it ends")
        else:
            first = _cron_value(range_text, name)
            last = high if slash else first
        step = 1
        if slash:
            step = _cron_int(step_text, name)
            if step < 1:
                raise _CronSyntaxError(f"the {name} step must be 1 or higher")
        result.update(range(first, last + 1, step))
    if name == "day-of-week" and 0 in result:
        result.discard(0)
        result.add(7)
    return frozenset(result)


@dataclass(frozen=True, slots=True)
class _DayOfMonthRule:
    """A Quartz day-of-month: ``L`` (offset days before the last), ``LW``, ``nW``."""

    kind: Literal["last", "last-weekday", "nearest-weekday"]
    number: int = 0

    def days(self, year: int, month: int) -> set[int]:
        length = calendar.monthrange(year, month)[1]
        if self.kind == "last":
            day = length - self.number
            return {day} if day >= 1 else set()
        if self.kind == "last-weekday":
            return {_nearest_weekday(year, month, length, length)}
        if self.number > length:
            return set()
        return {_nearest_weekday(year, month, self.number, length)}


def _nearest_weekday(year: int, month: int, day: int, length: int) -> int:
    weekday = date(year, month, day).isoweekday()
    if weekday == 6:  # Saturday: the Friday before, or the Monday after the 1st
        return day - 1 if day > 1 else day + 2
    if weekday == 7:  # Sunday: the Monday after, or the Friday before the month's last day
        return day + 1 if day < length else day - 2
    return day


@dataclass(frozen=True, slots=True)
class _DayOfWeekRule:
    """A Quartz day-of-week: ``dL`` (the last ``d`` of the month) or ``d#n`` (its ``n``-th)."""

    weekday: int  # ISO: Monday 1 .. Sunday 7
    ordinal: int  # 0 for the last

    def days(self, year: int, month: int) -> set[int]:
        length = calendar.monthrange(year, month)[1]
        first = (self.weekday - date(year, month, 1).isoweekday()) % 7 + 1
        if self.ordinal == 0:
            return {first + 7 * ((length - first) // 7)}
        day = first + 7 * (self.ordinal - 1)
        return {day} if day <= length else set()


def _parse_days_of_month(value: str) -> tuple[frozenset[int], tuple[_DayOfMonthRule, ...]]:
    if value == "?":
        value = "*"
    plain: list[str] = []
    rules: list[_DayOfMonthRule] = []
    for part in value.split(","):
        if part == "L":
            rules.append(_DayOfMonthRule("last"))
        elif part.startswith("L-"):
            offset = _cron_int(part[2:], "day-of-month")
            if offset > 30:
                raise _CronSyntaxError(f"the day-of-month offset L-{offset} is more than 30 days")
            rules.append(_DayOfMonthRule("last", offset))
        elif part == "LW":
            rules.append(_DayOfMonthRule("last-weekday"))
        elif part.endswith("W"):
            rules.append(_DayOfMonthRule("nearest-weekday", _cron_value(part[:-1], "day-of-month")))
        elif "L" in part or "W" in part:
            raise _CronSyntaxError(f"the day-of-month field has '{excerpt(part, quote=chr(39))}'")
        else:
            plain.append(part)
    days = _parse_plain(",".join(plain), "day-of-month") if plain else frozenset()
    return days, tuple(rules)


def _parse_days_of_week(value: str) -> tuple[frozenset[int], tuple[_DayOfWeekRule, ...]]:
    value = _replace_names(value, _DAY_NAMES)
    if value == "?":
        value = "*"
    plain: list[str] = []
    rules: list[_DayOfWeekRule] = []
    for part in value.split(","):
        if part.endswith("L") or "#" in part:
            day_text, _, ordinal_text = (
                part[:-1].partition("#") if part.endswith("L") else part.partition("#")
            )
            if not day_text:
                raise _CronSyntaxError("no day-of-week before 'L' or '#'")
            weekday = _cron_value(day_text, "day-of-week") or 7
            ordinal = 0
            if not part.endswith("L"):
                ordinal = _cron_int(ordinal_text, "day-of-week")
                if not 1 <= ordinal <= 5:
                    raise _CronSyntaxError(
                        f"the ordinal {ordinal} in '{excerpt(part, quote=chr(39))}' must be 1-5"
                    )
            rules.append(_DayOfWeekRule(weekday, ordinal))
        else:
            plain.append(part)
    days = _parse_plain(",".join(plain), "day-of-week") if plain else frozenset()
    return days, tuple(rules)


@dataclass(frozen=True, slots=True)
class _CronFields:
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    days_of_month: frozenset[int]
    day_of_month_rules: tuple[_DayOfMonthRule, ...]
    days_of_week: frozenset[int]
    day_of_week_rules: tuple[_DayOfWeekRule, ...]

    def days(self, year: int, month: int) -> list[int]:
        """The days of a month that match both day fields (Spring requires both)."""
        length = calendar.monthrange(year, month)[1]
        by_month = {d for d in self.days_of_month if d <= length}
        for rule in self.day_of_month_rules:
            by_month |= rule.days(year, month)
        weekday_of_first = date(year, month, 1).isoweekday()
        matching = []
        week_rule_days: set[int] = set()
        for week_rule in self.day_of_week_rules:
            week_rule_days |= week_rule.days(year, month)
        for day in sorted(by_month):
            if (weekday_of_first + day - 2) % 7 + 1 in self.days_of_week or day in week_rule_days:
                matching.append(day)
        return matching

    def times_from(self, hour: int, minute: int, second: int) -> Iterator[tuple[int, int, int]]:
        """Matching times of day at or after ``hour:minute:second``, in order."""
        for h in self.hours[bisect.bisect_left(self.hours, hour) :]:
            minute_from = minute if h == hour else 0
            for m in self.minutes[bisect.bisect_left(self.minutes, minute_from) :]:
                second_from = second if (h, m) == (hour, minute) else 0
                for s in self.seconds[bisect.bisect_left(self.seconds, second_from) :]:
                    yield h, m, s


def _parse_cron_fields(expression: str) -> _CronFields:
    if not expression:
        raise _CronSyntaxError("Expression string must not be empty")
    resolved = _MACROS.get(expression.strip().lower(), expression.strip())
    fields = resolved.split(" ")
    if len(fields) != 6:
        raise _CronSyntaxError(
            f'Cron expression must consist of 6 fields (found {len(fields)} in "{excerpt(expression)}")'
        )
    try:
        seconds = _parse_plain(fields[0], "second")
        minutes = _parse_plain(fields[1], "minute")
        hours = _parse_plain(fields[2], "hour")
        days_of_month, day_of_month_rules = _parse_days_of_month(fields[3].upper())
        months = _parse_plain(_replace_names(fields[4], _MONTH_NAMES), "month")
        days_of_week, day_of_week_rules = _parse_days_of_week(fields[5])
    except _CronSyntaxError as error:
        raise _CronSyntaxError(f'{error} in cron expression "{excerpt(expression)}"') from None
    return _CronFields(
        tuple(sorted(seconds)),
        tuple(sorted(minutes)),
        tuple(sorted(hours)),
        months,
        days_of_month,
        day_of_month_rules,
        days_of_week,
        day_of_week_rules,
    )


def _cron_next(fields: _CronFields, after_ms: int, zone: tzinfo) -> int | None:
    """The first instant strictly after ``after_ms`` (on a whole second) whose local date-time in
    ``zone`` matches every field; ``None`` when none does within 400 years or before the year 10000."""
    try:
        return _cron_search(fields, after_ms, zone)
    except OverflowError:  # a local time at the edge of the years 1-9999
        return None


def _cron_search(fields: _CronFields, after_ms: int, zone: tzinfo) -> int | None:
    candidate_ms = (max(after_ms, EARLIEST_DUE_TIME + 86_400_000) // 1000 + 1) * 1000
    if candidate_ms > LATEST_DUE_TIME:
        return None
    start = _local(candidate_ms, zone)
    year, month = start.year, start.month
    for _ in range(_CRON_SEARCH_MONTHS):
        if year > 9999:
            return None
        if month in fields.months:
            first_day = start.day if (year, month) == (start.year, start.month) else 1
            for day in fields.days(year, month):
                if day < first_day:
                    continue
                is_start_day = (year, month, day) == (start.year, start.month, start.day)
                from_time = (start.hour, start.minute, start.second) if is_start_day else (0, 0, 0)
                for h, m, s in fields.times_from(*from_time):
                    due = _epoch_ms(datetime(year, month, day, h, m, s), zone)
                    if due > after_ms:
                        return due if due <= LATEST_DUE_TIME else None
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return None


@dataclass(frozen=True, slots=True)
class CronTimer:
    """A ``timeCycle`` cron expression: fires for ever, at each matching second in ``zone``.

    Across a DST change a wall-clock time in the skipped hour fires at the shifted instant (02:30
    becomes 03:30, as ``java.time`` resolves it) and one in the repeated hour fires once, at its first
    occurrence.
    """

    expression: str
    fields: _CronFields = field(repr=False)
    zone: tzinfo = UTC
    repetitions: int | None = None

    def first_due(self, start_ms: int) -> int:
        due = _cron_next(self.fields, start_ms, self.zone)
        return LATEST_DUE_TIME if due is None else due

    def next_due(self, previous_due_ms: int, now_ms: int | None = None) -> int | None:
        """The next match after ``previous_due_ms`` (after ``now_ms`` when that is later: a missed
        match is not made up for)."""
        after = previous_due_ms if now_ms is None else max(previous_due_ms, now_ms)
        return _cron_next(self.fields, after, self.zone)


_CRON_REFERENCE_MS = 946_684_800_000  # 2000-01-01T00:00:00Z


def _parse_cron(text: str, zone: tzinfo) -> CronTimer:
    fields = _parse_cron_fields(text)
    if _cron_next(fields, _CRON_REFERENCE_MS, UTC) is None:
        raise _CronSyntaxError(
            f'no date matches the day-of-month, month and day-of-week fields of cron expression "{excerpt(text)}"'
            " (it would never fire)"
        )
    return CronTimer(text, fields, zone)


# --- entry points ------------------------------------------------------------------------------

_REPETITIONS_RE = re.compile(r"\+?(\d{1,18})\Z")


def _parse_cycle(text: str, zone: tzinfo) -> RepeatingIntervalTimer | CronTimer:
    if not text.startswith("R"):
        try:
            return _parse_cron(text, zone)
        except _CronSyntaxError as error:
            raise TimerParseError("cycle", str(error)) from None
    slash = text.find("/")
    if slash == -1:
        raise TimerParseError("cycle", "No interval given")
    repetitions: int | None = None
    if slash > 1:
        match = _REPETITIONS_RE.match(text[1:slash])
        if not match:
            raise TimerParseError("cycle", "Cannot parse repetitions count")
        repetitions = int(match.group(1))
    try:
        interval = parse_iso_interval(text[slash + 1 :], zone=zone)
    except ValueError as error:
        raise TimerParseError("cycle", str(error)) from None
    if not interval.is_positive:
        raise TimerParseError(
            "cycle",
            f"the interval '{interval}' of a repeating timer must be at least 1 ms long, with no negative part",
        )
    return RepeatingIntervalTimer(interval, repetitions)


def parse_timer(
    kind: TimerKind, text: str, *, expression: str | None = None, zone: tzinfo = UTC
) -> DurationTimer | DateTimer | RepeatingIntervalTimer | CronTimer:
    """The timer a static ``timeDuration``/``timeDate``/``timeCycle`` text (or a string an
    expression evaluated to: ``expression`` is then its source, for the message) defines.

    ``zone`` is the zone of calendar arithmetic, naive values and cron fields. Raises
    :class:`TimerParseError`.
    """
    source = text if expression is None else expression
    if len(text) > MAX_TIMER_TEXT_LENGTH:
        raise TimerParseError(kind, f"the timer text is longer than {MAX_TIMER_TEXT_LENGTH} characters")
    if kind == "duration":
        try:
            return DurationTimer(parse_iso_interval(text, zone=zone))
        except ValueError:
            raise TimerParseError(
                kind,
                f"Invalid duration format '{excerpt(text, quote=chr(39))}' for expression "
                f"'{excerpt(source, quote=chr(39))}'.",
            ) from None
    if kind == "date":
        parsed = _parse_zoned_date_time(text)
        if parsed is None:
            raise TimerParseError(
                kind,
                f"Invalid date-time format '{excerpt(text, quote=chr(39))}' for expression "
                f"'{excerpt(source, quote=chr(39))}'.",
            )
        return DateTimer(parsed[0])
    if kind == "cycle":
        return _parse_cycle(text, zone)
    raise ValueError(f"unknown timer kind {kind!r}: expected 'duration', 'date' or 'cycle'")




def _timedelta_nanos(value: timedelta) -> int:
    return ((value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds) * 1_000


def timer_from_value(
    kind: TimerKind, value: Any, *, expression: str, zone: tzinfo = UTC
) -> DurationTimer | DateTimer | RepeatingIntervalTimer | CronTimer:
    """The timer the result of a timer's FEEL ``expression`` defines, as Zeebe's type checks take it.

    A duration takes a days-time duration (``timedelta``, exact), a years-months duration or a
    string; a date a date-time (a naive one is local time in ``zone``) or a string; a cycle a string
    only. Raises :class:`TimerParseError`.
    """
    quoted = excerpt(expression, quote="'")
    found = _feel_type(value)
    if kind == "duration":
        if isinstance(value, timedelta):
            return DurationTimer(IsoInterval(nanos=_timedelta_nanos(value), zone=zone))
        if isinstance(value, YearMonthDuration):
            return DurationTimer(IsoInterval(months=value.months, zone=zone))
        expected = "[DURATION, PERIOD, STRING]"
    elif kind == "date":
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                return DateTimer(_clamp(_epoch_ms(value.replace(tzinfo=None), zone)))
            return DateTimer(_clamp((value - _EPOCH) // _MS))
        expected = "[DATE_TIME, STRING]"
    else:
        if not isinstance(value, str):
            raise TimerParseError(
                kind, f"Expected result of the expression '{quoted}' to be 'STRING', but was '{found}'."
            )
        expected = ""
    if isinstance(value, str):
        return parse_timer(kind, value, expression=expression, zone=zone)
    raise TimerParseError(
        kind, f"Expected result of the expression '{quoted}' to be one of '{expected}', but was '{found}'."
    )
