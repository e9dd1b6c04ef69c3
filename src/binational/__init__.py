"""Binational: the shared security and public-health data platform of the US and Mexico."""

__version__ = "0.1.0"
