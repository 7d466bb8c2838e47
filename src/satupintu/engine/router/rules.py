"""Declarative, versioned routing rules (YAML or JSON), compiled once.

A rule set names, per queue, ordered *steps* (bullseye rings): each step has a target
expression (CEL) over ``agent`` and ``interaction``, an optional timeout after which the
next, wider step applies, a priority boost and an ordering strategy. See
``docs/engine-router.md``.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .expr import Expression
from .model import Agent, Interaction, RouterError

STRATEGIES = (
    "longest_idle",
    "fewest_contacts",
    "highest_proficiency",
    "least_occupied",
    "round_robin",
)

_STEP_KEYS = {"name", "target", "timeout", "priority_boost", "strategy", "preferred_agent"}
_QUEUE_KEYS = {"steps", "strategy", "overflow"}
_OVERFLOW_KEYS = {"to", "after"}
_TOP_KEYS = {"name", "version", "accept_timeout", "max_missed_offers", "vip_boost", "queues"}


@dataclass(frozen=True)
class Step:
    """One ring of a queue's workflow."""

    queue: str
    index: int
    name: str
    target: Expression | None
    timeout: float | None
    priority_boost: int
    strategy: str
    preferred_agent: bool
    #: no target, longest idle, not a preferred-agent step: the matcher's fast path
    simple: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "simple",
            self.target is None and self.strategy == "longest_idle" and not self.preferred_agent,
        )

    @property
    def label(self) -> str:
        return f"queue {self.queue!r} step {self.index + 1} ({self.name})"

    def eligible(self, agent: Agent, interaction: Interaction) -> bool:
        """Target check only (presence, capacity and client are checked by callers)."""
        if self.preferred_agent and agent.id != interaction.preferred_agent:
            return False
        if self.target is None:
            return True
        return self.target(agent.view(), interaction.view())


@dataclass(frozen=True)
class Overflow:
    """A contact still waiting ``after`` seconds in the queue moves to the queue ``to``
    (keeping its place in line); the wait counts again from the move."""

    to: str
    after: float


@dataclass(frozen=True, eq=False)
class QueuePlan:
    name: str
    steps: tuple[Step, ...]
    overflow: Overflow | None = None

    def schedule(self, interaction: Interaction) -> list[tuple[Step, float]]:
        """The steps that apply to ``interaction`` and the wait at which each starts.

        The list is shared between interactions: callers must not change it.
        """
        return self._schedules[bool(interaction.preferred_agent)]

    @functools.cached_property
    def _schedules(self) -> tuple[list[tuple[Step, float]], list[tuple[Step, float]]]:
        out: list[list[tuple[Step, float]]] = []
        for has_preferred in (False, True):
            sched: list[tuple[Step, float]] = []
            start = 0.0
            for step in self.steps:
                if step.preferred_agent and not has_preferred:
                    continue
                sched.append((step, start))
                if step.timeout is None:
                    break
                start += step.timeout
            out.append(sched)
        return out[0], out[1]


@dataclass(frozen=True)
class RuleSet:
    """A parsed, validated and compiled rule set (one version)."""

    name: str
    version: str
    queues: Mapping[str, QueuePlan]
    accept_timeout: float = 15.0
    max_missed_offers: int = 3
    vip_boost: int = 0
    source: Mapping[str, Any] = field(default_factory=dict)

    def plan(self, queue: str) -> QueuePlan:
        try:
            return self.queues[queue]
        except KeyError:
            if "default" in self.queues:
                return self.queues["default"]
            raise RouterError(
                f"rule set {self.name!r} v{self.version} has no queue {queue!r}"
            ) from None

    @classmethod
    def from_file(cls, path: str | Path) -> RuleSet:
        p = Path(path)
        text = p.read_text(encoding="utf-8")
        data = json.loads(text) if p.suffix == ".json" else yaml.safe_load(text)
        return cls.from_dict(data)

    @classmethod
    def from_text(cls, text: str) -> RuleSet:
        return cls.from_dict(yaml.safe_load(text))

    @classmethod
    def from_dict(cls, data: Any) -> RuleSet:
        if not isinstance(data, Mapping):
            raise RouterError("a rule set must be a mapping")
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise RouterError(f"rule set: unknown keys {sorted(unknown)}")
        name = str(data.get("name", "rules"))
        if "version" not in data:
            raise RouterError(f"rule set {name!r}: 'version' is required")
        version = str(data["version"])
        accept = _number(data.get("accept_timeout", 15.0), "accept_timeout", positive=True)
        missed = data.get("max_missed_offers", 3)
        if not isinstance(missed, int) or isinstance(missed, bool) or missed < 1:
            raise RouterError("rule set: max_missed_offers must be a positive integer")
        vip = data.get("vip_boost", 0)
        if not isinstance(vip, int) or isinstance(vip, bool):
            raise RouterError("rule set: vip_boost must be an integer")
        queues_raw = data.get("queues")
        if not isinstance(queues_raw, Mapping) or not queues_raw:
            raise RouterError(f"rule set {name!r}: 'queues' must be a non-empty mapping")
        queues = {str(q): _parse_queue(str(q), spec) for q, spec in queues_raw.items()}
        _check_overflow_cycles(queues)
        return cls(name, version, queues, accept, missed, vip, dict(data))


