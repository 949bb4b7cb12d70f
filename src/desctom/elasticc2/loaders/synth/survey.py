"""The survey as columns: :class:`SurveySpec` (what to simulate), :class:`Survey` (the rows) and
:func:`generate`.

Objects are simulated in chunks of :data:`CHUNK` objects, each with its own random stream seeded by
(seed, chunk number), so any slice of a survey can be made on its own and is identical to the same
slice of the whole survey: batches, resumed runs and parallel generators all agree.
"""

from __future__ import annotations

from desctom.elasticc2.loaders.synth.cadence import Schedules
from desctom.elasticc2.loaders.synth.simulate import simulate_chunk
from desctom.elasticc2.loaders.synth.spec import (
    CHUNK,
    DEFAULT_DAYS,
    DEFAULT_FIRST_ID,
    DEFAULT_START_MJD,
    Survey,
    SurveySpec,
    SynthError,
)


def generate(n_objects: int, seed: int, *, start_mjd: float = DEFAULT_START_MJD, days: float = DEFAULT_DAYS,
             first_id: int = DEFAULT_FIRST_ID, start: int = 0, stop: int | None = None) -> Survey:
    """Simulate objects ``start`` .. ``stop - 1`` (default: all) of a survey of ``n_objects`` objects.

    Deterministic: the same arguments give the same rows; a slice equals that slice of the whole
    survey. Touches no database.
    """
    spec = SurveySpec(n_objects, seed, start_mjd, days, first_id)
    return Generator(spec).slice(start, n_objects if stop is None else stop)


class Generator:
    """Makes slices of one survey, keeping field schedules and the last chunk between calls."""

    def __init__(self, spec: SurveySpec, schedules=None):
        self.spec = spec
        self.schedules = schedules or Schedules(spec.seed, spec.start_mjd, spec.days)
        self._last: tuple[int, Survey] | None = None

    def chunk(self, number: int) -> Survey:
        """All objects of chunk ``number``."""
        if self._last is None or self._last[0] != number:
            self._last = (number, simulate_chunk(self.spec, self.schedules, number))
        return self._last[1]

    def slice(self, start: int, stop: int) -> Survey:
        """Objects ``start`` .. ``stop - 1`` (indexes into the survey, not ids)."""
        if not 0 <= start < stop <= self.spec.n_objects:
            raise SynthError(f"no objects {start}..{stop - 1} in a survey of {self.spec.n_objects} objects")
        parts = [self.chunk(c) for c in range(start // CHUNK, (stop - 1) // CHUNK + 1)]
        survey = parts[0] if len(parts) == 1 else Survey.concat(parts)
        first = self.spec.first_id
        return survey.select(first + start, first + stop)
