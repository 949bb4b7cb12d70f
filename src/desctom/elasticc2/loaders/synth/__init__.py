"""Synthetic LSST surveys: the project's own stand-in for SNANA, for benchmarks and scale tests.

* :func:`generate` simulates objects, light curves, detections, alerts and truth as numpy columns
  (a :class:`Survey`; no database);
* :func:`write` writes a :class:`Survey` into the PPDB (or training) tables in one transaction;
* :func:`synthesize` generates and writes a whole survey batch by batch, resuming an interrupted
  run (what ``desctom synth_survey`` runs).

See docs/synthetic_surveys.md.
"""

from desctom.elasticc2.loaders.synth.runner import SynthInterrupted, SynthResult, synthesize
from desctom.elasticc2.loaders.synth.spec import (
           CHUNK,
           DEFAULT_DAYS,
           DEFAULT_START_MJD,
           Survey,
           SurveySpec,
           SynthError,
)
from desctom.elasticc2.loaders.synth.survey import generate
from desctom.elasticc2.loaders.synth.writer import write

__all__ = ["CHUNK", "DEFAULT_DAYS", "DEFAULT_START_MJD", "Survey", "SurveySpec", "SynthError",
           "SynthInterrupted", "SynthResult", "generate", "synthesize", "write"]
