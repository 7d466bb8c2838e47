"""SLA business time: exact deadlines across weekends, holidays, time zones and pauses."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satupintu.engine.business_time import BusinessCalendar, CalendarError, indonesian_holidays

WIB = "Asia/Jakarta"
WITA = "Asia/Makassar"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def office(tz: str = WIB, **kwargs: object) -> BusinessCalendar:
    return BusinessCalendar.office_hours(tz, time(8), time(17), **kwargs)  # type: ignore[arg-type]


def test_deadline_rolls_over_the_weekend_to_the_second() -> None:
    # Friday 20 Nov 2026, 16:30:15 WIB = 09:30:15 UTC; 4 business hours.
    deadline = office().add_business_seconds(utc(2026, 11, 20, 9, 30, 15), 4 * 3600)
    assert deadline == datetime.fromisoformat("2026-11-23T11:30:15+07:00")


def test_a_public_holiday_moves_the_deadline_a_day() -> None:
    holidays = indonesian_holidays([2026])
    assert date(2026, 5, 14) in holidays  # Kenaikan Yesus Kristus, a Thursday
    start = datetime.fromisoformat("2026-05-13T16:00:00+07:00")  # Wednesday
    with_holidays = office(closed=holidays).add_business_seconds(start, 2 * 3600)
    without = office().add_business_seconds(start, 2 * 3600)
    assert without == datetime.fromisoformat("2026-05-14T09:00:00+07:00")
    assert with_holidays == datetime.fromisoformat("2026-05-15T09:00:00+07:00")


def test_idul_fitri_moves_between_years() -> None:
    def eid(year: int) -> set[date]:
        return {d for d, name in indonesian_holidays([year]).items() if "Idul Fitri" in name}

    assert eid(2026) and eid(2027)
    assert {(d.month, d.day) for d in eid(2026)} != {(d.month, d.day) for d in eid(2027)}


def test_same_local_hours_differ_by_an_hour_between_wib_and_wita() -> None:
    start = utc(2026, 11, 23, 0, 0)  # Monday 07:00 WIB = 08:00 WITA
    wib = office(WIB).add_business_seconds(start, 3600)
    wita = office(WITA).add_business_seconds(start, 3600)
    assert wib == datetime.fromisoformat("2026-11-23T09:00:00+07:00")
    assert wita == datetime.fromisoformat("2026-11-23T09:00:00+08:00")
    assert (wib - wita) == timedelta(hours=1)


def test_pending_customer_pause_stops_the_clock() -> None:
    cal = office()
    start = datetime.fromisoformat("2026-11-23T08:00:00+07:00")
    pause = (
        datetime.fromisoformat("2026-11-23T09:00:00+07:00"),
        datetime.fromisoformat("2026-11-23T11:30:00+07:00"),
    )
    deadline = cal.add_business_seconds(start, 2 * 3600, pauses=[pause])
    assert deadline == datetime.fromisoformat("2026-11-23T12:30:00+07:00")
    assert cal.business_seconds_between(start, deadline, pauses=[pause]) == 2 * 3600


def test_special_hours_and_split_shifts() -> None:
    cal = BusinessCalendar(
        tz=WIB,
        weekly=tuple(
            ((time(8), time(12)), (time(13), time(17))) if i < 6 else () for i in range(7)
        ),
        special={date(2026, 11, 24): ((time(8), time(10)),)},
    )
    start = datetime.fromisoformat("2026-11-23T11:00:00+07:00")
    # 1 h before lunch, 4 h after on Monday, then 2 h on the short Tuesday, then Wednesday.
    assert cal.add_business_seconds(start, 8 * 3600) == datetime.fromisoformat(
        "2026-11-25T09:00:00+07:00"
    )
    assert not cal.is_open(datetime.fromisoformat("2026-11-23T12:30:00+07:00"))
    assert cal.is_open(datetime.fromisoformat("2026-11-23T13:00:00+07:00"))


def test_a_start_outside_hours_waits_for_opening() -> None:
    start = datetime.fromisoformat("2026-11-22T23:59:59+07:00")  # Sunday night
    assert office().add_business_seconds(start, 1) == datetime.fromisoformat(
        "2026-11-23T08:00:01+07:00"
    )


def test_always_open_is_wall_clock_time() -> None:
    cal = BusinessCalendar.always_open(WIB)
    start = utc(2026, 11, 21, 22, 15)
    assert cal.add_business_seconds(start, 36 * 3600) == start + timedelta(hours=36)


def test_bad_calendars_are_refused_with_the_reason() -> None:
    with pytest.raises(CalendarError, match="time zone"):
        BusinessCalendar.office_hours("Mars/Olympus", time(8), time(17))
    with pytest.raises(CalendarError, match="Monday"):
        BusinessCalendar(tz=WIB, weekly=(((time(17), time(8)),),) + ((),) * 6)
    with pytest.raises(CalendarError, match="overlap"):
        BusinessCalendar(tz=WIB, weekly=(((time(8), time(12)), (time(11), time(13))),) + ((),) * 6)
    with pytest.raises(CalendarError, match="no open hours"):
        BusinessCalendar(tz=WIB, weekly=((),) * 7).add_business_seconds(utc(2026, 1, 1), 1)
    with pytest.raises(CalendarError, match="time zone"):
        office().add_business_seconds(datetime(2026, 1, 1, 8), 60)
    with pytest.raises(CalendarError, match="negative"):
        office().add_business_seconds(utc(2026, 1, 1), -1)


moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=200, deadline=None)
@given(start=moments, seconds=st.integers(min_value=0, max_value=30 * 24 * 3600))
def test_adding_then_measuring_gives_back_the_duration(start: datetime, seconds: int) -> None:
    cal = office(closed=indonesian_holidays([2025, 2026, 2027]))
    deadline = cal.add_business_seconds(start, seconds)
    assert deadline >= start
    assert cal.business_seconds_between(start, deadline) == pytest.approx(seconds, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(start=moments, a=st.integers(0, 10**6), b=st.integers(0, 10**6))
def test_deadlines_are_monotone_in_the_target(start: datetime, a: int, b: int) -> None:
    cal = office(WITA)
    low, high = sorted((a, b))
    assert cal.add_business_seconds(start, low) <= cal.add_business_seconds(start, high)
