"""Duration distributions for handle time, patience and after-contact work."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

KINDS = ("exponential", "lognormal", "constant", "empirical", "none")


class ScenarioError(ValueError):
    """A scenario (or one of its rows) that cannot be simulated."""


@dataclass(frozen=True)
class Dist:
    """A non-negative duration distribution (seconds). ``none`` means infinite."""

    kind: str
    mean: float = 0.0
    sd: float = 0.0
    values: tuple[float, ...] = ()

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        if self.kind == "exponential":
            return rng.exponential(self.mean, n)
        if self.kind == "lognormal":
            sigma2 = math.log(1.0 + (self.sd / self.mean) ** 2)
            mu = math.log(self.mean) - sigma2 / 2.0
            return rng.lognormal(mu, math.sqrt(sigma2), n)
        if self.kind == "constant":
            return np.full(n, self.mean)
        if self.kind == "empirical":
            return rng.choice(np.asarray(self.values, dtype=np.float64), n)
        return np.full(n, np.inf)

    @property
    def expected(self) -> float:
        if self.kind == "empirical":
            return float(np.mean(self.values))
        if self.kind == "none":
            return math.inf
        return self.mean

    @classmethod
    def exponential(cls, mean: float) -> Dist:
        return cls.parse({"dist": "exponential", "mean": mean}, "exponential")

    @classmethod
    def parse(cls, spec: Any, what: str) -> Dist:
        """From ``{dist: exponential, mean: 300}``, a bare number (constant) or ``None``."""
        if spec is None:
            return cls("none")
        if isinstance(spec, (int, float)) and not isinstance(spec, bool):
            return cls("constant", _nonneg(spec, what))
        if not isinstance(spec, Mapping):
            raise ScenarioError(f"{what}: expected a mapping like {{dist: exponential, mean: 300}}")
        kind = str(spec.get("dist", "exponential"))
        if kind not in KINDS:
            raise ScenarioError(f"{what}: unknown distribution {kind!r}")
        if kind == "none":
            return cls("none")
        if kind == "empirical":
            values = spec.get("values")
            if not isinstance(values, Sequence) or not values:
                raise ScenarioError(f"{what}: empirical needs a non-empty list 'values'")
            return cls("empirical", values=tuple(_nonneg(v, what) for v in values))
        if kind == "constant":
            return cls("constant", _nonneg(spec.get("value", spec.get("mean")), what))
        mean = _nonneg(spec.get("mean"), f"{what}: mean")
        if mean <= 0:
            raise ScenarioError(f"{what}: mean must be positive")
        sd = 0.0
        if kind == "lognormal":
            sd = _nonneg(spec.get("sd"), f"{what}: sd")
            if sd <= 0:
                raise ScenarioError(f"{what}: sd must be positive")
        return cls(kind, mean, sd)


def _nonneg(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ScenarioError(f"{what}: expected a number, got {value!r}")
    if value < 0:
        raise ScenarioError(f"{what}: must not be negative (got {value})")
    return float(value)
