"""Probability distributions for service times, patience and pitch lengths.

Each distribution is a small frozen pydantic model, so it lives inside the
validated Scenario, round-trips to YAML unchanged, and carries its analytic
``mean`` and ``var``: tests check sampled moments against them and the
optimizer reads means without sampling.

All times are minutes. ``sample(rng, size)`` draws from a numpy ``Generator``
(one per named random stream, never the global state).

>>> import numpy as np
>>> d = Lognormal(mean=2.5, cv=0.5)
>>> round(d.mean, 3), round(d.var, 4)
(2.5, 1.5625)
>>> d.sample(np.random.default_rng(1), 3).shape
(3,)
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

FiniteNonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
FinitePos = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Dist(BaseModel, ABC):
    """What every distribution offers: analytic moments and sampling from a given generator."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @property
    @abstractmethod
    def mean(self) -> float: ...

    @property
    @abstractmethod
    def var(self) -> float: ...

    @property
    def cv(self) -> float:
        """Coefficient of variation (std / mean); 0 for a zero mean."""
        return math.sqrt(self.var) / self.mean if self.mean > 0 else 0.0

    @abstractmethod
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray: ...

    def spec(self) -> dict[str, object]:
        """The dictionary form used in scenario files."""
        return self.model_dump(mode="json")


class Exponential(_Dist):
    """Memoryless times: the M in M/M/c. Parameter: ``mean``."""

    dist: Literal["exponential"] = "exponential"
    mean_: FinitePos = Field(alias="mean")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def var(self) -> float:
        return self.mean_**2

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_, size)

    def spec(self) -> dict[str, object]:
        return {"dist": "exponential", "mean": self.mean_}


class _MeanCv(_Dist):
    mean_: FinitePos = Field(alias="mean")
    cv_: FinitePos = Field(alias="cv")

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @property
    def mean(self) -> float:
        return self.mean_

    @property
    def var(self) -> float:
        return (self.mean_ * self.cv_) ** 2

    @property
    def cv(self) -> float:
        return self.cv_

    def spec(self) -> dict[str, object]:
        return {"dist": self.dist, "mean": self.mean_, "cv": self.cv_}  # type: ignore[attr-defined]


class Lognormal(_MeanCv):
    """Right-skewed service times, parameterised the way people think: mean and cv."""

    dist: Literal["lognormal"] = "lognormal"

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        sigma2 = math.log1p(self.cv_**2)
        mu = math.log(self.mean_) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), size)


class Gamma(_MeanCv):
    """Gamma with the given mean and cv (shape 1/cv², scale mean·cv²)."""

    dist: Literal["gamma"] = "gamma"

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        shape = 1.0 / self.cv_**2
        return rng.gamma(shape, self.mean_ / shape, size)


class Deterministic(_Dist):
    """A fixed time (``value``), e.g. a scripted kiosk flow."""

    dist: Literal["deterministic"] = "deterministic"
    value: FiniteNonNeg

    @property
    def mean(self) -> float:
        return self.value

    @property
    def var(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self.value, dtype=float)


class Uniform(_Dist):
    """Equally likely between ``low`` and ``high``."""

    dist: Literal["uniform"] = "uniform"
    low: FiniteNonNeg
    high: FiniteNonNeg

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high <= self.low:
            raise ValueError(f"high must be greater than low, got low={self.low!r}, high={self.high!r}")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def var(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)


class Triangular(_Dist):
    """Three-point estimate (``low``, ``mode``, ``high``), common when only expert guesses exist."""

    dist: Literal["triangular"] = "triangular"
    low: FiniteNonNeg
    mode: FiniteNonNeg
    high: FiniteNonNeg

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                "triangular needs low <= mode <= high and low < high, "
                f"got low={self.low!r}, mode={self.mode!r}, high={self.high!r}"
            )
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def var(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.triangular(self.low, self.mode, self.high, size)


class Empirical(_Dist):
    """Resamples observed ``values`` with equal weight (e.g. timings from a stopwatch study)."""

    dist: Literal["empirical"] = "empirical"
    values: tuple[FiniteNonNeg, ...] = Field(min_length=1)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def var(self) -> float:
        return float(np.var(self.values))

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), size)


Distribution = Annotated[
    Exponential | Lognormal | Gamma | Deterministic | Uniform | Triangular | Empirical,
    Field(discriminator="dist"),
]
"""Any distribution, chosen in files by its ``dist`` key."""

DIST_NAMES = ("exponential", "lognormal", "gamma", "deterministic", "uniform", "triangular", "empirical")
