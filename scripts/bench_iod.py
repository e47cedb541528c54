"""Benchmark the IoD store: build everything the `iod` prepare stage writes from the raw
files (IoD store, indicators, populations, lookups, district summaries), then load it.

Prints wall time and CPU time (this process plus the worker process the build uses) and
the machine's load average, since wall time on a shared machine depends on other work."""

import os
import resource
import time

import pandas as pd
from evidence_pack.stores import district_summaries, iod, iod_stage


def cpu(who: int | None = None) -> float:
    """CPU seconds of this process and its finished children (or only ``who``)."""
    whos = [who] if who is not None else [resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN]
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, whos))


print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
t, c = time.perf_counter(), cpu()
c_main, c_kids = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
outputs = iod_stage.prepare(force=True)
print(f"build from raw (iod_stage.prepare(force=True), {len(outputs)} files): "
      f"{time.perf_counter() - t:.1f} s wall, {cpu() - c:.1f} s CPU "
      f"(main {cpu(resource.RUSAGE_SELF) - c_main:.1f} s + worker "
      f"{cpu(resource.RUSAGE_CHILDREN) - c_kids:.1f} s; target < 30 s wall)")

t, c = time.perf_counter(), cpu()
store = iod.load()
print(f"load whole store: {time.perf_counter() - t:.2f} s wall, {cpu() - c:.2f} s CPU, "
      f"{len(store):,} rows (target < 1 s)")

t = time.perf_counter()
one = iod.load(releases=[2019], measures=["imd"], lad_codes=["E08000018"])
print(f"load one district x release x measure: {time.perf_counter() - t:.3f} s ({len(one)} rows)")

t = time.perf_counter()
w = iod.wide(2025)
print(f"wide(2025): {time.perf_counter() - t:.2f} s, {w.shape[0]:,} x {w.shape[1]}")

t = time.perf_counter()
s = district_summaries.la_summary()
print(f"la_summary(): {time.perf_counter() - t:.2f} s, {len(s):,} rows")
print(f"load average after: {os.getloadavg()[0]:.1f}")

counts = store[store["measure"] == "imd"].groupby("release")["lsoa_code"].nunique()
rows = store.groupby("release").size()
measures = store.groupby("release")["measure"].nunique()
print(pd.DataFrame({"lsoas": counts, "measures": measures, "rows": rows}).to_string())
