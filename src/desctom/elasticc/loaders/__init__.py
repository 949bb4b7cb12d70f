"""Loaders of the ELAsTiCC 1 tables: SNANA files and broker-message dumps."""
