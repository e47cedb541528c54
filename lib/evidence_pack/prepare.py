"""``evidence-pack prepare``: build every tidy store in data/processed/ from data/raw/.

Stages run in order; each is a function ``build(force: bool) -> list[Path]`` in a domain
module that skips work whose outputs are newer than their inputs unless ``force``.
"""

from __future__ import annotations

import importlib
import sys
import time

#: stage name -> module whose ``prepare(force)`` builds it. Order matters.
STAGES: dict[str, str] = {
    "iod": "evidence_pack.iod",
    "geography": "evidence_pack.geography",
    "census": "evidence_pack.census",
    "spend": "evidence_pack.spend",
    "risk": "evidence_pack.risk",
    "evaluation": "evidence_pack.evaluation",
}


def run(stages: list[str] | None = None, force: bool = False) -> int:
    chosen = stages or list(STAGES)
    unknown = [s for s in chosen if s not in STAGES]
    if unknown:
        print(f"unknown stage(s) {unknown}; choose from {list(STAGES)}", file=sys.stderr)
        return 2
    for name in chosen:
        t0 = time.perf_counter()
        module = importlib.import_module(STAGES[name])
        outputs = module.prepare(force=force)
        print(f"prepare {name}: {len(outputs)} output(s) in {time.perf_counter() - t0:.1f} s")
    return 0
