"""Contact-center KPIs: one definition per metric, pure functions over plain records.

Every disputed metric takes its variant as an argument (a per-client setting upstream), so a
wallboard, a report and an export can never disagree. Rates are percentages (0–100); a rate
with nothing to divide by is ``None``, never 0 and never an exception. Times are seconds.

>>> calls = [QueuedContact(wait_s=5, outcome=Outcome.ANSWERED, talk_s=200, hold_s=20,
...                        acw_s=30),
...          QueuedContact(wait_s=40, outcome=Outcome.ANSWERED, talk_s=100, acw_s=50),
...          QueuedContact(wait_s=3, outcome=Outcome.ABANDONED),
...          QueuedContact(wait_s=30, outcome=Outcome.ABANDONED)]
>>> aht(calls)
200.0
>>> service_level(calls, 20)                      # answered within 20 s / answered
50.0
>>> service_level(calls, 20, SlFormula.OFFERED)   # / everything offered
25.0
>>> service_level(calls, 20, SlFormula.ASTERISK_SL2)  # (answered + abandoned within 20 s) / both
50.0
>>> round(service_level(calls, 20, SlFormula.OFFERED, short_abandon_s=5), 2)  # 3 s abandon out
33.33
>>> asa(calls)
22.5
>>> abandonment_rate(calls), round(abandonment_rate(calls, short_abandon_s=5), 2)
(50.0, 33.33)
>>> adherence([AdherenceSpan(scheduled_s=480 * 60, adherent_s=450 * 60)])
93.75
>>> round(attendance([AttendanceDay(scheduled=True, present=i < 21) for i in range(22)]), 2)
95.45
>>> round(csat([5] * 74 + [3] * 33))
69
>>> nps([10, 9, 8, 7, 0])
20.0
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np
import numpy.typing as npt

__all__ = [
    "AbandonBase",
    "AdherenceSpan",
    "AgentTime",
    "AttendanceDay",
    "FcrCase",
    "FcrResult",
    "Outcome",
    "QueuedContact",
    "SlFormula",
    "abandonment_rate",
    "adherence",
    "aht",
    "asa",
    "asa_percentiles",
    "attendance",
    "ces",
    "csat",
    "fcr",
    "nps",
    "occupancy",
    "service_level",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


# --- queue metrics -------------------------------------------------------------------------

class Outcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    CALLBACK = "callback"  # left the queue for a callback: offered, not queued (Connect)
    FLOW_OUT = "flow_out"  # left the queue for another queue or a voicemail: queued


class SlFormula(StrEnum):
    ANSWERED = "answered"  # answered within T / answered (Asterisk SL, Wazo, VICIdial TMR)
    OFFERED = "offered"  # answered within T / offered
    ASTERISK_SL2 = "asterisk_sl2"  # (answered ≤ T + abandoned ≤ T) / (answered + abandoned)


class AbandonBase(StrEnum):
    QUEUED = "queued"  # abandoned / queued, callbacks excluded (Amazon Connect)
    OFFERED = "offered"  # abandoned / offered (Genesys)


@dataclass(frozen=True)
class QueuedContact:
    """One contact offered to a queue: how long it waited and how it left the queue, and for
    answered ones the handling time split into talk, hold and after-contact work."""

    wait_s: float
    outcome: Outcome
    talk_s: float = 0.0
    hold_s: float = 0.0
    acw_s: float = 0.0


@dataclass(frozen=True)
class _Queue:
    wait: FloatArray
    handle: FloatArray
    answered: BoolArray
    abandoned: BoolArray
    queued: BoolArray


def _queue(contacts: Iterable[QueuedContact], short_abandon_s: float = 0.0) -> _Queue:
    """Column arrays of the contacts, short abandons (waited < ``short_abandon_s``) dropped
    from every count."""
    rows = list(contacts)
    wait = np.array([c.wait_s for c in rows], dtype=np.float64)
    handle = np.array([c.talk_s + c.hold_s + c.acw_s for c in rows], dtype=np.float64)
    outcome = np.array([str(c.outcome) for c in rows], dtype=object)
    if np.any(wait < 0) or np.any(handle < 0):
        raise ValueError("times cannot be negative")
    abandoned = outcome == Outcome.ABANDONED.value
    keep = ~(abandoned & (wait < short_abandon_s))
    return _Queue(wait=wait[keep], handle=handle[keep],
                  answered=(outcome == Outcome.ANSWERED.value)[keep],
                  abandoned=abandoned[keep],
                  queued=(outcome != Outcome.CALLBACK.value)[keep])


def _pct(numerator: float, denominator: float) -> float | None:
    return None if denominator <= 0 else 100.0 * numerator / denominator


def aht(contacts: Iterable[QueuedContact]) -> float | None:
    """Average handle time: (talk + hold + after-contact work) / handled, in seconds."""
    q = _queue(contacts)
    handled = int(q.answered.sum())
    return None if handled == 0 else float(q.handle[q.answered].sum()) / handled


def service_level(contacts: Iterable[QueuedContact], threshold_s: float,
                  formula: SlFormula = SlFormula.ANSWERED, *,
                  short_abandon_s: float = 0.0) -> float | None:
    """Share of contacts answered within ``threshold_s`` (a contact answered at exactly T
    counts as within), by the client's formula; abandons that waited less than
    ``short_abandon_s`` leave every count."""
    q = _queue(contacts, short_abandon_s)
    fast = q.wait <= threshold_s
    answered_fast = float((q.answered & fast).sum())
    if formula == SlFormula.ANSWERED:
        return _pct(answered_fast, float(q.answered.sum()))
    if formula == SlFormula.OFFERED:
        return _pct(answered_fast, float(len(q.wait)))
    abandoned_fast = float((q.abandoned & fast).sum())
    return _pct(answered_fast + abandoned_fast, float(q.answered.sum() + q.abandoned.sum()))


def asa(contacts: Iterable[QueuedContact]) -> float | None:
    """Average speed of answer: the true mean queue time of answered contacts (not Asterisk's
    moving average)."""
    q = _queue(contacts)
    return float(q.wait[q.answered].mean()) if q.answered.any() else None


def asa_percentiles(contacts: Iterable[QueuedContact],
                    percentiles: Sequence[float] = (50, 80, 90, 95)) -> dict[float, float]:
    """Queue-time percentiles of answered contacts (linear interpolation); empty without
    answered contacts.

    >>> asa_percentiles([QueuedContact(w, Outcome.ANSWERED) for w in range(101)], (50, 90))
    {50: 50.0, 90: 90.0}
    """
    q = _queue(contacts)
    if not q.answered.any():
        return {}
    values = np.percentile(q.wait[q.answered], list(percentiles))
    return {p: float(v) for p, v in zip(percentiles, values, strict=True)}


def abandonment_rate(contacts: Iterable[QueuedContact], base: AbandonBase = AbandonBase.QUEUED,
                     *, short_abandon_s: float = 0.0) -> float | None:
    """Abandoned / queued (callbacks excluded) or abandoned / offered; abandons that waited
    less than ``short_abandon_s`` are left out of both."""
    q = _queue(contacts, short_abandon_s)
    denominator = q.queued.sum() if base == AbandonBase.QUEUED else len(q.wait)
    return _pct(float(q.abandoned.sum()), float(denominator))


# --- agent time ----------------------------------------------------------------------------

@dataclass(frozen=True)
class AgentTime:
    """One agent-interval: time spent handling contacts and time available but idle."""

    handle_s: float
    idle_s: float


def occupancy(intervals: Iterable[AgentTime]) -> float | None:
    """Handle time / (handle time + available idle time) × 100.

    >>> occupancy([AgentTime(handle_s=1500, idle_s=300), AgentTime(handle_s=900, idle_s=900)])
    66.66666666666667
    """
    rows = np.array([(i.handle_s, i.idle_s) for i in intervals], dtype=np.float64).reshape(-1, 2)
    if np.any(rows < 0):
        raise ValueError("times cannot be negative")
    handle, idle = rows.sum(axis=0)
    return _pct(float(handle), float(handle + idle))


@dataclass(frozen=True)
class AdherenceSpan:
    """Scheduled time of one schedule segment and the part of it spent in the scheduled
    state."""

    scheduled_s: float
    adherent_s: float


def adherence(spans: Iterable[AdherenceSpan]) -> float | None:
    """Time in the scheduled state / scheduled time × 100."""
    rows = np.array([(s.scheduled_s, s.adherent_s) for s in spans],
                    dtype=np.float64).reshape(-1, 2)
    if np.any(rows < 0) or np.any(rows[:, 1] > rows[:, 0]):
        raise ValueError("adherent time must lie between 0 and the scheduled time")
    scheduled, adherent = rows.sum(axis=0)
    return _pct(float(adherent), float(scheduled))


@dataclass(frozen=True)
class AttendanceDay:
    scheduled: bool
    present: bool


def attendance(days: Iterable[AttendanceDay]) -> float | None:
    """Days present / days scheduled × 100 (unscheduled days count for neither)."""
    rows = [d for d in days if d.scheduled]
    return _pct(float(sum(d.present for d in rows)), float(len(rows)))


# --- surveys -------------------------------------------------------------------------------

def _scores(scores: Iterable[int], low: int, high: int) -> npt.NDArray[np.int64]:
    values = np.array(list(scores), dtype=np.int64)
    if np.any((values < low) | (values > high)):
        raise ValueError(f"scores must lie between {low} and {high}")
    return values


def csat(scores: Iterable[int]) -> float | None:
    """Share of 4s and 5s on a 1–5 scale × 100."""
    values = _scores(scores, 1, 5)
    return _pct(float((values >= 4).sum()), float(len(values)))


def nps(scores: Iterable[int]) -> float | None:
    """Net promoter score: % promoters (9–10) − % detractors (0–6), from −100 to 100."""
    values = _scores(scores, 0, 10)
    if len(values) == 0:
        return None
    return 100.0 * float((values >= 9).sum() - (values <= 6).sum()) / len(values)


def ces(scores: Iterable[int]) -> float | None:
    """Customer effort score (CES 2.0): the mean answer on the 1–7 agreement scale.

    >>> ces([7, 6, 5, 2])
    5.0
    """
    values = _scores(scores, 1, 7)
    return float(values.mean()) if len(values) else None


# --- first-contact resolution --------------------------------------------------------------

@dataclass(frozen=True)
class FcrCase:
    """A case as FCR sees it: whose it is, the need (contact reason; ``None`` when nobody
    set one), when it was first resolved, and the times of the customer's contacts on it
    (inbound messages and calls, on any channel)."""

    case_id: Hashable
    customer_id: Hashable
    reason: Hashable | None
    resolved_at: datetime | None
    contacts: tuple[datetime, ...]


@dataclass(frozen=True)
class FcrResult:
    resolved: int  # cases first resolved in the period
    first_contact: int  # of those, resolved at the first contact with no repeat
    rate: float | None  # first_contact / resolved × 100
    case_ids: frozenset[Hashable]  # the first-contact-resolved cases


def _same_need(a: Hashable | None, b: Hashable | None) -> bool:
    # Without a reason we cannot tell the needs apart: count it as the same (conservative).
    return a is None or b is None or a == b


def fcr(cases: Sequence[FcrCase], window: timedelta, *, start: datetime | None = None,
        end: datetime | None = None) -> FcrResult:
    """First-contact resolution of the cases first resolved in ``[start, end)``.

    A case counts when it was resolved with exactly one customer contact, and the same
    customer made no further contact on the same need within ``window`` after the
    resolution — on this case (a reopen) or on any other case, on any channel. Pass every
    case of the customers concerned, including ones opened after ``end`` (up to
    ``end + window``), so that repeats are seen.

    >>> t = datetime(2026, 11, 2, 9)
    >>> one = FcrCase(1, "dewi", "card", t, (t,))
    >>> again = FcrCase(2, "dewi", "card", None, (t + timedelta(days=3),))
    >>> fcr([one], timedelta(days=7)).rate, fcr([one, again], timedelta(days=7)).rate
    (100.0, 0.0)
    >>> fcr([one, again], timedelta(days=2)).rate
    100.0
    """
    if window < timedelta(0):
        raise ValueError("the FCR window cannot be negative")
    contacts: dict[Hashable, list[tuple[datetime, Hashable | None]]] = defaultdict(list)
    for case in cases:
        contacts[case.customer_id].extend((at, case.reason) for at in case.contacts)
    resolved = 0
    good: set[Hashable] = set()
    for case in cases:
        done = case.resolved_at
        if done is None or (start is not None and done < start) or (
                end is not None and done >= end):
            continue
        resolved += 1
        if sum(1 for at in case.contacts if at <= done) != 1:
            continue
        until = done + window
        if any(done < at <= until and _same_need(case.reason, reason)
               for at, reason in contacts[case.customer_id]):
            continue
        good.add(case.case_id)
    return FcrResult(resolved=resolved, first_contact=len(good),
                     rate=_pct(float(len(good)), float(resolved)), case_ids=frozenset(good))
