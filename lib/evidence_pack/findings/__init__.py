"""Findings: the plain-English sentences built from analysis results, and the one house style
for numbers in reader text (``findings.format``). Imports analysis/, stores/, sources/."""
