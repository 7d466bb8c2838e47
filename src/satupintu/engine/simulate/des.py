"""The discrete-event simulation: arrivals, patience, handling, wrap-up, schedules.

Every assignment is made by :class:`satupintu.engine.router.Matcher`, the same router
the platform uses, so a what-if run exercises tomorrow's real routing rules.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ..router import Agent, AgentState, Interaction, Matcher, Offer
from .distributions import FloatArray
from .scenario import Scenario

IntArray = npt.NDArray[np.int64]

ANSWERED = 1
ABANDONED = 2

_DONE, _ACW_END, _ABANDON, _READY, _OFF, _ACCEPT, _RESUME, _OVERFLOW = 0, 1, 2, 3, 4, 5, 6, 7
_BATCH = 4096  # random draws per refill for offer answers
_ACCEPTING_LOOP = True  # tests switch it off to compare with the general loop
_CHANNELS = ("call", "chat", "email")


_IDS: list[str] = []  # "0", "1", ...: contact ids, shared by replications in a process
_IDS_KEPT = 1_000_000


def _contact_ids(n: int) -> list[str]:
    """Interaction ids for contacts 0..n-1 (read only; reused, they cost 0.1 µs each)."""
    if n > _IDS_KEPT:
        return list(map(str, range(n)))
    if len(_IDS) < n:
        _IDS.extend(map(str, range(len(_IDS), n)))
    return _IDS


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
            # sorted per queue: one queue needs nothing more, and several are merged by a
            # stable sort of sorted runs (cheap; equal times: the queue listed first)
            parts_t.append(np.sort(starts + rng.random(starts.size) * interval))
            parts_q.append(np.full(starts.size, q, dtype=np.int64))
        times = np.concatenate(parts_t) if parts_t else np.zeros(0)
        qidx = np.concatenate(parts_q) if parts_q else np.zeros(0, dtype=np.int64)
        if len(sc.queues) > 1:
            order = np.argsort(times, kind="stable")
            times, qidx = times[order], qidx[order]
        if len(sc.queues) == 1:  # the same draws, without masks
            spec = sc.queues[0]
            handle = spec.handle.sample(rng, times.size).astype(np.float64, copy=False)
            patience = spec.patience.sample(rng, times.size).astype(np.float64, copy=False)
            acw = spec.acw.sample(rng, times.size).astype(np.float64, copy=False)
        else:
            handle = np.empty(times.size)
            patience = np.empty(times.size)
            acw = np.empty(times.size)
            for q, spec in enumerate(sc.queues):
                sel = np.flatnonzero(qidx == q)
                handle[sel] = spec.handle.sample(rng, sel.size)
                patience[sel] = spec.patience.sample(rng, sel.size)
                acw[sel] = spec.acw.sample(rng, sel.size)
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
            if e < math.inf:  # never reached (the loops stop first): a smaller heap
                heap.append((e, seq, _OFF, k))
    heapq.heapify(heap)
    agent_ids = [a.id for a in sc.agents]
    if (auto and not has_timeouts and _ACCEPTING_LOOP
            and all(q.overflow is None for q in sc.queues)):
        return _run_accepting(sc, seed, matcher, heap, seq, agent_idx, agent_ids, c)

    # plain lists in the event loop (numpy item access is slow), arrays at the end
    outcome: list[int] = [0] * n
    wait: list[float] = [math.nan] * n
    who: list[int] = [-1] * n
    weight: list[float] = [0.0] * n
    qspec = sc.queues
    qskills = [dict(q.skills) for q in qspec]
    qargs = [(q.name, q.channel, q.client, qskills[j], q.language, q.priority)
             for j, q in enumerate(qspec)]
    ids = _contact_ids(n)
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


def _run_accepting(
    sc: Scenario, seed: int, matcher: Matcher, heap: list[tuple[float, int, int, int]],
    seq: int, agent_idx: dict[str, int], agent_ids: list[str], c: dict[str, Any],
) -> RunResult:
    """run_once when offers are accepted at once, no step times out and nothing overflows.

    Per contact the loop records only who answered it and when it was answered or
    abandoned; outcome, wait and capacity share follow with numpy at the end.
    """
    times: FloatArray = c["time"]
    qidx: IntArray = c["queue"]
    handle: FloatArray = c["handle"]
    patience: FloatArray = c["patience"]
    acw: FloatArray = c["acw"]
    n = int(times.size)
    has_acw = bool((acw > 0).any())
    has_patience = bool(np.isfinite(patience).any())
    who: list[int] = [-1] * n
    start: list[float] = [math.nan] * n
    templates = [Interaction("", q.name, q.channel, q.client, dict(q.skills), q.language,
                             q.priority) for q in sc.queues]
    events = _accepting_loop(
        matcher, heap, seq, templates, _contact_ids(n), times.tolist(), handle.tolist(),
        patience.tolist() if has_patience else [], acw.tolist() if has_acw else [],
        # one queue / no VIP: a repeated item is five times cheaper than tolist()
        qidx.tolist() if len(templates) > 1 else [0] * n,
        c["vip"].tolist() if c["vip"].any() else [False] * n,
        agent_idx, agent_ids, who, start)
    who_a = np.fromiter(who, dtype=np.int64, count=n)  # (a little faster than asarray)
    # time answered or abandoned - arrival (nan: still waiting at the end)
    wait_a = np.fromiter(start, dtype=np.float64, count=n)
    wait_a -= times
    answered = who_a >= 0
    outcome_a = np.where(answered, ANSWERED,
                         np.where(np.isnan(wait_a), 0, ABANDONED)).astype(np.int64)
    # share of the agent's capacity one contact of the queue's channel uses
    shares = np.asarray([[1.0 / (spec.capacity.get(ch, 1) or 1) for ch in _CHANNELS]
                         for spec in sc.agents], dtype=np.float64)
    chan_of_queue = np.asarray([_CHANNELS.index(q.channel) for q in sc.queues],
                               dtype=np.int64)
    weight_a = np.zeros(n, dtype=np.float64)
    weight_a[answered] = shares[who_a[answered], chan_of_queue[qidx[answered]]]
    return RunResult(sc, seed, times, qidx, outcome_a, wait_a, handle, acw, who_a, weight_a,
                     events)


def _accepting_loop(
    matcher: Matcher, heap: list[tuple[float, int, int, int]], seq: int,
    templates: list[Interaction], ids: list[str], tl: list[float], hl: list[float],
    pl: list[float], al: list[float], ql: list[int], vl: list[bool],
    agent_idx: dict[str, int], agent_ids: list[str], who: list[int], start: list[float],
) -> int:
    """The event loop when offers are accepted at once, no step times out and nothing
    overflows (M/M/c, networks, most what-ifs): the same events in the same order as the
    general loop, through the matcher's auto-accept lane (no Offer objects).

    Fills ``who`` (agent number) and ``start`` (time answered or abandoned); returns the
    number of events. ``pl`` / ``al`` are empty when no contact has patience / wrap-up.
    """
    push = heapq.heappush
    pop = heapq.heappop
    inf = math.inf
    arrive = matcher.arrive_accept
    complete_accept = matcher.complete_accept
    cancel = matcher.cancel
    has_acw = bool(al)
    has_patience = bool(pl)
    on_duty = [False] * len(agent_ids)
    tl.append(inf)  # sentinel: no more arrivals
    push(heap, (inf, -1, _OFF, -1))  # sentinel: never due (the heap is never empty)
    # every push takes a new seq: events = arrivals + pushed - still in the heap at the end
    pushed0 = len(heap) - seq

    def assign(pairs: Sequence[tuple[Interaction, Agent]], now: float) -> None:
        nonlocal seq
        for ix, agent in pairs:
            k = ix.tag
            who[k] = agent_idx[agent.id]
            start[k] = now
            seq += 1
            push(heap, (now + hl[k], seq, _DONE, k))

    def offered(offers: list[Offer]) -> list[tuple[Interaction, Agent]]:
        return [(o.interaction, o.agent) for o in offers]

    i = 0
    t_arr = tl[0]
    while True:
        if heap[0][0] < t_arr:
            now, _, kind, k = pop(heap)
            if kind == _DONE:
                if has_acw and al[k] > 0:
                    matcher.complete(ids[k], now, wrap_up=True)
                    seq += 1
                    push(heap, (now + al[k], seq, _ACW_END, k))
                    continue
                pairs = complete_accept(ids[k], now)
                if pairs:
                    for k, agent in pairs:
                        who[k] = agent_idx[agent.id]
                        start[k] = now
                        seq += 1
                        push(heap, (now + hl[k], seq, _DONE, k))
            elif kind == _ABANDON:
                if who[k] < 0 and cancel(ids[k], now):
                    start[k] = now
            elif kind == _ACW_END:
                assign(offered(matcher.end_wrap_up(ids[k], now)), now)
            elif kind == _READY:
                on_duty[k] = True
                assign(offered(matcher.set_ready(agent_ids[k], now)), now)
            else:  # _OFF
                on_duty[k] = False
                matcher.set_not_ready(agent_ids[k], now, "off duty")
            continue
        if t_arr == inf:
            break
        now = t_arr
        k = i
        i += 1
        t_arr = tl[i]
        taker = arrive(templates[ql[k]], ids[k], now, vl[k], k)
        if taker is not None:
            who[k] = agent_idx[taker.id]
            start[k] = now
            seq += 1
            push(heap, (now + hl[k], seq, _DONE, k))
        elif has_patience and pl[k] < inf:
            seq += 1
            push(heap, (now + pl[k], seq, _ABANDON, k))
    tl.pop()
    return i + pushed0 + seq - len(heap)
