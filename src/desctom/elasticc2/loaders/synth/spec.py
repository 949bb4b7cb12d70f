"""What a synthetic survey is: :class:`SurveySpec` (what to simulate) and :class:`Survey` (the rows as
numpy columns), with the survey's constants and :class:`SynthError`."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

CHUNK = 1000
DEFAULT_START_MJD = 60796.0
DEFAULT_DAYS = 1095.0
DEFAULT_FIRST_ID = 1_000_000
#: Forced-source ids are diaobject_id * ID_MULTIPLIER + k (the SNANA loader's scheme).
ID_MULTIPLIER = 100_000
MAX_OBJECT_ID = (2**63 - 1) // ID_MULTIPLIER - 1
MJD_RANGE = (40000.0, 80000.0)
MAX_DAYS = 20000.0
TABLE_KEYS = ("objects", "sources", "forced", "alerts", "truth")


class SynthError(ValueError):
    """A survey that cannot be made or written as asked."""


@dataclass(frozen=True)
class SurveySpec:
    """Everything that decides a survey's rows."""

    n_objects: int
    seed: int
    start_mjd: float = DEFAULT_START_MJD
    days: float = DEFAULT_DAYS
    first_id: int = DEFAULT_FIRST_ID

    def __post_init__(self):
        def bad(message):
            raise SynthError(message)

        if not isinstance(self.n_objects, numbers.Integral) or self.n_objects < 1:
            bad(f"the number of objects must be a positive integer, not {self.n_objects!r}")
        if not isinstance(self.seed, numbers.Integral) or not 0 <= self.seed < 2**63:
            bad(f"the seed must be an integer >= 0, not {self.seed!r}")
        if not (isinstance(self.start_mjd, numbers.Real) and math.isfinite(self.start_mjd)
                and MJD_RANGE[0] <= self.start_mjd <= MJD_RANGE[1]):
            bad(f"the start MJD must be a number between {MJD_RANGE[0]:.0f} and {MJD_RANGE[1]:.0f}, "
                f"not {self.start_mjd!r}")
        if not (isinstance(self.days, numbers.Real) and math.isfinite(self.days)
                and 1 <= self.days <= MAX_DAYS):
            bad(f"the survey length must be between 1 and {MAX_DAYS:.0f} days, not {self.days!r}")
        if not isinstance(self.first_id, numbers.Integral) or self.first_id < 1:
            bad(f"the first object id must be a positive integer, not {self.first_id!r}")
        if self.first_id + self.n_objects - 1 > MAX_OBJECT_ID:
            bad(f"object ids up to {self.first_id + self.n_objects - 1} do not fit the id scheme "
                f"(diaforcedsource_id = diaobject_id * {ID_MULTIPLIER} + k needs ids <= {MAX_OBJECT_ID})")

    @property
    def tag(self) -> str:
        """The ``simversion`` of the survey's objects: names the survey, whatever its ids."""
        return (f"synth1 seed={self.seed} n={self.n_objects} start={float(self.start_mjd)!r} "
                f"days={float(self.days)!r}")

    @property
    def end_mjd(self) -> float:
        return float(self.start_mjd) + float(self.days)


@dataclass
class Survey:
    """Rows of the five tables as numpy columns, keyed and ordered like the tables' columns.

    NULL is NaN in float columns, a masked entry in ``truth['galid']`` (a numpy masked array) and
    None in ``alerts['alertsenttimestamp']``. Rows are ordered by object id, then by time.
    """

    spec: SurveySpec
    objects: dict[str, np.ndarray] = field(default_factory=dict)
    sources: dict[str, np.ndarray] = field(default_factory=dict)
    forced: dict[str, np.ndarray] = field(default_factory=dict)
    alerts: dict[str, np.ndarray] = field(default_factory=dict)
    truth: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_objects(self) -> int:
        return len(self.objects["diaobject_id"])

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {key: len(next(iter(getattr(self, key).values()))) for key in TABLE_KEYS}

    def select(self, first_id: int, stop_id: int) -> Survey:
        """The objects with first_id <= diaobject_id < stop_id, and their rows."""
        out = Survey(self.spec)
        for key in TABLE_KEYS:
            cols = getattr(self, key)
            ids = cols["diaobject_id"]
            lo, hi = np.searchsorted(ids, [first_id, stop_id])
            setattr(out, key, {name: col[lo:hi] for name, col in cols.items()})
        return out

    @staticmethod
    def concat(parts: list[Survey]) -> Survey:
        """One survey of the rows of ``parts`` (in order)."""
        out = Survey(parts[0].spec)
        for key in TABLE_KEYS:
            first = getattr(parts[0], key)
            merged = {}
            for name in first:
                columns = [getattr(part, key)[name] for part in parts]
                joiner = np.ma.concatenate if isinstance(columns[0], np.ma.MaskedArray) else np.concatenate
                merged[name] = joiner(columns)
            setattr(out, key, merged)
        return out