def _number(value: Any, what: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise RouterError(f"{what} must be a number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise RouterError(f"{what} must be {'positive' if positive else 'non-negative'}")
    return float(value)


def _parse_queue(name: str, spec: Any) -> QueuePlan:
    _check_mapping(spec, f"queue {name!r}", _QUEUE_KEYS)
    default_strategy = str(spec.get("strategy", "longest_idle"))
    if default_strategy not in STRATEGIES:
        raise RouterError(f"queue {name!r}: unknown strategy {default_strategy!r}")
    raw_steps = spec.get("steps", [{}])
    if not isinstance(raw_steps, list) or not raw_steps:
        raise RouterError(f"queue {name!r}: 'steps' must be a non-empty list")
    steps: list[Step] = []
    for i, raw in enumerate(raw_steps):
        label = f"queue {name!r} step {i + 1}"
        _check_mapping(raw, label, _STEP_KEYS)
        target: Expression | None = None
        if raw.get("target") not in (None, "", "true"):
            try:
                target = Expression(str(raw["target"]))
            except RouterError as exc:
                raise RouterError(f"{label}: {exc}") from None
            if (
                not target.agent_fields
                and not target.interaction_fields
                and not target.evaluate_cel(_NULL_AGENT, _NULL_IX)
            ):
                raise RouterError(f"{label}: target never matches any agent")
        timeout = raw.get("timeout")
        if timeout is not None:
            timeout = _number(timeout, f"{label}: timeout", positive=True)
        boost = raw.get("priority_boost", 0)
        if not isinstance(boost, int) or isinstance(boost, bool):
            raise RouterError(f"{label}: priority_boost must be an integer")
        strategy = str(raw.get("strategy", default_strategy))
        if strategy not in STRATEGIES:
            raise RouterError(f"{label}: unknown strategy {strategy!r}")
        preferred = bool(raw.get("preferred_agent", False))
        if preferred and timeout is None:
            raise RouterError(f"{label}: a preferred-agent step needs a timeout")
        steps.append(
            Step(name, i, str(raw.get("name", f"step{i + 1}")), target, timeout, boost,
                 strategy, preferred)
        )
    for step in steps[:-1]:
        if step.timeout is None:
            raise RouterError(
                f"{step.label}: only the last step may wait forever (no timeout); "
                "the steps after it could never apply"
            )
    if steps[-1].timeout is not None:
        raise RouterError(
            f"{steps[-1].label}: the last step has a timeout but no wider step follows; "
            "the interaction would become unroutable"
        )
    return QueuePlan(name, tuple(steps), _parse_overflow(name, spec.get("overflow")))


def _check_mapping(raw: Any, label: str, allowed: set[str], shape: str = "a mapping"
                   ) -> None:
    if not isinstance(raw, Mapping):
        raise RouterError(f"{label}: must be {shape}")
    unknown = set(raw) - allowed
    if unknown:
        raise RouterError(f"{label}: unknown keys {sorted(unknown)}")


def _parse_overflow(name: str, raw: Any) -> Overflow | None:
    if raw is None:
        return None
    what = f"queue {name!r}: overflow"
    _check_mapping(raw, what, _OVERFLOW_KEYS, shape="a mapping {to: QUEUE, after: SECONDS}")
    if "to" not in raw or "after" not in raw:
        raise RouterError(f"{what} needs both 'to' (a queue) and 'after' (seconds)")
    to = raw["to"]
    if not isinstance(to, str) or not to.strip():
        raise RouterError(f"{what}: 'to' must name a queue")
    if name == "default":
        raise RouterError(f"{what}: the default plan covers many queues, the destination "
                          "among them; set overflow on a named queue")
    if to.strip() == name:
        raise RouterError(f"{what}: a queue cannot overflow to itself")
    return Overflow(to.strip(), _number(raw["after"], f"{what} after", positive=True))


def _check_overflow_cycles(queues: Mapping[str, QueuePlan]) -> None:
    """A -> B -> A would move a waiting contact back and forth for ever."""
    for start in queues:
        seen = [start]
        plan = queues[start]
        while plan.overflow is not None and plan.overflow.to in queues:
            nxt = plan.overflow.to
            if nxt in seen:
                path = " -> ".join([*seen[seen.index(nxt):], nxt])
                raise RouterError(f"queue {start!r}: overflow goes round in a circle ({path})")
            seen.append(nxt)
            plan = queues[nxt]


_NULL_AGENT: dict[str, Any] = {
    "id": "", "skills": {}, "languages": [], "clients": [], "team": "", "site": "",
    "attributes": {},
}
_NULL_IX: dict[str, Any] = {
    "id": "", "queue": "", "channel": "call", "client": "", "skills": {}, "language": "",
    "priority": 0, "vip": False, "preferred_agent": "", "customer": "", "attributes": {},
}
