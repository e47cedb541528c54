"""Deprived-areas evidence pack: English Indices of Deprivation 2004-2025 for any district."""

__version__ = "0.1.0"
