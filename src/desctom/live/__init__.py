"""The live Rubin survey: real LSST alerts and DESC's broker messages (docs/live_survey.md)."""
