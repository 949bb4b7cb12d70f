"""Bulk loaders of the ELAsTiCC2 tables: SNANA files (snana/) and synthetic surveys (synth/)."""
