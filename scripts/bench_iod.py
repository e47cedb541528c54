"""Benchmark the IoD store: build everything the `iod` prepare stage writes from the raw
files (IoD store, indicators, populations, lookups, district summaries), then load it."""

import time

import pandas as pd
from evidence_pack import iod

t = time.perf_counter()
outputs = iod.prepare(force=True)
build = time.perf_counter() - t
print(f"build from raw (iod.prepare(force=True), {len(outputs)} files): {build:.1f} s "
      "(target < 30 s)")

t = time.perf_counter()
store = iod.load()
full = time.perf_counter() - t
print(f"load whole store: {full:.2f} s for {len(store):,} rows (target < 1 s)")

t = time.perf_counter()
one = iod.load(releases=[2019], measures=["imd"], lad_codes=["E08000018"])
print(f"load one district x release x measure: {time.perf_counter() - t:.3f} s ({len(one)} rows)")

t = time.perf_counter()
w = iod.wide(2025)
print(f"wide(2025): {time.perf_counter() - t:.2f} s, {w.shape[0]:,} x {w.shape[1]}")

counts = (store[store["measure"] == "imd"].groupby("release")["lsoa_code"].nunique())
rows = store.groupby("release").size()
print(pd.DataFrame({"lsoas": counts, "rows": rows}).to_string())
