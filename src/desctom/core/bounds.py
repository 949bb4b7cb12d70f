"""Bounds of PostgreSQL's integer column types, for checking input before it reaches a column."""

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: ``bigint`` as a ``(low, high)`` pair.
INT64 = (INT64_MIN, INT64_MAX)
