"""KPI definitions: the worked examples of DOMAIN-NOTES, the variants, and properties."""

from __future__ import annotations

import doctest
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from satupintu.engine import kpi
from satupintu.engine.kpi import (
    AbandonBase,
    AdherenceSpan,
    AgentTime,
    AttendanceDay,
    FcrCase,
    Outcome,
    QueuedContact,
    SlFormula,
)

A, X = Outcome.ANSWERED, Outcome.ABANDONED


def test_doctests() -> None:
    result = doctest.testmod(kpi)
    assert result.attempted > 10 and result.failed == 0


# --- worked examples (DOMAIN-NOTES "Metric definitions") ----------------------------------

def test_adherence_480_scheduled_450_adherent_is_93_75() -> None:
    assert kpi.adherence([AdherenceSpan(480 * 60, 450 * 60)]) == 93.75
    # the same day in two segments
    assert kpi.adherence([AdherenceSpan(240 * 60, 230 * 60),
                          AdherenceSpan(240 * 60, 220 * 60)]) == 93.75


def test_attendance_21_of_22_days_is_95_45() -> None:
    days = [AttendanceDay(True, i < 21) for i in range(22)] + [AttendanceDay(False, False)]
    assert round(kpi.attendance(days) or 0, 2) == 95.45


def test_csat_74_of_107_is_69() -> None:
    scores = [5] * 40 + [4] * 34 + [3] * 20 + [2] * 8 + [1] * 5
    assert len(scores) == 107
    assert round(kpi.csat(scores) or 0) == 69


def test_nps_and_ces() -> None:
    assert kpi.nps([10] * 6 + [8] * 2 + [3] * 2) == 40.0
    assert kpi.nps([0, 6]) == -100.0
    assert kpi.ces([1, 7]) == 4.0
    with pytest.raises(ValueError):
        kpi.csat([0])
    with pytest.raises(ValueError):
        kpi.nps([11])
    with pytest.raises(ValueError):
        kpi.ces([8])


def test_empty_inputs_give_none() -> None:
    for value in (kpi.aht([]), kpi.asa([]), kpi.service_level([], 20), kpi.abandonment_rate([]),
                  kpi.occupancy([]), kpi.adherence([]), kpi.attendance([]), kpi.csat([]),
                  kpi.nps([]), kpi.ces([])):
        assert value is None
    assert kpi.asa_percentiles([]) == {}


# --- queue metrics --------------------------------------------------------------------------

CALLS = [
    QueuedContact(10, A, talk_s=100, hold_s=20, acw_s=30),
    QueuedContact(20, A, talk_s=200),  # exactly at T counts as within
    QueuedContact(60, A, talk_s=90, acw_s=60),
    QueuedContact(2, X),  # a short abandon
    QueuedContact(15, X),
    QueuedContact(90, X),
    QueuedContact(30, Outcome.CALLBACK),
    QueuedContact(40, Outcome.FLOW_OUT),
]


def test_aht_is_talk_hold_acw_over_handled() -> None:
    assert kpi.aht(CALLS) == (150 + 200 + 150) / 3


def test_service_level_variants() -> None:
    assert kpi.service_level(CALLS, 20) == pytest.approx(200 / 3)
    assert kpi.service_level(CALLS, 20, SlFormula.OFFERED) == 25.0
    # SL2: (2 answered + 2 abandoned within 20 s) / (3 + 3)
    assert kpi.service_level(CALLS, 20, SlFormula.ASTERISK_SL2) == pytest.approx(400 / 6)
    # dropping the 2 s abandon: (2 + 1) / (3 + 2); offered 2 / 7
    assert kpi.service_level(CALLS, 20, SlFormula.ASTERISK_SL2, short_abandon_s=5) == 60.0
    assert kpi.service_level(CALLS, 20, SlFormula.OFFERED,
                             short_abandon_s=5) == pytest.approx(200 / 7)


def test_asa_is_a_true_mean_with_percentiles() -> None:
    assert kpi.asa(CALLS) == 30.0
    p = kpi.asa_percentiles(CALLS, (50, 100))
    assert p == {50: 20.0, 100: 60.0}


