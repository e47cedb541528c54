"""Profile the library calls a notebook makes: its code cells run in this process, cold (a
fresh process: nothing cached) and then warm (again, with the in-kernel caches a build's warm
kernel would have), under cProfile. Prints each cell's seconds per run and the top functions.

    python scripts/profile_notebook.py imd_trends --run data/areas/rotherham.yml:borough \
        --run data/areas/rotherham.yml:canklow [--top 25] [--sort cumulative] [--profile-from 2]

Runs are in the order given, so the second run above times Canklow with the borough's tables
already read (as in a build's kernel); a run of another district's areas file after a first
district's is the national batch's steady state. Only runs from ``--profile-from`` on (1-based)
are profiled. The machine is shared: the 1-minute
load average is printed beside every figure. No on-disk memo folder is used unless
``EVIDENCE_PACK_MEMO_DIR`` is set.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))
os.environ.setdefault("MPLBACKEND", "Agg")


def load() -> str:
    return f"[load {os.getloadavg()[0]:.1f}]"


def cells(name: str) -> list[tuple[int, str, bool]]:
    """The notebook's code cells: (index, source, is the parameters cell)."""
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
    return [(i, "".join(c["source"]), "parameters" in c["metadata"].get("tags", []))
            for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def run(name: str, params: dict, prof: cProfile.Profile | None) -> list[tuple[int, float]]:
    """Run the notebook's cells with ``params`` injected after the parameters cell; seconds per cell."""
    ns: dict = {"__name__": "__main__"}
    times = []
    for i, src, is_params in cells(name):
        code = compile(src, f"<{name} cell {i}>", "exec")
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            if prof:
                prof.enable()
            exec(code, ns)
            if is_params:
                ns.update(params)
            if prof:
                prof.disable()
        times.append((i, time.perf_counter() - t))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebook")
    ap.add_argument("--run", action="append",
                    help="AREAS_FILE[:AREA] (AREA default borough; repeat; default Rotherham's borough)")
    ap.add_argument("--profile-from", type=int, default=1, help="first run profiled (1-based)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--sort", default="cumulative")
    ap.add_argument("--no-profile", action="store_true", help="cell times only")
    args = ap.parse_args()
    os.chdir(ROOT)
    for k, spec in enumerate(args.run or ["data/areas/rotherham.yml"]):
        areas_file, _, area = spec.partition(":")
        area = area or "borough"
        prof = None if args.no_profile or k + 1 < args.profile_from else cProfile.Profile()
        cpu, t0 = time.process_time(), time.perf_counter()
        times = run(args.notebook, {"area": area, "areas_file": areas_file}, prof)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu
        state = "cold" if k == 0 else "warm"
        print(f"== {args.notebook} {areas_file}:{area} ({state}): {wall:.2f} s wall, {cpu:.2f} s CPU {load()}")
        print("   cells: " + ", ".join(f"[{i}] {s:.2f}" for i, s in times))
        if prof:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(args.sort).print_stats(args.top)
            print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


if __name__ == "__main__":
    main()
