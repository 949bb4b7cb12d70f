"""DESC TOM: a Target and Observation Manager for LSST alert-classification campaigns."""

__version__ = "0.1.0"