def test_abandonment_over_queued_or_offered() -> None:
    assert kpi.abandonment_rate(CALLS) == pytest.approx(300 / 7)  # callback not queued
    assert kpi.abandonment_rate(CALLS, AbandonBase.OFFERED) == 37.5
    assert kpi.abandonment_rate(CALLS, short_abandon_s=5) == pytest.approx(200 / 6)
    assert kpi.abandonment_rate(CALLS, AbandonBase.OFFERED,
                                short_abandon_s=5) == pytest.approx(200 / 7)


def test_occupancy_and_negative_times() -> None:
    assert kpi.occupancy([AgentTime(2700, 900)]) == 75.0
    with pytest.raises(ValueError):
        kpi.occupancy([AgentTime(-1, 0)])
    with pytest.raises(ValueError):
        kpi.aht([QueuedContact(-1, A)])
    with pytest.raises(ValueError):
        kpi.adherence([AdherenceSpan(60, 61)])


# --- properties -----------------------------------------------------------------------------

waits = st.floats(min_value=0, max_value=3600, allow_nan=False)
contacts = st.lists(st.builds(QueuedContact, wait_s=waits,
                              outcome=st.sampled_from(list(Outcome)),
                              talk_s=waits, hold_s=waits, acw_s=waits), max_size=40)
answered_only = st.lists(st.builds(QueuedContact, wait_s=waits, outcome=st.just(A)),
                         min_size=1, max_size=40)
thresholds = st.floats(min_value=0, max_value=600, allow_nan=False)


def _in_bounds(value: float | None, low: float = 0.0, high: float = 100.0) -> bool:
    return value is None or low - 1e-9 <= value <= high + 1e-9


@given(contacts, thresholds, st.sampled_from(list(SlFormula)), thresholds)
def test_rates_stay_within_0_and_100(rows: list[QueuedContact], t: float, formula: SlFormula,
                                     short: float) -> None:
    assert _in_bounds(kpi.service_level(rows, t, formula, short_abandon_s=short))
    for base in AbandonBase:
        assert _in_bounds(kpi.abandonment_rate(rows, base, short_abandon_s=short))


@given(contacts, thresholds, thresholds, st.sampled_from(list(SlFormula)))
def test_service_level_grows_with_the_threshold(rows: list[QueuedContact], a: float, b: float,
                                                formula: SlFormula) -> None:
    low, high = sorted((a, b))
    lo, hi = kpi.service_level(rows, low, formula), kpi.service_level(rows, high, formula)
    assert (lo is None) == (hi is None)
    if lo is not None and hi is not None:
        assert lo <= hi + 1e-9


@given(answered_only, thresholds)
def test_formulas_agree_without_abandons(rows: list[QueuedContact], t: float) -> None:
    values = {kpi.service_level(rows, t, f) for f in SlFormula}
    values |= {kpi.service_level(rows, t, f, short_abandon_s=30) for f in SlFormula}
    assert len({round(v or 0, 9) for v in values}) == 1
    assert kpi.abandonment_rate(rows) == 0.0


@given(contacts, waits)
def test_a_short_abandon_threshold_never_raises_abandonment(rows: list[QueuedContact],
                                                            short: float) -> None:
    plain, excluded = kpi.abandonment_rate(rows), kpi.abandonment_rate(rows, short_abandon_s=short)
    if plain is not None and excluded is not None:
        assert excluded <= plain + 1e-9


survey_1_5 = st.lists(st.integers(1, 5), min_size=1, max_size=60)


@given(survey_1_5)
def test_csat_bounds_and_a_happier_answer_never_lowers_it(scores: list[int]) -> None:
    value = kpi.csat(scores)
    assert _in_bounds(value)
    assert value is not None
    better = [min(5, s + 1) for s in scores]
    assert (kpi.csat(better) or 0) >= value


@given(st.lists(st.integers(0, 10), min_size=1, max_size=60))
def test_nps_bounds_and_monotone(scores: list[int]) -> None:
    value = kpi.nps(scores)
    assert value is not None and _in_bounds(value, -100, 100)
    assert (kpi.nps([*scores, 10]) or 0) >= value - 1e-9
    assert (kpi.nps([*scores, 0]) or 0) <= value + 1e-9


