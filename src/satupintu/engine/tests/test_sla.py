"""SLA clocks from case events: pauses, warnings, breaches, reopening, next response."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from satupintu.engine.business_time import BusinessCalendar
from satupintu.engine.sla import ClockState, EventKind, SlaEvent, SlaTargets, evaluate

CAL = BusinessCalendar.office_hours("Asia/Jakarta", time(8), time(17))
HOUR = 3600.0


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-{text}+07:00")


def status(when: str, category: str) -> SlaEvent:
    return SlaEvent(at(when), EventKind.STATUS, category)


def test_first_response_met_in_time() -> None:
    state = evaluate(CAL, SlaTargets(first_response_s=HOUR), at("23T09:00:00"),
                     [SlaEvent(at("23T09:40:00"), EventKind.AGENT_REPLY)], now=at("23T12:00:00"))
    clock = state.first_response
    assert clock is not None and clock.state is ClockState.MET
    assert clock.remaining_s == pytest.approx(20 * 60)
    assert not state.breached


def test_first_response_warns_then_breaches_across_the_night() -> None:
    opened = at("23T16:00:00")  # 1 h left today, 1 h tomorrow
    targets = SlaTargets(first_response_s=2 * HOUR)
    running = evaluate(CAL, targets, opened, [], now=at("23T16:30:00")).first_response
    assert running is not None and running.state is ClockState.RUNNING
    assert running.deadline == at("24T09:00:00")
    warning = evaluate(CAL, targets, opened, [], now=at("24T08:40:00")).first_response
    assert warning is not None and warning.state is ClockState.WARNING
    assert warning.warn_at == at("24T08:36:00")
    late = evaluate(CAL, targets, opened, [], now=at("24T09:00:01"))
    assert late.first_response is not None and late.first_response.state is ClockState.BREACHED
    assert late.breached and late.first_response.remaining_s == pytest.approx(-1)


def test_reply_after_the_deadline_is_met_late() -> None:
    state = evaluate(CAL, SlaTargets(first_response_s=HOUR), at("23T09:00:00"),
                     [SlaEvent(at("23T10:30:00"), EventKind.AGENT_REPLY)], now=at("23T11:00:00"))
    assert state.first_response is not None
    assert state.first_response.state is ClockState.MET_LATE and state.breached


def test_pending_customer_pauses_resolution() -> None:
    events = [status("23T09:00:00", "open"), status("23T10:00:00", "pending_customer"),
              status("23T14:00:00", "open")]
    targets = SlaTargets(resolution_s=4 * HOUR)
    state = evaluate(CAL, targets, at("23T09:00:00"), events, now=at("23T14:30:00"))
    clock = state.resolution
    assert clock is not None and clock.deadline == at("23T17:00:00")
    paused = evaluate(CAL, targets, at("23T09:00:00"), events[:2], now=at("23T13:00:00"))
    assert paused.resolution is not None and paused.resolution.state is ClockState.PAUSED
    assert paused.resolution.remaining_s == pytest.approx(3 * HOUR)


def test_reopened_case_continues_its_resolution_clock() -> None:
    events = [status("23T09:00:00", "open"), status("23T10:00:00", "resolved"),
              status("24T09:00:00", "open")]
    state = evaluate(CAL, SlaTargets(resolution_s=2 * HOUR), at("23T09:00:00"), events,
                     now=at("24T09:30:00"))
    clock = state.resolution
    assert clock is not None and clock.met_at is None
    # 1 h used on the 23rd, the night resolved does not count, 1 h left from 09:00.
    assert clock.deadline == at("24T10:00:00")
    assert clock.remaining_s == pytest.approx(0.5 * HOUR)
    resolved = evaluate(CAL, SlaTargets(resolution_s=2 * HOUR), at("23T09:00:00"),
                        [*events, status("24T09:45:00", "resolved")], now=at("25T12:00:00"))
    assert resolved.resolution is not None
    assert resolved.resolution.state is ClockState.MET
    assert resolved.resolution.met_at == at("24T09:45:00")


def test_next_response_follows_the_latest_customer_message() -> None:
    events = [SlaEvent(at("23T09:10:00"), EventKind.AGENT_REPLY),
              SlaEvent(at("23T10:00:00"), EventKind.CUSTOMER_MESSAGE),
              SlaEvent(at("23T10:20:00"), EventKind.AGENT_REPLY),
              SlaEvent(at("23T11:00:00"), EventKind.CUSTOMER_MESSAGE),
              SlaEvent(at("23T11:05:00"), EventKind.CUSTOMER_MESSAGE)]
    targets = SlaTargets(first_response_s=HOUR, next_response_s=HOUR)
    state = evaluate(CAL, targets, at("23T09:00:00"), events, now=at("23T11:30:00"))
    clock = state.next_response
    assert clock is not None and clock.started_at == at("23T11:00:00")
    assert clock.deadline == at("23T12:00:00") and clock.met_at is None
    answered = evaluate(CAL, targets, at("23T09:00:00"),
                        [*events, SlaEvent(at("23T11:50:00"), EventKind.AGENT_REPLY)],
                        now=at("23T13:00:00"))
    assert answered.next_response is not None
    assert answered.next_response.state is ClockState.MET


def test_no_targets_no_clocks_and_bad_targets_refused() -> None:
    assert evaluate(CAL, SlaTargets(), at("23T09:00:00"), [], now=at("23T10:00:00")).clocks == []
    with pytest.raises(ValueError, match="resolution_s"):
        SlaTargets(resolution_s=0)
    with pytest.raises(ValueError, match="warn_at"):
        SlaTargets(warn_at=1.5)


@settings(max_examples=150, deadline=None)
@given(minutes=st.lists(st.integers(1, 600), min_size=0, max_size=6),
       target_h=st.integers(1, 40), now_h=st.integers(0, 200))
def test_remaining_plus_used_is_the_target(minutes: list[int], target_h: int, now_h: int) -> None:
    """Whatever the pauses, used business time + remaining = the target, and a clock past its
    deadline with no answer is breached."""
    opened = at("23T08:00:00")
    events, moment, pending = [], opened, False
    for gap in minutes:
        moment += timedelta(minutes=gap)
        pending = not pending
        events.append(SlaEvent(moment, EventKind.STATUS,
                               "pending_customer" if pending else "open"))
    now = opened + timedelta(hours=now_h)
    targets = SlaTargets(resolution_s=target_h * HOUR)
    clock = evaluate(CAL, targets, opened, events, now=now).resolution
    assert clock is not None
    from satupintu.engine.sla import paused_intervals

    pauses = paused_intervals(events, now, frozenset({"pending_customer"}))
    used = CAL.business_seconds_between(opened, now, pauses)
    assert clock.remaining_s == pytest.approx(target_h * HOUR - used, abs=1e-6)
    assert (clock.state is ClockState.BREACHED) == (now >= clock.deadline)
