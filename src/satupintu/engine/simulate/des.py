"""The discrete-event simulation: arrivals, patience, handling, wrap-up, schedules.

Every assignment is made by :class:`satupintu.engine.router.Matcher`, the same router
the platform uses, so a what-if run exercises tomorrow's real routing rules.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..router import Interaction, Matcher, Offer
from .distributions import FloatArray
from .scenario import Scenario

IntArray = npt.NDArray[np.int64]

ANSWERED = 1
ABANDONED = 2

_DONE, _ACW_END, _ABANDON, _READY, _OFF = 0, 1, 2, 3, 4


@dataclass
class RunResult:
    """Per-contact and per-agent outcome of one replication."""

    scenario: Scenario
    seed: int
    arrival: FloatArray
    queue: IntArray
    outcome: IntArray  # 0 unserved at the end, 1 answered, 2 abandoned
    wait: FloatArray  # queue time until answer or abandon (nan when unserved)
    handle: FloatArray
    acw: FloatArray
    agent: IntArray  # -1 when not answered
    weight: FloatArray  # share of the agent's capacity the contact used
    events: int

    @property
    def n(self) -> int:
        return int(self.arrival.size)


def generate_contacts(sc: Scenario, rng: np.random.Generator) -> dict[str, Any]:
    """Draw arrivals (Poisson, piecewise constant per interval) and their durations."""
    if sc.replay is not None:
        rp = sc.replay
        order = np.argsort(rp.time, kind="stable")
        times = rp.time[order].astype(np.float64)
        qidx = rp.queue[order].astype(np.int64)
        handle = rp.handle[order].astype(np.float64)
        patience = rp.patience[order].astype(np.float64)
        acw = np.zeros(times.size)
        for q, spec in enumerate(sc.queues):
            mask = qidx == q
            acw[mask] = spec.acw.sample(rng, int(mask.sum()))
            miss = mask & np.isnan(handle)
            handle[miss] = spec.handle.sample(rng, int(miss.sum()))
            miss = mask & np.isnan(patience)
            patience[miss] = spec.patience.sample(rng, int(miss.sum()))
    else:
        parts_t: list[FloatArray] = []
        parts_q: list[IntArray] = []
        interval = sc.interval_s
        for q, spec in enumerate(sc.queues):
            counts = rng.poisson(np.asarray(spec.rates, dtype=np.float64))
            starts = np.repeat(np.arange(sc.n_intervals) * interval, counts)
            parts_t.append(starts + rng.random(starts.size) * interval)
            parts_q.append(np.full(starts.size, q, dtype=np.int64))
        times = np.concatenate(parts_t) if parts_t else np.zeros(0)
        qidx = np.concatenate(parts_q) if parts_q else np.zeros(0, dtype=np.int64)
        order = np.argsort(times, kind="stable")
        times, qidx = times[order], qidx[order]
        handle = np.empty(times.size)
        patience = np.empty(times.size)
        acw = np.empty(times.size)
        for q, spec in enumerate(sc.queues):
            mask = qidx == q
            m = int(mask.sum())
            handle[mask] = spec.handle.sample(rng, m)
            patience[mask] = spec.patience.sample(rng, m)
            acw[mask] = spec.acw.sample(rng, m)
    vip = np.zeros(times.size, dtype=bool)
    for q, spec in enumerate(sc.queues):
        if spec.vip_share > 0:
            mask = qidx == q
            vip[mask] = rng.random(int(mask.sum())) < spec.vip_share
    return {"time": times, "queue": qidx, "handle": handle, "patience": patience,
            "acw": acw, "vip": vip}


def run_once(sc: Scenario, seed: int) -> RunResult:
    """Simulate one replication of ``sc`` with ``seed`` (reproducible)."""
    rng = np.random.default_rng(seed)
    c = generate_contacts(sc, rng)
    times: FloatArray = c["time"]
    qidx: IntArray = c["queue"]
    handle: FloatArray = c["handle"]
    patience: FloatArray = c["patience"]
    acw: FloatArray = c["acw"]
    vip = c["vip"]
    n = int(times.size)

    matcher = Matcher(sc.rules, auto_accept=True)
    agent_idx: dict[str, int] = {}
    for k, spec in enumerate(sc.agents):
        matcher.add_agent(spec.make_agent())
        agent_idx[spec.id] = k
    has_timeouts = any(
        st.timeout is not None for plan in sc.rules.queues.values() for st in plan.steps
    )

    heap: list[tuple[float, int, int, int]] = []
    seq = 0
    for k, spec in enumerate(sc.agents):
        for s, e in spec.on_duty:
            seq += 1
            heap.append((s, seq, _READY, k))
            seq += 1
            heap.append((e, seq, _OFF, k))
    heapq.heapify(heap)
    agent_ids = [a.id for a in sc.agents]

    outcome = np.zeros(n, dtype=np.int64)
    wait = np.full(n, np.nan)
    who = np.full(n, -1, dtype=np.int64)
    weight = np.zeros(n)
    qspec = sc.queues
    qskills = [dict(q.skills) for q in qspec]
    tl = times.tolist()
    hl = handle.tolist()
    pl = patience.tolist()
    al = acw.tolist()
    ql = qidx.tolist()
    vl = vip.tolist()
    push = heapq.heappush
    pop = heapq.heappop
    inf = float("inf")
    events = 0

    def assign(offers: list[Offer], now: float) -> None:
        nonlocal seq
        for o in offers:
            k = o.interaction.tag
            outcome[k] = ANSWERED
            wait[k] = now - tl[k]
            a = o.agent
            who[k] = agent_idx[a.id]
            cap = a.capacity.get(o.interaction.channel, 1) or 1
            weight[k] = 1.0 / cap
            seq += 1
            push(heap, (now + hl[k], seq, _DONE, k))

    i = 0
    while True:
        t_arr = tl[i] if i < n else inf
        t_ev = heap[0][0] if heap else inf
        now = t_arr if t_arr < t_ev else t_ev
        if now == inf:
            if has_timeouts and matcher.next_deadline() is not None:
                d = matcher.next_deadline()
                assert d is not None
                assign(matcher.advance(d), d)
                continue
            break
        if has_timeouts:
            d = matcher.next_deadline()
            if d is not None and d <= now:
                assign(matcher.advance(d), d)
                continue
        events += 1
        if t_arr <= t_ev:
            k = i
            i += 1
            q = qspec[ql[k]]
            ix = Interaction(str(k), q.name, q.channel, q.client, qskills[ql[k]], q.language,
                             q.priority, vl[k], now, tag=k)
            offers = matcher.enqueue(ix, now)
            if offers:
                assign(offers, now)
            elif pl[k] < inf:
                seq += 1
                push(heap, (now + pl[k], seq, _ABANDON, k))
            continue
        _, _, kind, k = pop(heap)
        if kind == _DONE:
            if al[k] > 0:
                matcher.complete(str(k), now, wrap_up=True)
                seq += 1
                push(heap, (now + al[k], seq, _ACW_END, k))
            else:
                offers = matcher.complete(str(k), now)
                if offers:
                    assign(offers, now)
        elif kind == _ACW_END:
            offers = matcher.end_wrap_up(str(k), now)
            if offers:
                assign(offers, now)
        elif kind == _ABANDON:
            if outcome[k] == 0 and matcher.cancel(str(k), now):
                outcome[k] = ABANDONED
                wait[k] = now - tl[k]
        elif kind == _READY:
            assign(matcher.set_ready(agent_ids[k], now), now)
        else:
            matcher.set_not_ready(agent_ids[k], now, "off duty")
    return RunResult(sc, seed, times, qidx, outcome, wait, handle, acw, who, weight, events)
