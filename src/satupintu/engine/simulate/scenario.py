"""Scenario files (YAML/JSON): queues, arrivals, durations, agents, schedules, rules.

Everything is validated before anything runs; errors name the row that is wrong.
See ``docs/engine-simulator.md`` for the format.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..router import Agent, Interaction, RouterError, RuleSet
from .distributions import Dist, FloatArray, ScenarioError

SL_FORMULAS = ("answered", "offered", "asterisk_sl2", "exclude_short_abandons")

_TIME = re.compile(r"^(?:(\d+)\s+)?(\d{1,3}):(\d{2})(?::(\d{2}))?$")


@dataclass(frozen=True)
class QueueSpec:
    name: str
    channel: str
    client: str
    skills: dict[str, int]
    language: str
    priority: int
    vip_share: float
    rates: tuple[float, ...]  # expected arrivals per interval
    handle: Dist
    patience: Dist
    acw: Dist
    overflow: tuple[str, float] | None = None  # (queue, seconds): still waiting -> moves


@dataclass(frozen=True)
class AgentSpec:
    id: str
    skills: dict[str, int]
    languages: tuple[str, ...]
    clients: tuple[str, ...]
    capacity: dict[str, int]
    on_duty: tuple[tuple[float, float], ...]  # logged in and not on break

    def make_agent(self) -> Agent:
        return Agent(self.id, skills=dict(self.skills), languages=self.languages,
                     clients=self.clients, capacity=dict(self.capacity))


@dataclass(frozen=True)
class Replay:
    """Real contacts to replay instead of Poisson arrivals (all arrays of equal length)."""

    time: FloatArray
    queue: np.ndarray[Any, np.dtype[np.int64]]
    handle: FloatArray
    patience: FloatArray


@dataclass(frozen=True)
class OfferSpec:
    """Agents answer offers: after ``answer`` seconds, or never (a share ``miss_share``).

    An offer not accepted within the rules' ``accept_timeout`` times out (a missed offer);
    ``max_missed_offers`` misses in a row put the agent in not-ready ("missed offers")
    until it makes itself ready again ``resume_after`` seconds later.
    """

    answer: Dist
    miss_share: float = 0.0
    resume_after: float = 60.0


@dataclass
class Scenario:
    name: str
    interval_s: float
    n_intervals: int
    queues: list[QueueSpec]
    agents: list[AgentSpec]
    rules: RuleSet
    start_s: float = 0.0
    seed: int = 1
    replications: int = 5
    sl_threshold_s: float = 20.0
    sl_formula: str = "answered"
    short_abandon_s: float = 5.0
    replay: Replay | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    offers: OfferSpec | None = None  # None: offers are accepted at once

    @property
    def horizon_s(self) -> float:
        return self.interval_s * self.n_intervals

    def check_routable(self) -> None:
        """Every queue must have, under its widest step, some agent who could serve it."""
        probe_agents = [a.make_agent() for a in self.agents]
        for q in self.queues:
            if not any(q.rates) and (self.replay is None):
                continue
            probe = Interaction("probe", q.name, channel=q.channel, client=q.client,
                                skills=dict(q.skills), language=q.language, priority=q.priority)
            try:
                last = self.rules.plan(q.name).steps[-1]
            except RouterError as exc:
                raise ScenarioError(f"queue {q.name!r}: {exc}") from None
            ok = any(
                a.capacity.get(q.channel, 0) > 0
                and (not q.client or q.client in a.clients)
                and last.eligible(a, probe)
                and spec.on_duty
                for a, spec in zip(probe_agents, self.agents, strict=True)
            )
            if not ok:
                raise ScenarioError(
                    f"queue {q.name!r}: no scheduled agent matches {last.label}; "
                    "its contacts would wait forever"
                )

    def eligible_agents(self, queue: QueueSpec) -> list[int]:
        """Indices of agents that could serve ``queue`` under its widest step."""
        probe = Interaction("probe", queue.name, channel=queue.channel, client=queue.client,
                            skills=dict(queue.skills), language=queue.language)
        last = self.rules.plan(queue.name).steps[-1]
        out = []
        for k, spec in enumerate(self.agents):
            a = spec.make_agent()
            if (a.capacity.get(queue.channel, 0) > 0
                    and (not queue.client or queue.client in a.clients)
                    and last.eligible(a, probe)):
                out.append(k)
        return out


def parse_time(value: Any, start_s: float, what: str) -> float:
    """Seconds since the scenario start from ``"HH:MM"``, ``"D HH:MM"`` or seconds."""
    if isinstance(value, bool):
        raise ScenarioError(f"{what}: bad time {value!r}")
    if isinstance(value, (int, float)):
        if value < 0 or math.isnan(value):
            raise ScenarioError(f"{what}: time must not be negative")
        return float(value)
    m = _TIME.match(str(value).strip())
    if not m:
        raise ScenarioError(f"{what}: bad time {value!r} (use HH:MM, 'D HH:MM' or seconds)")
    day, hh, mm, ss = m.groups()
    t = int(day or 0) * 86400 + int(hh) * 3600 + int(mm) * 60 + int(ss or 0)
    return t - start_s


def load_scenario(path: str | Path) -> Scenario:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read {p}: {exc.strerror}") from None
    try:
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{p.name}: not valid YAML/JSON: {exc}") from None
    return scenario_from_dict(data, base=p.parent)


def _int(value: Any, what: str, lo: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ScenarioError(f"{what}: expected an integer >= {lo}, got {value!r}")
    return value


def _num(value: Any, what: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ScenarioError(f"{what}: expected a number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ScenarioError(f"{what}: must be {'positive' if positive else 'non-negative'}")
    return float(value)


def scenario_from_dict(data: Any, base: Path | None = None) -> Scenario:
    if not isinstance(data, Mapping):
        raise ScenarioError("a scenario must be a mapping")
    name = str(data.get("name", "scenario"))
    interval = _num(data.get("interval", 1800), "interval", positive=True)
    n_int = _int(data.get("intervals", 48), "intervals", 1)
    start = data.get("start", 0)
    start_s = parse_time(start, 0.0, "start")
    seed = _int(data.get("seed", 1), "seed")
    reps = _int(data.get("replications", 5), "replications", 1)
    sl = data.get("service_level", {}) or {}
    if not isinstance(sl, Mapping):
        raise ScenarioError("service_level: expected a mapping")
    threshold = _num(sl.get("threshold", 20), "service_level.threshold")
    formula = str(sl.get("formula", "answered"))
    if formula not in SL_FORMULAS:
        raise ScenarioError(f"service_level.formula: one of {', '.join(SL_FORMULAS)}")
    short = _num(sl.get("short_abandon", 5), "service_level.short_abandon")

    rules_spec = data.get("rules")
    try:
        if rules_spec is None and "rules_file" in data:
            rpath = Path(str(data["rules_file"]))
            if not rpath.is_absolute() and base is not None:
                rpath = base / rpath
            rules = RuleSet.from_file(rpath)
        elif rules_spec is None:
            rules = RuleSet.from_dict({"version": "default", "queues": {"default": {}}})
        else:
            rules = RuleSet.from_dict(rules_spec)
    except RouterError as exc:
        raise ScenarioError(f"rules: {exc}") from None
    except OSError as exc:
        raise ScenarioError(f"rules_file: {exc.strerror}") from None

    raw_queues = data.get("queues")
    if not isinstance(raw_queues, Sequence) or not raw_queues:
        raise ScenarioError("queues: expected a non-empty list")
    queues = [_parse_queue(q, k, n_int) for k, q in enumerate(raw_queues)]
    if len({q.name for q in queues}) != len(queues):
        raise ScenarioError("queues: names must be unique")
    by_name = {q.name: q for q in queues}
    for q in queues:
        if q.overflow is None:
            continue
        dest = by_name.get(q.overflow[0])
        if dest is None or dest is q:
            raise ScenarioError(f"queue {q.name!r}: overflow to {q.overflow[0]!r}: "
                                "not another queue of this scenario")
        if dest.channel != q.channel:
            raise ScenarioError(f"queue {q.name!r}: overflow to {dest.name!r}: "
                                f"channel {dest.channel} is not {q.channel}")
    raw_agents = data.get("agents")
    if not isinstance(raw_agents, Sequence) or not raw_agents:
        raise ScenarioError("agents: expected a non-empty list")
    agents: list[AgentSpec] = []
    for k, row in enumerate(raw_agents):
        agents.extend(_parse_agents(row, k, start_s, interval * n_int))
    if len({a.id for a in agents}) != len(agents):
        raise ScenarioError("agents: ids must be unique")
    sc = Scenario(name, interval, n_int, queues, agents, rules, start_s, seed, reps,
                  threshold, formula, short)
    sc.offers = _parse_offers(data.get("offers"))
    if data.get("replay") is not None:
        rfile = Path(str(data["replay"]))
        if not rfile.is_absolute() and base is not None:
            rfile = base / rfile
        sc.replay = load_replay(rfile, queues, start_s, sc.horizon_s)
    for q in queues:
        try:
            rules.plan(q.name)
        except RouterError as exc:
            raise ScenarioError(f"queue {q.name!r}: {exc}") from None
    sc.check_routable()
    return sc


def _parse_offers(raw: Any) -> OfferSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ScenarioError("offers: expected a mapping like {answer_time: 3, miss_share: 0.02}")
    unknown = set(raw) - {"answer_time", "miss_share", "resume_after"}
    if unknown:
        raise ScenarioError(f"offers: unknown keys {sorted(unknown)}")
    answer = Dist.parse(raw.get("answer_time", 0), "offers: answer_time")
    miss = _num(raw.get("miss_share", 0.0), "offers: miss_share")
    if miss > 1:
        raise ScenarioError("offers: miss_share must be at most 1")
    resume = _num(raw.get("resume_after", 60), "offers: resume_after")
    return OfferSpec(answer, miss, resume)


def load_replay(path: Path, queues: list[QueueSpec], start_s: float, horizon: float
                ) -> Replay:
    """Real contacts from a CSV with columns ``time, queue[, handle][, patience]``.

    ``time`` is a clock time (``HH:MM[:SS]``, ``D HH:MM``) or seconds since the start;
    an empty ``handle``/``patience`` is drawn from the queue's distribution.
    """
    names = {q.name: k for k, q in enumerate(queues)}
    t: list[float] = []
    qi: list[int] = []
    hd: list[float] = []
    pt: list[float] = []
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"time", "queue"} <= set(reader.fieldnames):
                raise ScenarioError(f"replay {path.name}: needs the columns time and queue")
            for line, row in enumerate(reader, start=2):
                what = f"replay {path.name} row {line}"
                raw_t = (row.get("time") or "").strip()
                try:
                    tt = float(raw_t)
                except ValueError:
                    tt = parse_time(raw_t, start_s, what)
                if not 0 <= tt < horizon:
                    raise ScenarioError(f"{what}: time {raw_t!r} outside the horizon")
                q = (row.get("queue") or "").strip()
                if q not in names:
                    raise ScenarioError(f"{what}: unknown queue {q!r}")
                t.append(tt)
                qi.append(names[q])
                for col, out in (("handle", hd), ("patience", pt)):
                    v = (row.get(col) or "").strip()
                    out.append(_num(float(v), f"{what}: {col}") if v else math.nan)
    except OSError as exc:
        raise ScenarioError(f"cannot read replay file {path}: {exc.strerror}") from None
    except ValueError as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(f"replay {path.name}: {exc}") from None
    return Replay(np.asarray(t, dtype=np.float64), np.asarray(qi, dtype=np.int64),
                  np.asarray(hd, dtype=np.float64), np.asarray(pt, dtype=np.float64))


def _parse_queue(raw: Any, k: int, n_int: int) -> QueueSpec:
    if not isinstance(raw, Mapping) or "name" not in raw:
        raise ScenarioError(f"queues[{k}]: expected a mapping with a 'name'")
    name = str(raw["name"])
    what = f"queue {name!r}"
    channel = str(raw.get("channel", "call"))
    if channel not in ("call", "chat", "email"):
        raise ScenarioError(f"{what}: unknown channel {channel!r}")
    skills = raw.get("skills", {}) or {}
    if not isinstance(skills, Mapping):
        raise ScenarioError(f"{what}: skills must map skill to minimum proficiency")
    skills_d = {str(s): _int(v, f"{what}: skill {s}", 1) for s, v in skills.items()}
    arr = raw.get("arrivals", 0)
    if isinstance(arr, (int, float)) and not isinstance(arr, bool):
        rates = [_num(arr, f"{what}: arrivals")] * n_int
    elif isinstance(arr, Sequence) and not isinstance(arr, str):
        rates = [_num(v, f"{what}: arrivals[{i}]") for i, v in enumerate(arr)]
        if len(rates) != n_int:
            raise ScenarioError(f"{what}: arrivals has {len(rates)} values, expected {n_int}")
    else:
        raise ScenarioError(f"{what}: arrivals must be a number or a list per interval")
    vip = _num(raw.get("vip_share", 0.0), f"{what}: vip_share")
    if vip > 1:
        raise ScenarioError(f"{what}: vip_share must be at most 1")
    handle = Dist.parse(raw.get("handle_time", {"dist": "exponential", "mean": 300}),
                        f"{what}: handle_time")
    if handle.kind == "none":
        raise ScenarioError(f"{what}: handle_time cannot be 'none'")
    patience = Dist.parse(raw.get("patience"), f"{what}: patience")
    acw = Dist.parse(raw.get("acw", 0), f"{what}: acw")
    if acw.kind == "none":
        raise ScenarioError(f"{what}: acw cannot be 'none'")
    prio = raw.get("priority", 0)
    if isinstance(prio, bool) or not isinstance(prio, int):
        raise ScenarioError(f"{what}: priority must be an integer")
    overflow: tuple[str, float] | None = None
    ov = raw.get("overflow")
    if ov is not None:
        if not isinstance(ov, Mapping) or set(ov) != {"to", "after"}:
            raise ScenarioError(f"{what}: overflow must be {{to: QUEUE, after: SECONDS}}")
        overflow = (str(ov["to"]), _num(ov["after"], f"{what}: overflow after", positive=True))
    return QueueSpec(name, channel, str(raw.get("client", "")), skills_d,
                     str(raw.get("language", "")), prio, vip, tuple(rates), handle, patience,
                     acw, overflow)


def _parse_agents(raw: Any, k: int, start_s: float, horizon: float) -> list[AgentSpec]:
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"agents[{k}]: expected a mapping")
    label = str(raw.get("id", raw.get("group", f"agents[{k}]")))
    what = f"agents[{k}] ({label})"
    count = _int(raw.get("count", 1), f"{what}: count", 1)
    skills = raw.get("skills", {}) or {}
    if not isinstance(skills, Mapping):
        raise ScenarioError(f"{what}: skills must map skill to proficiency 1-5")
    skills_d: dict[str, int] = {}
    for s, v in skills.items():
        lvl = _int(v, f"{what}: skill {s}", 1)
        if lvl > 5:
            raise ScenarioError(f"{what}: proficiency of {s} must be 1-5")
        skills_d[str(s)] = lvl
    cap = raw.get("capacity", {}) or {}
    capacity = {"call": 1, "chat": 3, "email": 5}
    if not isinstance(cap, Mapping):
        raise ScenarioError(f"{what}: capacity must map channel to a count")
    for ch, n in cap.items():
        if ch not in capacity:
            raise ScenarioError(f"{what}: unknown channel {ch!r} in capacity")
        capacity[str(ch)] = _int(n, f"{what}: capacity {ch}")
    shifts = raw.get("shifts")
    if shifts is None:
        spans = [(0.0, horizon)]
    else:
        if not isinstance(shifts, Sequence) or not shifts:
            raise ScenarioError(f"{what}: shifts must be a non-empty list")
        spans = _on_duty(shifts, what, start_s)
    ids = [label] if count == 1 and "id" in raw else [f"{label}-{j + 1}" for j in range(count)]
    return [
        AgentSpec(aid, skills_d, tuple(str(x) for x in raw.get("languages", []) or []),
                  tuple(str(x) for x in raw.get("clients", []) or []), dict(capacity),
                  tuple(spans))
        for aid in ids
    ]


def _on_duty(shifts: Sequence[Any], what: str, start_s: float) -> list[tuple[float, float]]:
    parsed: list[tuple[float, float, list[tuple[float, float]]]] = []
    for j, sh in enumerate(shifts):
        sw = f"{what} shift {j + 1}"
        if not isinstance(sh, Mapping) or "start" not in sh or "end" not in sh:
            raise ScenarioError(f"{sw}: needs 'start' and 'end'")
        s = parse_time(sh["start"], start_s, f"{sw}: start")
        e = parse_time(sh["end"], start_s, f"{sw}: end")
        if e <= s:
            raise ScenarioError(f"{sw}: ends before it starts")
        breaks: list[tuple[float, float]] = []
        for b, br in enumerate(sh.get("breaks", []) or []):
            bw = f"{sw} break {b + 1}"
            if not isinstance(br, Sequence) or isinstance(br, str) or len(br) != 2:
                raise ScenarioError(f"{bw}: expected [start, end]")
            bs = parse_time(br[0], start_s, f"{bw}: start")
            be = parse_time(br[1], start_s, f"{bw}: end")
            if not s <= bs < be <= e:
                raise ScenarioError(f"{bw}: must lie inside the shift and end after it starts")
            if breaks and bs < breaks[-1][1]:
                raise ScenarioError(f"{bw}: overlaps the previous break")
            breaks.append((bs, be))
        parsed.append((s, e, breaks))
    parsed.sort(key=lambda x: x[0])
    for (s1, e1, _), (s2, _, _) in itertools.pairwise(parsed):
        if s2 < e1:
            raise ScenarioError(f"{what}: shifts overlap ({s1:.0f}-{e1:.0f}s and {s2:.0f}s)")
    spans: list[tuple[float, float]] = []
    for s, e, breaks in parsed:
        cur = s
        for bs, be in breaks:
            if bs > cur:
                spans.append((cur, bs))
            cur = be
        if e > cur:
            spans.append((cur, e))
    return spans
