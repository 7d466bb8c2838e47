"""The discrete-event simulation: arrivals, patience, handling, wrap-up, schedules.

Every assignment is made by :class:`satupintu.engine.router.Matcher`, the same router
the platform uses, so a what-if run exercises tomorrow's real routing rules.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..router import AgentState, Interaction, Matcher, Offer
from .distributions import FloatArray
from .scenario import Scenario

IntArray = npt.NDArray[np.int64]

ANSWERED = 1
ABANDONED = 2

_DONE, _ACW_END, _ABANDON, _READY, _OFF, _ACCEPT, _RESUME, _OVERFLOW = 0, 1, 2, 3, 4, 5, 6, 7
_BATCH = 4096  # random draws per refill for offer answers


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
    missed_offers: int = 0  # offers that timed out (scenario option ``offers``)
    pauses: int = 0  # times an agent went not-ready after missed offers in a row
    overflowed: int = 0  # moves to another queue by a queue's ``overflow`` rule

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

    ospec = sc.offers
    auto = ospec is None
    matcher = Matcher(sc.rules, auto_accept=auto)
    agent_idx: dict[str, int] = {}
    for k, spec in enumerate(sc.agents):
        matcher.add_agent(spec.make_agent())
        agent_idx[spec.id] = k
    has_timeouts = not auto or any(
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

    # plain lists in the event loop (numpy item access is slow), arrays at the end
    outcome: list[int] = [0] * n
    wait: list[float] = [math.nan] * n
    who: list[int] = [-1] * n
    weight: list[float] = [0.0] * n
    qspec = sc.queues
    qskills = [dict(q.skills) for q in qspec]
    qargs = [(q.name, q.channel, q.client, qskills[j], q.language, q.priority)
             for j, q in enumerate(qspec)]
    ids = [str(k) for k in range(n)]
    tl: list[float] = times.tolist()
    hl: list[float] = handle.tolist()
    pl: list[float] = patience.tolist()
    al: list[float] = acw.tolist()
    ql: list[int] = qidx.tolist()
    vl: list[bool] = vip.tolist()
    # share of the agent's capacity one contact of a channel uses
    share = {(spec.id, ch): 1.0 / (spec.capacity.get(ch, 1) or 1)
             for spec in sc.agents for ch in ("call", "chat", "email")}
    push = heapq.heappush
    pop = heapq.heappop
    inf = math.inf
    events = 0
    enqueue = matcher.enqueue
    complete = matcher.complete
    next_deadline = matcher.next_deadline

    def answered(o: Offer, now: float) -> None:
        nonlocal seq
        ix = o.interaction
        k = ix.tag
        outcome[k] = ANSWERED
        wait[k] = now - tl[k]
        aid = o.agent.id
        who[k] = agent_idx[aid]
        weight[k] = share[aid, ix.channel]
        seq += 1
        push(heap, (now + hl[k], seq, _DONE, k))

    # offers answered by agents (scenario option ``offers``): own random stream, so the
    # contacts drawn above are the same with and without it
    orng = np.random.default_rng([seed, 1])
    answers: list[float] = []
    misses: list[float] = []
    pending: dict[int, Offer] = {}  # contact -> offer its agent will accept
    to_miss: list[tuple[float, int]] = []  # (expiry, agent) of offers that will time out
    counts = [0, 0, 0]  # missed offers, pauses, overflows
    qno = {q.name: j for j, q in enumerate(qspec)}
    # queue index -> (queue it overflows to, after seconds)
    overflow = [None if q.overflow is None else (qno[q.overflow[0]], q.overflow[1])
                for q in qspec]
    has_overflow = any(ov is not None for ov in overflow)
    on_duty = [False] * len(agent_ids)
    resuming = [False] * len(agent_ids)

    def ring(offers: list[Offer], now: float) -> None:
        nonlocal seq
        assert ospec is not None
        for o in offers:
            if not answers:
                answers.extend(ospec.answer.sample(orng, _BATCH).tolist())
                misses.extend(orng.random(_BATCH).tolist())
            answer = answers.pop()
            missed = misses.pop() < ospec.miss_share
            if missed or now + answer >= o.expires:
                to_miss.append((o.expires, agent_idx[o.agent.id]))
                counts[0] += 1
            else:
                k = o.interaction.tag
                pending[k] = o
                seq += 1
                push(heap, (now + answer, seq, _ACCEPT, k))

    def expired(now: float) -> None:
        """Agents paused by missed offers make themselves ready again a while later."""
        nonlocal seq
        assert ospec is not None
        due = [a for t, a in to_miss if t <= now]
        to_miss[:] = [(t, a) for t, a in to_miss if t > now]
        for a in due:
            agent = matcher.agents[agent_ids[a]]
            if (not resuming[a] and agent.state is AgentState.NOT_READY
                    and agent.reason == "missed offers"):
                resuming[a] = True
                counts[1] += 1
                seq += 1
                push(heap, (now + ospec.resume_after, seq, _RESUME, a))

    def assign(offers: list[Offer], now: float) -> None:
        if not auto:
            ring(offers, now)
            return
        for o in offers:
            answered(o, now)

    i = 0
    t_arr = tl[0] if n else inf
    while True:
        t_ev = heap[0][0] if heap else inf
        now = t_arr if t_arr < t_ev else t_ev
        if has_timeouts:
            d = next_deadline()
            if d is not None and d <= now:
                assign(matcher.advance(d), d)
                if to_miss:
                    expired(d)
                continue
        if now == inf:
            break
        events += 1
        if t_arr <= t_ev:
            k = i
            i += 1
            t_arr = tl[i] if i < n else inf
            name, channel, client, skills, language, priority = qargs[ql[k]]
            offers = enqueue(Interaction(ids[k], name, channel, client, skills, language,
                                         priority, vl[k], now, tag=k), now)
            if not auto:
                if offers:
                    ring(offers, now)
                if pl[k] < inf:
                    seq += 1
                    push(heap, (now + pl[k], seq, _ABANDON, k))
            elif offers:
                if len(offers) == 1:
                    o = offers[0]
                    aid = o.agent.id
                    outcome[k] = ANSWERED
                    wait[k] = 0.0
                    who[k] = agent_idx[aid]
                    weight[k] = share[aid, channel]
                    seq += 1
                    push(heap, (now + hl[k], seq, _DONE, k))
                else:  # pragma: no cover - an arrival is offered to one agent at most
                    assign(offers, now)
            elif pl[k] < inf:
                seq += 1
                push(heap, (now + pl[k], seq, _ABANDON, k))
            if has_overflow and outcome[k] == 0:
                ov = overflow[ql[k]]
                if ov is not None:
                    seq += 1
                    push(heap, (now + ov[1], seq, _OVERFLOW, ov[0] * n + k))
            continue
        _, _, kind, k = pop(heap)
        if kind == _DONE:
            if al[k] > 0:
                complete(ids[k], now, wrap_up=True)
                seq += 1
                push(heap, (now + al[k], seq, _ACW_END, k))
            else:
                offers = complete(ids[k], now)
                if offers:
                    assign(offers, now)
        elif kind == _ACW_END:
            offers = matcher.end_wrap_up(ids[k], now)
            if offers:
                assign(offers, now)
        elif kind == _ABANDON:
            if outcome[k] == 0 and matcher.cancel(ids[k], now):
                outcome[k] = ABANDONED
                wait[k] = now - tl[k]
        elif kind == _READY:
            on_duty[k] = True
            assign(matcher.set_ready(agent_ids[k], now), now)
        elif kind == _OFF:
            on_duty[k] = False
            matcher.set_not_ready(agent_ids[k], now, "off duty")
        elif kind == _ACCEPT:
            o = pending.pop(k)
            if matcher.offer_of(ids[k]) is o:  # not abandoned while ringing
                matcher.accept(ids[k], now)
                answered(o, now)
        elif kind == _OVERFLOW:
            dest, k = divmod(k, n)
            if outcome[k] == 0 and matcher.is_waiting(ids[k]):
                # still waiting (not ringing): leave this queue for ``dest``, keeping the
                # place in line the arrival time gives
                matcher.cancel(ids[k], now)
                counts[2] += 1
                name, channel, client, skills, language, priority = qargs[dest]
                assign(enqueue(Interaction(ids[k], name, channel, client, skills, language,
                                           priority, vl[k], now, callback_keeps_place=True,
                                           original_enqueue_time=tl[k], tag=k), now), now)
                ov = overflow[dest]
                if outcome[k] == 0 and ov is not None:
                    seq += 1
                    push(heap, (now + ov[1], seq, _OVERFLOW, ov[0] * n + k))
        else:  # _RESUME
            resuming[k] = False
            agent = matcher.agents[agent_ids[k]]
            if on_duty[k] and agent.state is AgentState.NOT_READY and (
                    agent.reason == "missed offers"):
                assign(matcher.set_ready(agent_ids[k], now), now)
    return RunResult(sc, seed, times, qidx, np.asarray(outcome, dtype=np.int64),
                     np.asarray(wait, dtype=np.float64), handle, acw,
                     np.asarray(who, dtype=np.int64), np.asarray(weight, dtype=np.float64),
                     events, counts[0], counts[1], counts[2])
