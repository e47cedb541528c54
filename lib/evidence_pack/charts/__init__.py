"""Figures and maps drawn from analysis results. Imports analysis/, stores/, sources/."""
