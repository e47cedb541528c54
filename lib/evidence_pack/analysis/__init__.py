"""Analyses on the tidy stores: target areas, trends, profiles, risk model, evaluation, spend.
Imports stores/ and sources/; never charts/ or publish/."""
