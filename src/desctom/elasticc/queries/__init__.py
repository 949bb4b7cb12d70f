"""Reads of the ELAsTiCC 1 tables."""
