"""Fixtures for the live-stream tests: one small simulated stream with every hard case, made once."""

import pytest

from desctom.live.workers.simulator import LiveSurveySimulator


@pytest.fixture(scope="session")
def hard_stream():
    """(simulator, its messages) of 60 objects over 6 nights with every hard case."""
    sim = LiveSurveySimulator(60, 6, seed=11)
    return sim, list(sim.messages())
