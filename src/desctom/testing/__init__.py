"""Helpers for the project's own test suite (real PostgreSQL, real tansu, real HTTP)."""
