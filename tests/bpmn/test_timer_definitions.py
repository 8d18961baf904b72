"""Timer definitions: Zeebe 8.8's documented timer forms and its model/engine tests' cases (restated
as our own tables), plus properties: durations round-trip, cycles move strictly forward, and cron's
next fire time equals a brute-force scan."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zeebe_trio.engine._due import LATEST_DUE_TIME
from zeebe_trio.engine.bpmn._timers import (
    CronTimer,
    DateTimer,
    DurationTimer,
    IsoInterval,
    RepeatingIntervalTimer,
    TimerDefinition,
    TimerParseError,
    parse_iso_interval,
    parse_timer,
    timer_from_value,
)
from zeebe_trio.engine.feel import YearMonthDuration, compile_expression

BERLIN = ZoneInfo("Europe/Berlin")
SECOND = 1_000
HOUR = 3_600 * SECOND
DAY = 24 * HOUR


def ms(text: str) -> int:
    """Epoch milliseconds of an ISO date-time with an offset."""
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat().replace("+00:00", "Z")


# --- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "months", "days", "nanos"),
    [
        ("PT10S", 0, 0, 10 * 10**9),
        ("PT1M", 0, 0, 60 * 10**9),
        ("P1M", 1, 0, 0),
        ("P1Y", 12, 0, 0),
        ("P2W", 0, 14, 0),
        ("P1DT2H", 0, 1, 2 * 3600 * 10**9),
        ("P18Y9M4DT11H9M8S", 18 * 12 + 9, 4, (11 * 3600 + 9 * 60 + 8) * 10**9),
        ("PT1.5S", 0, 0, 1_500_000_000),
        ("PT0,25S", 0, 0, 250_000_000),
        ("PT0.000000001S", 0, 0, 1),
        ("PT36H", 0, 0, 36 * 3600 * 10**9),  # hours stay exact, never days
        ("-PT5S", 0, 0, -5 * 10**9),
        ("PT-1.5S", 0, 0, -1_500_000_000),
        ("-P1DT1H", 0, -1, -3600 * 10**9),
        ("P-1M", -1, 0, 0),
        ("+PT1S", 0, 0, 10**9),
        ("p1d", 0, 1, 0),  # designators are case-insensitive (Period.parse) ...
        ("P1dT1h", 0, 1, 3600 * 10**9),
    ],
)
def test_iso_durations_parse_into_calendar_and_exact_parts(
    text: str, months: int, days: int, nanos: int
) -> None:
    timer = parse_timer("duration", text)
    assert isinstance(timer, DurationTimer)
    assert (timer.interval.months, timer.interval.days, timer.interval.nanos) == (months, days, nanos)
    assert timer.repetitions == 1
    assert timer.next_due(12345) is None


@pytest.mark.parametrize(
    "text",
    [
        "foo",
        "",
        "P",
        "PT",
        "P1DT",
        "pt1h",
        "P1H",
        "PT1D",
        "P1.5D",
        "PT1S2M",
        "P1S",
        "10S",
        "P99999999999D",
        "P1Y 2M",
        "PT1.1234567891S",
    ],
)
def test_malformed_durations_are_refused_with_zeebes_wording(text: str) -> None:
    # ... but Interval.parse splits at an upper-case 'T' only, so "pt1h" is not a duration
    with pytest.raises(TimerParseError) as caught:
        parse_timer("duration", text)
    assert caught.value.reason == f"Invalid duration format '{text}' for expression '{text}'."
    assert str(caught.value) == f"Invalid timer duration expression ({caught.value.reason})"


@pytest.mark.parametrize(
    ("text", "start", "due"),
    [
        ("PT10S", "2025-01-01T00:00:00Z", "2025-01-01T00:00:10Z"),
        ("PT0.0015S", "2025-01-01T00:00:00Z", "2025-01-01T00:00:00.001000Z"),  # floored to ms
        ("P1D", "2025-01-01T08:00:00Z", "2025-01-02T08:00:00Z"),
        ("P1M", "2025-01-31T10:00:00Z", "2025-02-28T10:00:00Z"),  # clamped to the month's end
        ("P1M", "2024-01-31T10:00:00Z", "2024-02-29T10:00:00Z"),
        ("P1Y", "2024-02-29T00:00:00Z", "2025-02-28T00:00:00Z"),
        ("P1MT1H", "2025-01-31T23:30:00Z", "2025-03-01T00:30:00Z"),  # months first, then exact time
        ("-PT5S", "2025-01-01T00:00:00Z", "2024-12-31T23:59:55Z"),  # in the past: due at once
    ],
)
def test_a_duration_is_due_that_long_after_its_start(text: str, start: str, due: str) -> None:
    assert iso(parse_timer("duration", text).first_due(ms(start))) == due


def test_calendar_days_follow_the_zone_and_hours_stay_exact_across_a_dst_change() -> None:
    start = ms("2025-03-29T12:00:00+01:00")  # Berlin, the day before spring forward
    assert parse_timer("duration", "P1D", zone=BERLIN).first_due(start) == start + 23 * HOUR
    assert parse_timer("duration", "PT24H", zone=BERLIN).first_due(start) == start + 24 * HOUR
    assert parse_timer("duration", "P1D").first_due(start) == start + 24 * HOUR  # UTC by default


def test_a_duration_with_a_start_is_due_at_the_start_as_zeebes_interval_is() -> None:
    timer = parse_timer("duration", "2025-01-01T08:00:00Z/PT1H")
    assert iso(timer.first_due(ms("2024-01-01T00:00:00+00:00"))) == "2025-01-01T08:00:00Z"
    assert timer.first_due(ms("2026-01-01T00:00:00+00:00")) == ms("2026-01-01T00:00:00+00:00")


def test_every_timer_is_a_timer_definition() -> None:
    timers: list[TimerDefinition] = [
        parse_timer("duration", "PT1S"),
        parse_timer("date", "2025-01-01T00:00:00Z"),
        parse_timer("cycle", "R/PT1S"),
        parse_timer("cycle", "@daily"),
    ]
    assert [timer.repetitions for timer in timers] == [1, 1, None, None]


def test_a_duration_past_the_year_9999_is_due_never() -> None:
    assert parse_timer("duration", "P9999Y").first_due(0) == LATEST_DUE_TIME
    assert parse_timer("duration", "PT9223372036854775807S").first_due(0) == LATEST_DUE_TIME


def test_overlong_timer_text_is_refused_before_parsing() -> None:
    with pytest.raises(TimerParseError, match="longer than 1000 characters"):
        parse_timer("cycle", "R/" + "P" * 5000)


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("2019-10-01T12:00:00Z", "2019-10-01T12:00:00Z"),
        ("2019-10-02T08:09:40+02:00", "2019-10-02T06:09:40Z"),
        ("2019-10-02T08:09:40+02:00[Europe/Berlin]", "2019-10-02T06:09:40Z"),
        ("2025-01-01T08:00:00Z[UTC]", "2025-01-01T08:00:00Z"),
        ("2025-01-01T08:00Z", "2025-01-01T08:00:00Z"),  # seconds are optional
        ("2025-01-01T08:00:00.123456789Z", "2025-01-01T08:00:00.123000Z"),
        ("2025-01-01T08:00:00-0530", "2025-01-01T13:30:00Z"),
        ("2025-01-01T08:00:00+01", "2025-01-01T07:00:00Z"),
        ("2025-01-01t08:00:00z", "2025-01-01T08:00:00Z"),
        # the offset fixes the instant even where the region disagrees (Berlin is +01:00 in January)
        ("2025-01-01T08:00:00+02:00[Europe/Berlin]", "2025-01-01T06:00:00Z"),
    ],
)
def test_a_date_is_due_at_its_instant_whenever_it_is_scheduled(text: str, due: str) -> None:
    timer = parse_timer("date", text)
    assert isinstance(timer, DateTimer)
    assert iso(timer.first_due(0)) == due
    assert timer.first_due(ms("2030-01-01T00:00:00Z")) == timer.first_due(0)  # past: due at once
    assert timer.next_due(timer.first_due(0)) is None


@pytest.mark.parametrize(
    "text",
    [
        "foo",
        "2025-01-01T08:00:00",  # ZonedDateTime.parse needs an offset (no system-default fallback)
        "2025-01-01T08:00:00[Europe/Berlin]",
        "2025-01-01",
        "2025-02-30T08:00:00Z",
        "2025-01-01T24:00:00Z",
        "2025-01-01T08:00:00+19:00",
        "2025-01-01T08:00:00Z[Mars/Olympus]",
        "2025-01-01T08:00:00Z[../../etc/passwd]",
        "2025-01-01 08:00:00Z",
    ],
)
def test_malformed_dates_are_refused_with_zeebes_wording(text: str) -> None:
    with pytest.raises(TimerParseError) as caught:
        parse_timer("date", text)
    assert caught.value.reason == f"Invalid date-time format '{text}' for expression '{text}'."


# --- repeating intervals -----------------------------------------------------------------------


def test_a_counted_cycle_repeats_its_interval() -> None:
    timer = parse_timer("cycle", "R5/PT10S")
    assert isinstance(timer, RepeatingIntervalTimer)
    assert timer.repetitions == 5
    first = timer.first_due(1_000)
    assert first == 11_000
    assert timer.next_due(first) == 21_000


def test_a_cycle_without_a_count_repeats_for_ever() -> None:
    timer = parse_timer("cycle", "R/PT1H")
    assert timer.repetitions is None
    assert timer.first_due(0) == HOUR


def test_a_huge_count_is_only_a_number() -> None:
    timer = parse_timer("cycle", f"R{10**12}/PT1S")
    assert timer.repetitions == 10**12
    assert timer.next_due(5 * SECOND) == 6 * SECOND


def test_a_cycle_with_a_start_fires_first_at_the_start_or_at_once_when_it_has_passed() -> None:
    timer = parse_timer("cycle", "R3/2025-01-01T08:00:00Z/P1D")
    assert timer.repetitions == 3
    assert iso(timer.first_due(ms("2024-12-01T00:00:00Z"))) == "2025-01-01T08:00:00Z"
    late = ms("2025-02-01T10:00:00Z")
    assert timer.first_due(late) == late
    assert iso(timer.next_due(ms("2025-01-01T08:00:00Z"))) == "2025-01-02T08:00:00Z"  # type: ignore[arg-type]


def test_a_cycle_starting_in_a_region_adds_months_in_that_region() -> None:
    timer = parse_timer("cycle", "R/2025-03-01T09:00:00+01:00[Europe/Berlin]/P1M")
    assert iso(timer.next_due(ms("2025-03-01T09:00:00+01:00"))) == "2025-04-01T07:00:00Z"  # type: ignore[arg-type]


def test_missed_cycles_are_not_made_up_for() -> None:
    timer = parse_timer("cycle", "R/PT1M")
    assert timer.next_due(0, now_ms=10 * 60 * SECOND + 5) == 11 * 60 * SECOND + 5
    assert timer.next_due(0, now_ms=30 * SECOND) == 60 * SECOND


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("R5", "No interval given"),
        ("Rx/PT1S", "Cannot parse repetitions count"),
        ("R-1/PT1S", "Cannot parse repetitions count"),
        ("R/P1D/2025-01-01T00:00:00Z", "Text 'P1D' could not be parsed as a date-time"),  # no end form
        ("R/foo", "Text 'foo' cannot be parsed to a duration"),
        (
            "R/PT0S",
            "the interval 'PT0S' of a repeating timer must be at least 1 ms long, with no negative part",
        ),
        (
            "R/-PT1S",
            "the interval 'PT-1S' of a repeating timer must be at least 1 ms long, with no negative part",
        ),
        ("foo", 'Cron expression must consist of 6 fields (found 1 in "foo")'),
        ("", "Expression string must not be empty"),
        ("r5/PT1S", 'Cron expression must consist of 6 fields (found 1 in "r5/PT1S")'),  # not an R: cron
    ],
)
def test_malformed_cycles_are_refused(text: str, reason: str) -> None:
    with pytest.raises(TimerParseError) as caught:
        parse_timer("cycle", text)
    assert caught.value.reason == reason
    assert str(caught.value) == f"Invalid timer cycle expression ({reason})"


# --- cron --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "after", "fires"),
    [
        ("* * * * * *", "2025-06-10T10:20:58Z", ["2025-06-10T10:20:59Z", "2025-06-10T10:21:00Z"]),
        ("* * * * * *", "2025-06-10T10:20:58.500Z", ["2025-06-10T10:20:59Z"]),  # whole seconds
        ("*/10 * * * * *", "2025-06-10T10:20:58Z", ["2025-06-10T10:21:00Z", "2025-06-10T10:21:10Z"]),
        ("10 * * * * *", "2025-06-10T10:20:09Z", ["2025-06-10T10:20:10Z", "2025-06-10T10:21:10Z"]),
        ("10-15 * * * * *", "2025-06-10T10:20:14Z", ["2025-06-10T10:20:15Z", "2025-06-10T10:21:10Z"]),
        ("55 5 * * * *", "2025-06-10T10:04:54Z", ["2025-06-10T10:05:55Z", "2025-06-10T11:05:55Z"]),
        ("55 * 10 * * *", "2025-06-10T09:00:54Z", ["2025-06-10T10:00:55Z", "2025-06-10T10:01:55Z"]),
        ("* 5 10 * * *", "2025-06-10T09:04:00Z", ["2025-06-10T10:05:00Z", "2025-06-10T10:05:01Z"]),
        ("55 * * 3 * *", "2025-06-02T10:00:54Z", ["2025-06-03T00:00:55Z", "2025-06-03T00:01:55Z"]),
        ("* * * 3 11 *", "2025-10-02T10:00:00Z", ["2025-11-03T00:00:00Z", "2025-11-03T00:00:01Z"]),
        ("0 0 * L * *", "2022-01-30T00:01:00Z", ["2022-01-31T00:00:00Z", "2022-01-31T01:00:00Z"]),
        (
            "0 0 0 L-3 * *",
            "2022-01-10T00:00:00Z",
            ["2022-01-28T00:00:00Z", "2022-02-25T00:00:00Z", "2022-03-28T00:00:00Z", "2022-04-27T00:00:00Z"],
        ),
        ("0 0 * L-1 * *", "2022-01-29T00:01:00Z", ["2022-01-30T00:00:00Z"]),
        ("0 0 * 1W * *", "2022-06-29T00:01:00Z", ["2022-07-01T00:00:00Z", "2022-07-01T01:00:00Z"]),
        ("0 0 0 1W * *", "2022-04-15T00:00:00Z", ["2022-05-02T00:00:00Z"]),  # May 1st is a Sunday
        ("0 0 0 15W * *", "2022-01-01T00:00:00Z", ["2022-01-14T00:00:00Z"]),  # the 15th is a Saturday
        ("0 0 * LW * *", "2022-06-29T00:01:00Z", ["2022-06-30T00:00:00Z"]),
        ("0 0 0 LW * *", "2022-07-01T00:00:00Z", ["2022-07-29T00:00:00Z"]),  # July 31st is a Sunday
        ("0 0 0 * * 5L", "2022-01-10T00:00:00Z", ["2022-01-28T00:00:00Z", "2022-02-25T00:00:00Z"]),
        ("0 0 0 * * THUL", "2022-01-10T00:00:00Z", ["2022-01-27T00:00:00Z"]),
        ("0 0 0 ? * 5#2", "2022-01-10T00:00:00Z", ["2022-01-14T00:00:00Z", "2022-02-11T00:00:00Z"]),
        ("0 0 0 ? * MON#1", "2022-01-10T00:00:00Z", ["2022-02-07T00:00:00Z", "2022-03-07T00:00:00Z"]),
        ("0 0 9-17 * * MON-FRI", "2025-01-03T17:00:00Z", ["2025-01-06T09:00:00Z", "2025-01-06T10:00:00Z"]),
        ("0 0/30 8-10 * * *", "2025-01-01T10:30:00Z", ["2025-01-02T08:00:00Z", "2025-01-02T08:30:00Z"]),
        ("0 0 6,19 * * *", "2025-01-01T07:00:00Z", ["2025-01-01T19:00:00Z", "2025-01-02T06:00:00Z"]),
        ("0 0 0 25 12 ?", "2025-01-01T00:00:00Z", ["2025-12-25T00:00:00Z", "2026-12-25T00:00:00Z"]),
        ("0 0 0 * * SUN-SAT", "2025-01-01T00:00:00Z", ["2025-01-02T00:00:00Z"]),
        ("0 0 0 * * 0", "2025-01-01T00:00:00Z", ["2025-01-05T00:00:00Z"]),  # 0 and 7 are Sunday
        ("0 0 0 * * 7", "2025-01-01T00:00:00Z", ["2025-01-05T00:00:00Z"]),
        ("0 0 0 * * 7-7", "2025-01-01T00:00:00Z", ["2025-01-02T00:00:00Z"]),  # Spring's quirk: 0-7
        ("0 0 0 1 jan-mar/2 *", "2025-01-01T00:00:00Z", ["2025-03-01T00:00:00Z", "2026-01-01T00:00:00Z"]),
        # both day fields must match (Spring), not either (Vixie cron)
        ("0 0 0 13 * FRI", "2025-01-01T00:00:00Z", ["2025-06-13T00:00:00Z", "2026-02-13T00:00:00Z"]),
        ("0 0 0 29 2 MON", "2017-01-01T00:00:00Z", ["2044-02-29T00:00:00Z"]),  # rare, not never
        ("@yearly", "2025-06-01T00:00:00Z", ["2026-01-01T00:00:00Z"]),
        ("@annually", "2025-06-01T00:00:00Z", ["2026-01-01T00:00:00Z"]),
        ("@monthly", "2025-06-15T00:00:00Z", ["2025-07-01T00:00:00Z"]),
        ("@weekly", "2025-01-01T00:00:00Z", ["2025-01-05T00:00:00Z"]),
        ("@daily", "2025-01-01T00:00:00Z", ["2025-01-02T00:00:00Z"]),
        ("@midnight", "2025-01-01T12:00:00Z", ["2025-01-02T00:00:00Z"]),
        ("@HOURLY", "2025-01-01T12:00:00Z", ["2025-01-01T13:00:00Z"]),
        (" 0 0 12 * * ? ", "2025-01-01T12:00:00Z", ["2025-01-02T12:00:00Z"]),
    ],
)
def test_cron_fires_at_each_matching_second_after_the_given_instant(
    expression: str, after: str, fires: list[str]
) -> None:
    timer = parse_timer("cycle", expression)
    assert isinstance(timer, CronTimer)
    assert timer.repetitions is None
    due = timer.first_due(ms(after.replace("Z", "+00:00")))
    seen = [iso(due)]
    for _ in fires[1:]:
        next_due = timer.next_due(due)
        assert next_due is not None
        due = next_due
        seen.append(iso(due))
    assert seen == [f.replace("Z", "Z") for f in fires]


def test_cron_fields_are_local_times_in_the_zone() -> None:
    timer = parse_timer("cycle", "0 0 9 * * *", zone=BERLIN)
    assert iso(timer.first_due(ms("2025-01-01T00:00:00Z"))) == "2025-01-01T08:00:00Z"
    assert iso(timer.first_due(ms("2025-07-01T00:00:00Z"))) == "2025-07-01T07:00:00Z"
    # 02:30 does not exist on 2025-03-30 in Berlin: it fires at 03:30 local, as java.time shifts it
    gap = parse_timer("cycle", "0 30 2 * * *", zone=BERLIN)
    assert iso(gap.first_due(ms("2025-03-30T00:00:00Z"))) == "2025-03-30T01:30:00Z"


def test_cron_next_due_does_not_make_up_for_missed_fires() -> None:
    timer = parse_timer("cycle", "0 * * * * *")
    assert timer.next_due(0, now_ms=10 * 60 * SECOND + 1) == 11 * 60 * SECOND


@pytest.mark.parametrize(
    "expression",
    [
        "*",
        "* * * * *",
        "* * * * * * *",
        "0  0 * * * *",
        "60 * * * * *",
        "20-10 * * * * *",
        "* 60 * * * *",
        "* 20-10 * * * *",
        "* * 24 * * *",
        "* * 20-10 * * *",
        "* * * 0 * *",
        "* * * 32 * *",
        "* * * * 0 *",
        "* * * * 13 *",
        "* * * * * 8",
        "* * * * * *SUN",
        "* * * * * SUN*",
        "*/0 * * * * *",
        "? * * * * *",
        "0 0 0 L-31 * *",
        "0 0 0 * * L",
        "0 0 0 * * 5#6",
        "0 0 0 * * #2",
        "0 0 0 32W * *",
        "a b c d e f",
    ],
)
def test_malformed_cron_expressions_are_refused(expression: str) -> None:
    with pytest.raises(TimerParseError) as caught:
        parse_timer("cycle", expression)
    assert caught.value.kind == "cycle"


@pytest.mark.parametrize(
    "expression", ["0 0 0 30 2 *", "0 0 0 31 6 *", "0 0 0 31 4,6,9,11 *", "0 0 0 1-7 * 1L"]
)
def test_a_cron_that_can_never_fire_is_refused(expression: str) -> None:
    # Zeebe accepts these and fires once at once (CronTimer.getDueDate falls back to "now");
    # we refuse them at deployment instead
    with pytest.raises(TimerParseError, match="it would never fire"):
        parse_timer("cycle", expression)


def test_refusing_an_impossible_cron_is_quick() -> None:
    started = time.perf_counter()
    with pytest.raises(TimerParseError):
        parse_timer("cycle", "* * * 1-7 * 1L")
    assert time.perf_counter() - started < 1.0


def test_cron_near_the_year_9999_is_due_never() -> None:
    timer = parse_timer("cycle", "0 0 0 1 1 *")
    assert timer.next_due(ms("9999-06-01T00:00:00+00:00")) is None
    assert timer.first_due(ms("9999-06-01T00:00:00+00:00")) == LATEST_DUE_TIME


# --- FEEL values -------------------------------------------------------------------------------


def feel(source: str) -> object:
    return compile_expression(source).evaluate({})


def test_feel_durations_become_duration_timers() -> None:
    exact = timer_from_value("duration", feel('duration("PT5M")'), expression='duration("PT5M")')
    assert exact.first_due(0) == 5 * 60 * SECOND
    two_days = timer_from_value("duration", feel('@"P2D"'), expression='@"P2D"', zone=BERLIN)
    start = ms("2025-03-29T12:00:00+01:00")
    assert two_days.first_due(start) == start + 48 * HOUR  # a days-time duration is exact
    months = timer_from_value("duration", YearMonthDuration(1), expression="p")
    assert iso(months.first_due(ms("2025-01-31T00:00:00+00:00"))) == "2025-02-28T00:00:00Z"
    text = timer_from_value("duration", "PT1S", expression="x")
    assert text.first_due(0) == SECOND


def test_feel_date_times_become_date_timers() -> None:
    zoned = timer_from_value(
        "date", feel('date and time("2025-01-01T08:00:00@Europe/Berlin")'), expression="d"
    )
    assert iso(zoned.first_due(0)) == "2025-01-01T07:00:00Z"
    offset = timer_from_value("date", feel('date and time("2025-01-01T08:00:00+02:00")'), expression="d")
    assert iso(offset.first_due(0)) == "2025-01-01T06:00:00Z"
    # a local date-time is in the default zone (Zeebe: the system default; here a parameter, UTC)
    naive = feel('date and time("2025-01-01T08:00:00")')
    assert iso(timer_from_value("date", naive, expression="d").first_due(0)) == "2025-01-01T08:00:00Z"
    assert (
        iso(timer_from_value("date", naive, expression="d", zone=BERLIN).first_due(0))
        == "2025-01-01T07:00:00Z"
    )
    text = timer_from_value("date", "2025-01-01T08:00:00Z", expression="d")
    assert iso(text.first_due(0)) == "2025-01-01T08:00:00Z"


def test_feel_strings_become_cycles() -> None:
    assert isinstance(timer_from_value("cycle", "R2/PT1S", expression="c"), RepeatingIntervalTimer)
    assert isinstance(timer_from_value("cycle", "0 0 * * * *", expression="c"), CronTimer)


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        (
            "duration",
            5,
            "Expected result of the expression 'x' to be one of '[DURATION, PERIOD, STRING]', but was 'NUMBER'.",
        ),
        (
            "duration",
            None,
            "Expected result of the expression 'x' to be one of '[DURATION, PERIOD, STRING]', but was 'NULL'.",
        ),
        (
            "date",
            date(2025, 1, 1),
            "Expected result of the expression 'x' to be one of '[DATE_TIME, STRING]', but was 'DATE'.",
        ),
        (
            "date",
            True,
            "Expected result of the expression 'x' to be one of '[DATE_TIME, STRING]', but was 'BOOLEAN'.",
        ),
        (
            "cycle",
            timedelta(hours=1),
            "Expected result of the expression 'x' to be 'STRING', but was 'DURATION'.",
        ),
        ("cycle", [], "Expected result of the expression 'x' to be 'STRING', but was 'ARRAY'."),
        ("duration", "soon", "Invalid duration format 'soon' for expression 'x'."),
        ("date", "tomorrow", "Invalid date-time format 'tomorrow' for expression 'x'."),
    ],
)
def test_feel_values_of_the_wrong_type_are_refused_with_zeebes_wording(
    kind: str, value: object, reason: str
) -> None:
    with pytest.raises(TimerParseError) as caught:
        timer_from_value(kind, value, expression="x")  # type: ignore[arg-type]
    assert caught.value.reason == reason


# --- properties --------------------------------------------------------------------------------

_intervals = st.builds(
    IsoInterval,
    months=st.integers(-(2**31), 2**31 - 1),
    days=st.integers(-(2**31), 2**31 - 1),
    nanos=st.integers(-(10**27), 10**27),
)


@given(_intervals)
def test_durations_round_trip_through_their_iso_text(interval: IsoInterval) -> None:
    assert parse_iso_interval(str(interval)) == interval


_instants = st.integers(ms("1990-01-01T00:00:00+00:00"), ms("2090-01-01T00:00:00+00:00"))
_positive_intervals = st.builds(
    IsoInterval,
    months=st.integers(0, 24),
    days=st.integers(0, 400),
    nanos=st.integers(0, 10**15),
).filter(lambda interval: interval.is_positive)


@given(_positive_intervals, _instants, st.sampled_from([UTC, BERLIN]))
def test_repeating_interval_due_times_strictly_increase(
    interval: IsoInterval, start: int, zone: object
) -> None:
    timer = parse_timer("cycle", f"R/{interval}", zone=zone)  # type: ignore[arg-type]
    due = timer.first_due(start)
    assert due > start
    for _ in range(5):
        next_due = timer.next_due(due)
        assert next_due is not None and next_due > due
        due = next_due


# A random "simple" cron field: its text and the set of values it stands for, computed here
# independently of the parser.


def _field(low: int, high: int, star_high: int | None = None) -> st.SearchStrategy[tuple[str, set[int]]]:
    values = st.integers(low, high)
    star = st.just(("*", set(range(low, (star_high or high) + 1))))
    single = values.map(lambda v: (str(v), {v}))
    span = (
        st.tuples(values, values)
        .map(sorted)
        .map(lambda ab: (f"{ab[0]}-{ab[1]}", set(range(ab[0], ab[1] + 1))))
    )
    if (low, high) == (1, 7):  # Spring: Sunday (7) starting a range is 0, so 7-7 is the whole week
        span = span.map(lambda item: (item[0], set(range(1, 8))) if item[0] == "7-7" else item)
    step = st.tuples(values, st.integers(1, high)).map(
        lambda a_n: (f"{a_n[0]}/{a_n[1]}", set(range(a_n[0], (star_high or high) + 1, a_n[1])))
    )
    every = st.integers(1, high).map(lambda n: (f"*/{n}", set(range(low, (star_high or high) + 1, n))))
    pair = st.tuples(values, values).map(lambda ab: (f"{ab[0]},{ab[1]}", {ab[0], ab[1]}))
    return st.one_of(star, single, span, step, every, pair)


_cron = st.tuples(
    _field(0, 59),
    _field(0, 59),
    _field(0, 23),
    _field(1, 28, star_high=31),
    st.sampled_from([("*", set(range(1, 13)))]) | _field(1, 12),
    st.one_of(st.just(("*", set(range(1, 8)))), _field(1, 7), st.just(("?", set(range(1, 8))))),
)


def _brute_force_next(fields: tuple[set[int], ...], after_ms: int) -> int:
    seconds, minutes, hours, days, months, weekdays = fields
    moment = datetime.fromtimestamp(after_ms // 1000, UTC).replace(tzinfo=None) + timedelta(seconds=1)
    day = moment.date()
    for _ in range(366 * 30):
        if day.month in months and day.day in days and day.isoweekday() in weekdays:
            for minute_of_day in range(24 * 60):
                hour, minute = divmod(minute_of_day, 60)
                if hour in hours and minute in minutes:
                    for second in sorted(seconds):
                        candidate = datetime(day.year, day.month, day.day, hour, minute, second)
                        if candidate >= moment:
                            return (candidate - datetime(1970, 1, 1)) // timedelta(milliseconds=1)
        day += timedelta(days=1)
    raise AssertionError("no fire within 30 years")


@settings(max_examples=150, deadline=None)
@given(_cron, _instants)
def test_cron_next_fire_matches_a_brute_force_scan(
    cron: tuple[tuple[str, set[int]], ...], after: int
) -> None:
    text = " ".join(part for part, _ in cron)
    sets = tuple(values for _, values in cron)
    try:
        timer = parse_timer("cycle", text)
    except TimerParseError as error:
        assert "never fire" in error.reason
        return
    assert timer.first_due(after) == _brute_force_next(sets, after)
