"""The router: agents, interactions, versioned CEL rules, one matcher for all queues."""

from .expr import Expression
from .matcher import Matcher, Offer, active_step, choose_agent, choose_interaction
from .model import (
    DEFAULT_CAPACITY,
    Agent,
    AgentState,
    Interaction,
    RouterError,
)
from .rules import STRATEGIES, Overflow, QueuePlan, RuleSet, Step

__all__ = [
    "DEFAULT_CAPACITY",
    "STRATEGIES",
    "Agent",
    "AgentState",
    "Expression",
    "Interaction",
    "Matcher",
    "Offer",
    "Overflow",
    "QueuePlan",
    "RouterError",
    "RuleSet",
    "Step",
    "active_step",
    "choose_agent",
    "choose_interaction",
]
