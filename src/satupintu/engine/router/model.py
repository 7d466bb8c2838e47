"""Agents and interactions as the router sees them (plain data, no I/O)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

CHANNELS = ("call", "chat", "email")

#: Default concurrent capacity per channel (a call blocks all other work).
DEFAULT_CAPACITY: Mapping[str, int] = {"call": 1, "chat": 3, "email": 5}

#: Channels that block every other channel while one is active.
BLOCKING_CHANNELS = frozenset({"call"})


class AgentState(enum.Enum):
    """Presence of an agent (capacity is tracked apart from presence)."""

    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"
    OFFERED = "offered"
    BUSY = "busy"
    ACW = "acw"


class RouterError(ValueError):
    """A rule, agent or interaction the router cannot accept."""


@dataclass(eq=False, slots=True)
class Agent:
    """One agent: static attributes (seen by rule expressions) and live state."""

    id: str
    skills: dict[str, int] = field(default_factory=dict)
    languages: tuple[str, ...] = ()
    clients: tuple[str, ...] = ()
    capacity: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    team: str = ""
    site: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    # live state
    state: AgentState = AgentState.LOGGED_OUT
    reason: str = ""
    last_contact_end: float = float("-inf")
    contacts_today: int = 0
    missed_offers: int = 0
    load: dict[str, int] = field(default_factory=dict)  # offered + active per channel
    acw_pending: int = 0
    offered: int = 0
    _view: dict[str, Any] | None = field(default=None, init=False, repr=False)
    #: the matcher's note for an agent with capacity on one channel only and no load on
    #: another: (channel, capacity, pool, pool order); None otherwise. Private to the
    #: Matcher holding the agent (see Matcher._set_slots).
    _solo: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        for name, level in self.skills.items():
            if not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
                raise RouterError(f"agent {self.id}: proficiency of {name!r} must be 1-5")
        for ch, cap in self.capacity.items():
            if ch not in CHANNELS or cap < 0:
                raise RouterError(f"agent {self.id}: bad capacity {ch}={cap}")
        for ch in CHANNELS:
            self.capacity.setdefault(ch, DEFAULT_CAPACITY[ch])
        self.languages = tuple(self.languages)
        self.clients = tuple(self.clients)

    def view(self) -> dict[str, Any]:
        """The attributes rule expressions see as ``agent``."""
        if self._view is None:
            self._view = {
                "id": self.id,
                "skills": dict(self.skills),
                "languages": list(self.languages),
                "clients": list(self.clients),
                "team": self.team,
                "site": self.site,
                "attributes": dict(self.attributes),
            }
        return self._view

    @property
    def status(self) -> AgentState:
        """Presence combined with work: offered, busy or after-contact work when ready."""
        if self.state is not AgentState.READY:
            return self.state
        if self.offered:
            return AgentState.OFFERED
        if self.busy_load() - self.acw_pending > 0:
            return AgentState.BUSY
        if self.acw_pending:
            return AgentState.ACW
        return AgentState.READY

    def busy_load(self) -> int:
        return sum(self.load.values())

    def can_take(self, channel: str) -> bool:
        """Whether capacity allows one more ``channel`` contact (presence not checked)."""
        cap = self.capacity.get(channel, DEFAULT_CAPACITY.get(channel, 0))
        if cap <= 0:
            return False
        mine = self.load.get(channel, 0)
        if mine >= cap:
            return False
        for ch, n in self.load.items():
            if n and ch != channel and (ch in BLOCKING_CHANNELS or channel in BLOCKING_CHANNELS):
                return False
        return True

    def occupancy(self) -> float:
        """Share of capacity in use, the 'least occupied' ordering key."""
        occ = 0.0
        for ch, n in self.load.items():
            cap = self.capacity.get(ch, DEFAULT_CAPACITY.get(ch, 1)) or 1
            occ = max(occ, n / cap) if ch in BLOCKING_CHANNELS else occ + n / cap
        return occ


@dataclass(eq=False, slots=True)
class Interaction:
    """One contact waiting for (or being handled by) an agent."""

    id: str
    queue: str
    channel: str = "call"
    client: str = ""
    skills: dict[str, int] = field(default_factory=dict)
    language: str = ""
    priority: int = 0
    vip: bool = False
    enqueue_time: float = 0.0
    preferred_agent: str = ""
    customer: str = ""
    callback_keeps_place: bool = False
    original_enqueue_time: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    rule_version: str | None = None
    tag: int = -1  # opaque handle for the caller (the simulator's contact index)
    _view: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise RouterError(f"interaction {self.id}: unknown channel {self.channel!r}")

    @property
    def place_time(self) -> float:
        """The time that orders this interaction in line (callbacks keep their place)."""
        if self.callback_keeps_place and self.original_enqueue_time is not None:
            return self.original_enqueue_time
        return self.enqueue_time

    def view(self) -> dict[str, Any]:
        """The attributes rule expressions see as ``interaction``."""
        if self._view is None:
            self._view = {
                "id": self.id,
                "queue": self.queue,
                "channel": self.channel,
                "client": self.client,
                "skills": dict(self.skills),
                "language": self.language,
                "priority": self.priority,
                "vip": self.vip,
                "preferred_agent": self.preferred_agent,
                "customer": self.customer,
                "attributes": dict(self.attributes),
            }
        return self._view


_new = object.__new__


def copy_for(like: Interaction, iid: str, now: float, vip: bool, tag: int) -> Interaction:
    """A new interaction like ``like`` (same queue, skills...) for another contact.

    Built field by field without ``__init__`` (a third of its cost; ``like`` was checked
    when it was made). ``skills`` is shared with ``like`` (the router never writes it).
    """
    ix: Interaction = _new(Interaction)
    ix.id = iid
    ix.queue = like.queue
    ix.channel = like.channel
    ix.client = like.client
    ix.skills = like.skills
    ix.language = like.language
    ix.priority = like.priority
    ix.vip = vip
    ix.enqueue_time = now
    ix.preferred_agent = like.preferred_agent
    ix.customer = like.customer
    ix.callback_keeps_place = like.callback_keeps_place
    ix.original_enqueue_time = like.original_enqueue_time
    ix.attributes = dict(like.attributes)
    ix.rule_version = like.rule_version
    ix.tag = tag
    ix._view = None
    return ix


_COPIED = ("id", "queue", "channel", "client", "skills", "language", "priority", "vip",
           "enqueue_time", "preferred_agent", "customer", "callback_keeps_place",
           "original_enqueue_time", "attributes", "rule_version", "tag", "_view")
if tuple(f.name for f in fields(Interaction)) != _COPIED:  # pragma: no cover
    raise RuntimeError("Interaction's fields changed: update copy_for()")


AGENT_FIELDS = frozenset({"id", "skills", "languages", "clients", "team", "site", "attributes"})
INTERACTION_FIELDS = frozenset(
    {
        "id",
        "queue",
        "channel",
        "client",
        "skills",
        "language",
        "priority",
        "vip",
        "preferred_agent",
        "customer",
        "attributes",
    }
)
