"""Errors raised by the workforce-management maths (Erlang, staffing, forecast, schedule).

Every error names the input (``field``) or the constraint (``constraint``) that caused it,
so a caller can turn it into a one-line message for a planner.
"""

from __future__ import annotations


class WfmError(ValueError):
    """Base class of every workforce-management error."""


class InvalidInputError(WfmError):
    """An input is outside its domain (negative volume, AHT of zero, target outside (0, 1))."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class UnreachableTargetError(WfmError):
    """No number of agents up to ``max_agents`` meets the target."""

    def __init__(self, target: str, reason: str) -> None:
        self.target = target
        self.reason = reason
        super().__init__(f"{target}: {reason}")


class InfeasibleScheduleError(WfmError):
    """A schedule or roster problem has no solution; ``constraint`` names the one that binds."""

    def __init__(self, constraint: str, reason: str) -> None:
        self.constraint = constraint
        self.reason = reason
        super().__init__(f"{constraint}: {reason}")
