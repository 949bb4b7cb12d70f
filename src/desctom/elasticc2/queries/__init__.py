"""Reads of the ELAsTiCC2 tables used by the HTTP layer and the workers (SQL lives here)."""
