"""Business-hours arithmetic for SLA clocks: open hours per weekday, holidays, closures, pauses.

Everything is computed in the calendar's own time zone (WIB, WITA, WIT or any IANA zone) and
returned as aware datetimes, so a deadline is exact to the second across weekends, public
holidays and a site's time zone.

>>> from datetime import datetime, time, timezone
>>> cal = BusinessCalendar.office_hours("Asia/Jakarta", time(8), time(17))
>>> friday_4pm_wib = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
>>> cal.add_business_seconds(friday_4pm_wib, 4 * 3600).isoformat()
'2026-11-23T11:00:00+07:00'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Span = tuple[time, time]
Interval = tuple[datetime, datetime]

# A calendar with no open hour for this long has no deadline: say so instead of looping.
MAX_SEARCH_DAYS = 3 * 366


class CalendarError(ValueError):
    """The calendar cannot answer: it is never open, or its hours are malformed."""


def _check_spans(spans: Iterable[Span], where: str) -> tuple[Span, ...]:
    ordered = tuple(sorted(spans))
    previous_end: time | None = None
    for start, end in ordered:
        if not start < end:
            raise CalendarError(f"{where}: opening {start} is not before closing {end}")
        if previous_end is not None and start < previous_end:
            raise CalendarError(f"{where}: hours overlap at {start}")
        previous_end = end
    return ordered


@dataclass(frozen=True)
class BusinessCalendar:
    """Open hours per weekday (Monday = 0), closed dates, and dates with special hours."""

    tz: str
    weekly: tuple[tuple[Span, ...], ...]
    closed: frozenset[date] = field(default_factory=frozenset)
    special: Mapping[date, tuple[Span, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.tz)
        except Exception as exc:
            raise CalendarError(f"unknown time zone {self.tz!r}") from exc
        if len(self.weekly) != 7:
            raise CalendarError("weekly hours need exactly 7 days, Monday first")
        days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        object.__setattr__(self, "weekly",
                           tuple(_check_spans(s, days[i]) for i, s in enumerate(self.weekly)))
        object.__setattr__(self, "special",
                           {d: _check_spans(s, d.isoformat()) for d, s in self.special.items()})

    @classmethod
    def office_hours(cls, tz: str, opens: time, closes: time, *, days: int = 5,
                     closed: Iterable[date] = ()) -> BusinessCalendar:
        """Same hours on the first ``days`` weekdays (5: Monday to Friday)."""
        weekly = tuple(((opens, closes),) if i < days else () for i in range(7))
        return cls(tz=tz, weekly=weekly, closed=frozenset(closed))

    @classmethod
    def always_open(cls, tz: str) -> BusinessCalendar:
        return cls(tz=tz, weekly=tuple(((time(0), time.max),) for _ in range(7)))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def spans_on(self, day: date) -> tuple[Span, ...]:
        if day in self.special:
            return self.special[day]
        if day in self.closed:
            return ()
        return self.weekly[day.weekday()]

    def _day_intervals(self, day: date) -> Iterator[Interval]:
        zone = self.zone
        for start, end in self.spans_on(day):
            opening = datetime.combine(day, start, zone)
            closing = (datetime.combine(day + timedelta(days=1), time(0), zone)
                       if end == time.max else datetime.combine(day, end, zone))
            yield opening, closing

    def open_intervals(self, start: datetime) -> Iterator[Interval]:
        """Open intervals from ``start`` onwards, the first clipped to start."""
        _require_aware(start)
        local = start.astimezone(self.zone)
        day = local.date()
        for offset in range(MAX_SEARCH_DAYS + 1):
            for opening, closing in self._day_intervals(day + timedelta(days=offset)):
                if closing <= local:
                    continue
                yield max(opening, local), closing
        raise CalendarError(f"no open hours within {MAX_SEARCH_DAYS} days of {start}")

    def is_open(self, moment: datetime) -> bool:
        _require_aware(moment)
        local = moment.astimezone(self.zone)
        return any(o <= local < c for o, c in self._day_intervals(local.date()))

    def add_business_seconds(self, start: datetime, seconds: float,
                             pauses: Iterable[Interval] = ()) -> datetime:
        """The moment when ``seconds`` of open, unpaused time have passed since ``start``."""
        if seconds < 0:
            raise CalendarError(f"a duration cannot be negative: {seconds}")
        remaining = timedelta(seconds=seconds)
        paused = _normalise(pauses)
        for opening, closing in self.open_intervals(start):
            for piece_start, piece_end in _subtract(opening, closing, paused):
                length = piece_end - piece_start
                if remaining <= length:
                    return (piece_start + remaining).astimezone(self.zone)
                remaining -= length
        raise CalendarError("unreachable")  # pragma: no cover - open_intervals raises first

    def business_seconds_between(self, start: datetime, end: datetime,
                                 pauses: Iterable[Interval] = ()) -> float:
        """Open, unpaused seconds in [start, end); negative when end is before start."""
        _require_aware(start)
        _require_aware(end)
        if end < start:
            return -self.business_seconds_between(end, start, pauses)
        total = timedelta(0)
        paused = _normalise(pauses)
        local_end = end.astimezone(self.zone)
        day = start.astimezone(self.zone).date()
        while day <= local_end.date():
            for opening, closing in self._day_intervals(day):
                lo, hi = max(opening, start), min(closing, end)
                if lo < hi:
                    for a, b in _subtract(lo, hi, paused):
                        total += b - a
            day += timedelta(days=1)
        return total.total_seconds()


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CalendarError(f"{moment} has no time zone; SLA times must be aware")


def _normalise(pauses: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for a, b in sorted((p for p in pauses if p[0] < p[1]), key=lambda p: p[0]):
        _require_aware(a)
        _require_aware(b)
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _subtract(start: datetime, end: datetime, pauses: list[Interval]) -> Iterator[Interval]:
    cursor = start
    for a, b in pauses:
        if b <= cursor or a >= end:
            continue
        if a > cursor:
            yield cursor, a
        cursor = max(cursor, b)
        if cursor >= end:
            return
    if cursor < end:
        yield cursor, end


def indonesian_holidays(years: Iterable[int], language: str = "id") -> dict[date, str]:
    """Indonesia's public holidays, the moving Islamic ones included (``holidays`` package).

    Dates of Islamic holidays in future years are the package's estimates until the
    government's decree; add ad-hoc closures (cuti bersama) to the calendar's ``closed``.
    """
    import holidays

    found = holidays.country_holidays("ID", years=list(years), language=language)
    return {day: str(name) for day, name in found.items()}