@given(st.lists(st.tuples(waits, waits), min_size=1, max_size=20))
def test_occupancy_and_adherence_bounds(pairs: list[tuple[float, float]]) -> None:
    assert _in_bounds(kpi.occupancy([AgentTime(h, i) for h, i in pairs]))
    spans = [AdherenceSpan(max(a, b), min(a, b)) for a, b in pairs]
    assert _in_bounds(kpi.adherence(spans))


@given(st.lists(st.tuples(st.booleans(), st.booleans()), max_size=40))
def test_attendance_bounds(days: list[tuple[bool, bool]]) -> None:
    assert _in_bounds(kpi.attendance([AttendanceDay(s, p) for s, p in days]))


# --- FCR ------------------------------------------------------------------------------------

T0 = datetime(2026, 11, 2, 9, 0)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def _case(i: int, reason: str | None = "card", resolved: datetime | None = T0,
          contacts: tuple[datetime, ...] = (T0,), customer: str = "dewi") -> FcrCase:
    return FcrCase(case_id=i, customer_id=customer, reason=reason, resolved_at=resolved,
                   contacts=contacts)


def test_fcr_one_contact_no_repeat() -> None:
    result = kpi.fcr([_case(1)], WEEK)
    assert (result.resolved, result.first_contact, result.rate) == (1, 1, 100.0)
    assert result.case_ids == frozenset({1})


def test_fcr_repeat_on_same_reason_within_window_breaks_it() -> None:
    repeat = _case(2, resolved=None, contacts=(T0 + 3 * DAY,))
    assert kpi.fcr([_case(1), repeat], WEEK).rate == 0.0


def test_fcr_repeat_on_other_reason_or_after_window_keeps_it() -> None:
    other = _case(2, reason="loan", resolved=None, contacts=(T0 + DAY,))
    late = _case(3, resolved=None, contacts=(T0 + WEEK + timedelta(seconds=1),))
    someone_else = _case(4, resolved=None, contacts=(T0 + DAY,), customer="budi")
    assert kpi.fcr([_case(1), other, late, someone_else], WEEK).case_ids == frozenset({1})


def test_fcr_needs_exactly_one_contact_before_resolution() -> None:
    two = _case(1, contacts=(T0 - DAY, T0 - timedelta(hours=1)))
    none = _case(2, contacts=())
    result = kpi.fcr([two, none], WEEK)
    assert (result.resolved, result.first_contact, result.rate) == (2, 0, 0.0)


def test_fcr_reopen_by_the_customer_breaks_it_and_unresolved_cases_do_not_count() -> None:
    reopened = _case(1, contacts=(T0 - DAY, T0 + DAY))
    open_case = _case(2, reason="loan", resolved=None, contacts=(T0,))
    result = kpi.fcr([reopened, open_case], WEEK)
    assert (result.resolved, result.first_contact) == (1, 0)


def test_fcr_period_and_unknown_reason() -> None:
    early = _case(1, resolved=T0 - WEEK, contacts=(T0 - WEEK,))
    inside = _case(2, reason=None, contacts=(T0,))
    other_reason = _case(3, reason="loan", resolved=None, contacts=(T0 + DAY,))
    result = kpi.fcr([early, inside, other_reason], WEEK, start=T0 - DAY, end=T0 + DAY)
    assert result.resolved == 1
    assert result.rate == 0.0  # no reason on the case: any repeat counts as the same need
    assert kpi.fcr([], WEEK).rate is None
    with pytest.raises(ValueError):
        kpi.fcr([], -DAY)


@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(["a", "b"]),
                          st.integers(0, 20), st.integers(0, 3)), max_size=12),
       st.integers(0, 10), st.integers(0, 10))
def test_fcr_bounds_and_a_longer_window_never_raises_it(
        rows: list[tuple[int, str, int, int]], w1: int, w2: int) -> None:
    cases = [FcrCase(i, cust, reason, T0 + day * DAY,
                     tuple(T0 + (day - k) * DAY for k in range(n)))
             for i, (cust, reason, day, n) in enumerate(rows)]
    short, long_ = sorted((w1, w2))
    a, b = kpi.fcr(cases, short * DAY), kpi.fcr(cases, long_ * DAY)
    assert _in_bounds(a.rate) and _in_bounds(b.rate)
    assert b.case_ids <= a.case_ids
