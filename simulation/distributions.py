"""Probability distributions for service times, patience and pitch lengths.

Each distribution is a small frozen pydantic model, so it lives inside the
validated Scenario, round-trips to YAML unchanged, and carries its analytic
``mean`` and ``var``: tests check sampled moments against them and the
optimizer reads means without sampling.

All times are minutes. ``ppf(u)`` is the inverse CDF (quantile function) at uniforms ``u`` in
[0, 1): the engine draws every random quantity as a fixed uniform pushed through it, so customer k
keeps its uniform when a what-if changes a distribution and its time moves monotonically with it
(common random numbers across service-time what-ifs; see :mod:`simulation.engine`).
``sample(rng, size)`` is ``ppf`` of ``size`` uniforms from a numpy ``Generator`` (one per named
random stream, never the global state). The quantiles are exact: scipy's ``ndtri`` for the normal,
``gammaincinv`` for the gamma (``scipy.special`` imports in a fraction of the time ``scipy.stats`` takes).

>>> import numpy as np
>>> d = Lognormal(mean=2.5, cv=0.5)
>>> round(d.mean, 3), round(d.var, 4)
(2.5, 1.5625)
>>> d.sample(np.random.default_rng(1), 3).shape
(3,)
>>> float(Exponential(mean=2.0).ppf(np.array([0.5]))[0]) == 2.0 * math.log(2)
True
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.special import gammaincinv, ndtri

FiniteNonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False)]
FinitePos = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _Dist(BaseModel, ABC):
    """What every distribution offers: analytic moments, its quantile function, and sampling built on it."""

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
    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantiles at uniforms ``u`` in [0, 1) (the inverse CDF), as a float array of ``u``'s shape."""

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent draws: the quantiles of ``size`` uniforms from ``rng``."""
        return self.ppf(rng.random(size))

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

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return -self.mean_ * np.log1p(-np.asarray(u, float))

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

    def ppf(self, u: np.ndarray) -> np.ndarray:
        sigma2 = math.log1p(self.cv_**2)
        return np.exp(math.log(self.mean_) - sigma2 / 2 + math.sqrt(sigma2) * ndtri(np.asarray(u, float)))


class Gamma(_MeanCv):
    """Gamma with the given mean and cv (shape 1/cv², scale mean·cv²)."""

    dist: Literal["gamma"] = "gamma"

    def ppf(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, float)
        if self.cv_ < 1e-6:  # shape 1/cv² beyond 1e12: the gamma is its mean to 6 digits (and 1/cv² may overflow)
            return np.full(u.shape, float(self.mean_))
        shape = 1.0 / self.cv_**2
        return np.asarray(gammaincinv(shape, u), float) * (self.mean_ / shape)


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

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), float(self.value))


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

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u, float)


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

    def ppf(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, float)
        a, c, b = float(self.low), float(self.mode), float(self.high)
        split = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        return np.where(u < split, left, right)


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

    def ppf(self, u: np.ndarray) -> np.ndarray:
        # Equal slices of [0, 1) map to the values in their listed order (listed sorted, this is the
        # exact empirical quantile; the order is kept so results do not depend on how a file sorts them).
        values = np.asarray(self.values, float)
        idx = (np.asarray(u, float) * len(values)).astype(np.int64)
        return values[np.minimum(idx, len(values) - 1)]


Distribution = Annotated[
    Exponential | Lognormal | Gamma | Deterministic | Uniform | Triangular | Empirical,
    Field(discriminator="dist"),
]
"""Any distribution, chosen in files by its ``dist`` key."""

DIST_NAMES = ("exponential", "lognormal", "gamma", "deterministic", "uniform", "triangular", "empirical")
