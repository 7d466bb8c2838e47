"""Required agents for combined targets, shrinkage, chat concurrency and multi-skill estimates.

``required_agents`` finds, for every cell of broadcast arrays (intervals x queues x
scenarios), the *smallest* N that meets every target given at once: a service level
within T (under a chosen formula), a maximum ASA, a maximum P(wait), a maximum occupancy
and, with a patience (Erlang A), a maximum abandonment rate.  The search is a vectorised
doubling + bisection that starts at the true lower bound (floor(A) + 1 for Erlang C, 0 for
Erlang A), so it can never return one agent too many, and every metric it uses is
monotone in N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize

from satupintu.engine.erlang import (
    SL_FORMULAS,
    FloatArray,
    QueueMetrics,
    SlFormula,
    erlang_a_metrics,
    erlang_b,
    erlang_c_metrics,
    offered_load,
)
from satupintu.engine.wfm_errors import InvalidInputError, UnreachableTargetError

IntArray = npt.NDArray[np.int64]

DEFAULT_MAX_AGENTS = 1_000_000


@dataclass(frozen=True)
class Targets:
    """Staffing targets; every one given must hold (the smallest N meeting all is chosen).

    ``service_level`` is a fraction in (0, 1) of calls answered within ``service_time_s``
    under ``sl_formula`` (Erlang C has a single formula; for Erlang A the default counts
    abandoned calls in the denominator: answered within T over offered).
    """

    service_level: float | None = None
    service_time_s: float = 20.0
    max_asa_s: float | None = None
    max_p_wait: float | None = None
    max_occupancy: float | None = None
    max_abandon: float | None = None
    sl_formula: SlFormula = "over_offered"
    short_abandon_s: float = 5.0

    def validate(self) -> None:
        """Raise ``InvalidInputError`` naming the first target outside its domain."""
        for name in ("service_level", "max_p_wait", "max_occupancy", "max_abandon"):
            value = getattr(self, name)
            if value is not None and not (0.0 < value < 1.0):
                raise InvalidInputError(name, f"must be strictly between 0 and 1, got {value!r}")
        if self.max_asa_s is not None and not (self.max_asa_s > 0 and np.isfinite(self.max_asa_s)):
            raise InvalidInputError(
                "max_asa_s", f"must be a positive number, got {self.max_asa_s!r}"
            )
        if not (self.service_time_s >= 0 and np.isfinite(self.service_time_s)):
            raise InvalidInputError("service_time_s", "must be a non-negative number")
        if self.sl_formula not in SL_FORMULAS:
            raise InvalidInputError("sl_formula", f"must be one of {', '.join(SL_FORMULAS)}")
        if not (self.short_abandon_s >= 0):
            raise InvalidInputError("short_abandon_s", "must not be negative")
        if all(
            v is None
            for v in (
                self.service_level,
                self.max_asa_s,
                self.max_p_wait,
                self.max_occupancy,
                self.max_abandon,
            )
        ):
            raise InvalidInputError("targets", "give at least one target")


def metrics(
    agents: npt.ArrayLike,
    load: npt.ArrayLike,
    aht_s: npt.ArrayLike,
    t_s: float = 20.0,
    patience_s: npt.ArrayLike | None = None,
    short_abandon_s: float = 5.0,
    *,
    with_asa: bool = True,
) -> QueueMetrics:
    """Erlang C metrics without a patience, Erlang A metrics with one."""
    if patience_s is None:
        return erlang_c_metrics(agents, load, aht_s, t_s)
    return erlang_a_metrics(
        agents, load, aht_s, patience_s, t_s, short_abandon_s, with_asa=with_asa
    )


def _meets(m: QueueMetrics, targets: Targets, erlang_a: bool) -> npt.NDArray[np.bool_]:
    ok = np.ones(m.agents.shape, dtype=bool)
    no_load = m.load == 0
    if targets.service_level is not None:
        sl = m.service_level(targets.sl_formula) if erlang_a else m.sl
        ok &= (sl >= targets.service_level - 1e-12) | no_load
    if targets.max_asa_s is not None:
        ok &= (m.asa_s <= targets.max_asa_s + 1e-12) | no_load
    if targets.max_p_wait is not None:
        ok &= (m.p_wait <= targets.max_p_wait + 1e-12) | no_load
    if targets.max_occupancy is not None:
        ok &= (m.occupancy <= targets.max_occupancy + 1e-12) | no_load
    if targets.max_abandon is not None:
        ok &= (m.p_abandon <= targets.max_abandon + 1e-12) | no_load
    if not erlang_a:
        ok &= (m.agents > m.load) | no_load
    return ok


def required_agents_for_load(
    load: npt.ArrayLike,
    aht_s: npt.ArrayLike,
    targets: Targets,
    patience_s: npt.ArrayLike | None = None,
    *,
    min_agents: int = 0,
    max_agents: int = DEFAULT_MAX_AGENTS,
) -> IntArray:
    """Smallest N per cell meeting every target, for a load in Erlangs (broadcast arrays).

    Raises ``UnreachableTargetError`` when a cell would need more than ``max_agents``.

    >>> int(required_agents_for_load(10.0, 180, Targets(service_level=0.8)))
    14
    """
    targets.validate()
    a = np.asarray(load, dtype=np.float64)
    h = np.asarray(aht_s, dtype=np.float64)
    for name, arr in (("load", a), ("aht_s", h)):
        if np.any(np.isnan(arr)) or np.any(~np.isfinite(arr)):
            raise InvalidInputError(name, "must be a finite number")
        if np.any(arr < 0):
            raise InvalidInputError(name, "must not be negative")
    if np.any(h <= 0):
        raise InvalidInputError("aht_s", "must be greater than zero")
    erlang_a = patience_s is not None
    p = None
    if patience_s is not None:
        p = np.asarray(patience_s, dtype=np.float64)
        if np.any(np.isnan(p)) or np.any(p <= 0):
            raise InvalidInputError("patience_s", "must be greater than zero")
    arrays = [a, h] + ([p] if p is not None else [])
    shape = np.broadcast_shapes(*(x.shape for x in arrays))
    a_b = np.broadcast_to(a, shape).ravel()
    h_b = np.broadcast_to(h, shape).ravel()
    p_b = None if p is None else np.broadcast_to(p, shape).ravel()
    need_asa = targets.max_asa_s is not None
    if not erlang_a:
        return _erlang_c_walk(a_b, h_b, targets, min_agents, max_agents).reshape(shape)

    def ok(n: FloatArray, mask: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.bool_]:
        if mask is None:
            mask = np.ones(a_b.shape, dtype=bool)
        m = metrics(
            n,
            a_b[mask],
            h_b[mask],
            targets.service_time_s,
            None if p_b is None else p_b[mask],
            targets.short_abandon_s,
            with_asa=need_asa,
        )
        return _meets(m, targets, erlang_a)

    base = np.zeros_like(a_b) if erlang_a else np.floor(a_b) + 1.0
    lo = np.maximum(base, float(min_agents))
    lo = np.where(a_b == 0, float(min_agents), lo)
    # doubling: find hi with ok(hi)
    hi = lo.copy()
    good = ok(hi)
    step = np.maximum(np.ceil(np.sqrt(a_b)), 1.0)
    while not np.all(good):
        bad = ~good
        hi[bad] = hi[bad] + step[bad]
        step[bad] *= 2.0
        if np.any(hi[bad] > max_agents):
            worst = int(np.argmax(np.where(bad, hi, -1.0)))
            raise UnreachableTargetError(
                _binding_target(targets),
                f"more than {max_agents} agents would be needed for a load of "
                f"{a_b[worst]:.6g} Erlangs (cell {worst})",
            )
        good[bad] = ok(hi[bad], bad)
    # bisection: invariant ok(hi), and lo is either ok or every n < lo fails
    lo_b = np.minimum(lo, hi)
    while np.any(lo_b < hi):
        mid = np.floor((lo_b + hi) / 2.0)
        res = ok(mid)
        active = lo_b < hi
        hi = np.where(active & res, mid, hi)
        lo_b = np.where(active & ~res, mid + 1.0, lo_b)
    return np.asarray(hi.reshape(shape), dtype=np.int64)


def _erlang_c_walk(
    a: FloatArray, h: FloatArray, targets: Targets, min_agents: int, max_agents: int
) -> IntArray:
    """Erlang C: walk N upwards from floor(A) + 1 with the Erlang B recursion.

    One regularised-gamma evaluation per cell gives B at the start; every further step is
    B(n+1) = A B(n) / (n + 1 + A B(n)), exact and cheap, applied only to the cells that
    have not met their targets yet.  The first N meeting every target is the answer
    (all Erlang C measures are monotone in N), so it is minimal by construction.
    """
    out = np.full(a.shape, -1, dtype=np.int64)
    zero = a == 0
    out[zero] = min_agents
    idx = np.flatnonzero(~zero)
    if idx.size == 0:
        return out
    aa, hh = a[idx], h[idx]
    n = np.maximum(np.floor(aa) + 1.0, float(min_agents))
    b = _erlang_b_start(n, aa)
    t = targets.service_time_s
    while idx.size:
        gap = n - aa
        c = n * b / (n - aa * (1.0 - b))
        ok = np.ones(idx.size, dtype=bool)
        if targets.service_level is not None:
            ok &= 1.0 - c * np.exp(-gap * t / hh) >= targets.service_level - 1e-12
        if targets.max_asa_s is not None:
            ok &= c * hh / gap <= targets.max_asa_s + 1e-12
        if targets.max_p_wait is not None:
            ok &= c <= targets.max_p_wait + 1e-12
        if targets.max_occupancy is not None:
            ok &= aa / n <= targets.max_occupancy + 1e-12
        if np.any(ok):
            out[idx[ok]] = n[ok].astype(np.int64)
            keep = ~ok
            idx, aa, hh, n, b = idx[keep], aa[keep], hh[keep], n[keep], b[keep]
        if idx.size and float(n.max()) >= max_agents:
            worst = int(idx[int(np.argmax(n))])
            raise UnreachableTargetError(
                _binding_target(targets),
                f"more than {max_agents} agents would be needed for a load of "
                f"{a[worst]:.6g} Erlangs (cell {worst})",
            )
        ab = aa * b
        b = ab / (n + 1.0 + ab)
        n = n + 1.0
    return out


_RECURSE_BELOW = 24


def _erlang_b_start(n: FloatArray, a: FloatArray) -> FloatArray:
    """Erlang B at the walk's start: by the recursion from B(0) = 1 for small N (cheaper
    than the incomplete gamma), by ``erlang_b`` for the rest."""
    b = np.empty_like(a)
    small = n <= _RECURSE_BELOW
    if np.any(small):
        ns, as_ = n[small], a[small]
        bs = np.ones_like(as_)
        for k in range(1, int(ns.max()) + 1):
            step = as_ * bs / (k + as_ * bs)
            bs = np.where(ns >= k, step, bs)
        b[small] = bs
    if not np.all(small):
        b[~small] = erlang_b(n[~small], a[~small])
    return b


def _binding_target(targets: Targets) -> str:
    if targets.max_abandon is not None:
        return "max_abandon"
    if targets.max_asa_s is not None:
        return "max_asa_s"
    if targets.service_level is not None:
        return "service_level"
    if targets.max_p_wait is not None:
        return "max_p_wait"
    return "max_occupancy"


def required_agents(
    calls: npt.ArrayLike,
    interval_s: npt.ArrayLike,
    aht_s: npt.ArrayLike,
    targets: Targets,
    patience_s: npt.ArrayLike | None = None,
    *,
    min_agents: int = 0,
    max_agents: int = DEFAULT_MAX_AGENTS,
) -> IntArray:
    """Smallest N meeting every target for ``calls`` per ``interval_s`` of ``aht_s``.

    >>> int(required_agents(100, 1800, 180, Targets(service_level=0.8, service_time_s=20)))
    14
    """
    load = offered_load(calls, interval_s, aht_s)
    return required_agents_for_load(
        load, aht_s, targets, patience_s, min_agents=min_agents, max_agents=max_agents
    )


def scheduled_staff(agents: npt.ArrayLike, shrinkage: float) -> IntArray:
    """Staff to schedule so that ``agents`` remain after ``shrinkage``: ceil(N / (1 - s)).

    >>> int(scheduled_staff(14, 0.3))
    20
    """
    if not (0.0 <= shrinkage < 1.0) or np.isnan(shrinkage):
        raise InvalidInputError("shrinkage", f"must be in [0, 1), got {shrinkage!r}")
    n = np.asarray(agents, dtype=np.float64)
    # round the quotient first so that 14 / 0.7 = 20.000000000000004 stays 20
    return np.asarray(np.ceil(np.round(n / (1.0 - shrinkage), 9)), dtype=np.int64)


# --------------------------------------------------------------------------- chat


def chat_required_agents(
    chats: npt.ArrayLike,
    interval_s: npt.ArrayLike,
    handle_time_s: npt.ArrayLike,
    concurrency: int,
    targets: Targets,
    *,
    slowdown_per_extra_chat: float = 0.0,
    patience_s: npt.ArrayLike | None = None,
) -> IntArray:
    """Agents for chat where each agent serves up to ``concurrency`` chats at once.

    Model (an approximation, documented in ``docs/engine-wfm.md``): every agent offers
    ``concurrency`` slots and a chat may take any free slot, so the chat queue behaves as
    an M/M/(N k) queue whose per-chat handle time is stretched by concurrency:
    ``handle_time_s * (1 + slowdown_per_extra_chat * (k - 1))`` (give 0 when the handle
    time was measured at concurrency k already).  The answer is ceil(slots / k).  It
    ignores that slots of one agent are not independent; check it with the simulator.
    """
    if concurrency < 1:
        raise InvalidInputError("concurrency", "must be at least 1")
    if slowdown_per_extra_chat < 0:
        raise InvalidInputError("slowdown_per_extra_chat", "must not be negative")
    ht = np.asarray(handle_time_s, dtype=np.float64) * (
        1.0 + slowdown_per_extra_chat * (concurrency - 1)
    )
    slots = required_agents(chats, interval_s, ht, targets, patience_s)
    return np.asarray(np.ceil(slots / concurrency), dtype=np.int64)


# --------------------------------------------------------------------------- multi-skill


MAX_MULTISKILL_QUEUES = 12


@dataclass(frozen=True)
class MultiSkillEstimate:
    """Staffing estimate for several queues served by agents with overlapping skills.

    ``pooled``: all queues staffed as one (every agent has every skill) - a lower bound.
    ``separate``: each queue staffed alone (no sharing at all) - an upper bound.
    ``headcount_by_group``: the fewest agents per skill group such that, for every subset
    Q of queues, the agents able to serve at least one queue of Q number at least the
    Erlang requirement of Q's pooled traffic (Hall-type conditions).  Each agent is
    counted once however many skills it has, and sharing is credited only where the skill
    groups allow it.  The conditions are necessary, not sufficient: ``total`` is an
    approximation (usually slightly optimistic); check it with the simulator.
    """

    pooled: int
    separate: int
    required_by_queue: tuple[int, ...]
    headcount_by_group: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.headcount_by_group)


def multiskill_estimate(
    calls: npt.ArrayLike,
    interval_s: float,
    aht_s: npt.ArrayLike,
    group_skills: list[set[int]],
    targets: Targets,
    *,
    group_cost: list[float] | None = None,
) -> MultiSkillEstimate:
    """Estimate staffing of up to 12 queues served by skill groups (see ``MultiSkillEstimate``).

    ``calls`` and ``aht_s`` are per queue q; ``group_skills[g]`` is the set of queues an
    agent of group g can serve; ``group_cost`` weights the groups (default 1 each).

    >>> e = multiskill_estimate([100, 60], 1800, [180, 180], [{0}, {1}, {0, 1}],
    ...                         Targets(service_level=0.8))
    >>> e.separate, e.pooled, e.total
    (23, 20, 20)
    """
    c = np.asarray(calls, dtype=np.float64).ravel()
    h = np.broadcast_to(np.asarray(aht_s, dtype=np.float64), c.shape).ravel()
    nq, ng = c.size, len(group_skills)
    if nq == 0 or nq > MAX_MULTISKILL_QUEUES:
        raise InvalidInputError("calls", f"give between 1 and {MAX_MULTISKILL_QUEUES} queues")
    if ng == 0:
        raise InvalidInputError("group_skills", "give at least one skill group")
    for g, skills in enumerate(group_skills):
        for q in skills:
            if not 0 <= q < nq:
                raise InvalidInputError("group_skills", f"group {g} names unknown queue {q}")
    uncovered = [q for q in range(nq) if c[q] > 0 and not any(q in s for s in group_skills)]
    if uncovered:
        raise InvalidInputError("group_skills", f"no group has the skill of queue {uncovered[0]}")
    if np.any(np.isnan(c)) or np.any(c < 0):
        raise InvalidInputError("calls", "must not be negative or NaN")
    if np.any(np.isnan(h)) or np.any(h <= 0):
        raise InvalidInputError("aht_s", "must be greater than zero")
    subsets = np.array(
        [[(mask >> q) & 1 for q in range(nq)] for mask in range(1, 2**nq)], dtype=np.float64
    )
    sub_calls = subsets @ c
    work = subsets @ (c * h)
    sub_aht = np.where(sub_calls > 0, work / np.where(sub_calls > 0, sub_calls, 1.0), 1.0)
    req_sub = required_agents(sub_calls, interval_s, sub_aht, targets)
    singles = [(1 << q) - 1 for q in range(nq)]
    req = req_sub[singles]
    pooled = int(req_sub[-1])
    cost = np.ones(ng) if group_cost is None else np.asarray(group_cost, dtype=np.float64)
    skill_matrix = np.array(
        [[1.0 if q in group_skills[g] else 0.0 for q in range(nq)] for g in range(ng)]
    )
    # row per subset: 1 for each group that serves at least one queue of the subset
    cover = (subsets @ skill_matrix.T > 0).astype(np.float64)
    res = optimize.milp(
        cost,
        constraints=optimize.LinearConstraint(cover, req_sub.astype(np.float64), np.inf),
        integrality=np.ones(ng, dtype=np.int64),
        bounds=optimize.Bounds(0, np.inf),
    )
    if res.x is None:  # pragma: no cover - always feasible once every queue is covered
        raise InvalidInputError("group_skills", "no headcount covers every queue")
    return MultiSkillEstimate(
        pooled=pooled,
        separate=int(req.sum()),
        required_by_queue=tuple(int(v) for v in req),
        headcount_by_group=tuple(round(float(v)) for v in res.x),
    )
