"""Benchmark the maps: load every boundary one district's map needs and draw it.

Target: loading all boundaries for one district + drawing its decile map under 2 s once the
processed files exist (`evidence-pack prepare`). Measured in this process after imports,
with the boundary cache cleared before each run; the figure is rendered (canvas draw), and
saving a 150 dpi PNG is timed separately. ``--prepare`` also times the one-off conversion
of the boundary files (minutes).

``--reports`` times every map of the Rotherham pack as a report pays for it: the map built
(``maps.decile_map``, ``cluster_map``, ``area_map`` for each target area) and turned into the
report's figure (``report.figure_html``: print height, legibility check, 150 dpi PNG), CPU
seconds, the least of ``--rounds`` rounds (the first call of each is a warm-up, as a
build's kernel has drawn a map before), with the number of figure draws.

``--simplify`` measures what simplifying a district's LSOA boundaries to print scale would
save: vertices left by ``shapely.coverage_simplify`` (shared edges stay shared) at a few
tolerances, and the CPU seconds of drawing the fills alone at 150 dpi.
"""

from __future__ import annotations

import argparse
import os
import time

t0 = time.perf_counter()
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import io  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
from evidence_pack.analysis import areas  # noqa: E402
from evidence_pack.charts import maps  # noqa: E402
from evidence_pack.publish import report  # noqa: E402
from evidence_pack.stores import geography  # noqa: E402

IMPORTS = time.perf_counter() - t0

DISTRICTS = {"E08000018": "Rotherham (detailed boundaries)",
             "E08000019": "Sheffield (generalised boundaries)"}


def one(lad_code: str, release: int, area_set) -> dict[str, float]:
    geography._load.cache_clear()
    t = time.perf_counter()
    vintage = {2004: 2001, 2007: 2001, 2010: 2001, 2015: 2011, 2019: 2011, 2025: 2021}[release]
    n = len(geography.lsoa_boundaries(vintage, lad_code))
    geography.ward_boundaries(lad_code)
    geography.lad_boundaries(lad_code)
    geography.region_boundaries()
    load = time.perf_counter() - t
    geography._load.cache_clear()
    t, c = time.perf_counter(), time.process_time()
    fig = maps.decile_map(lad_code, release, area_set=area_set)
    fig.canvas.draw()
    total, cpu = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter()
    fig.savefig(io.BytesIO(), format="png", dpi=150)
    png = time.perf_counter() - t
    plt.close(fig)
    return {"lsoas": n, "load": load, "total": total, "cpu": cpu, "png": png}


def report_maps(rounds: int) -> None:
    """CPU seconds a report pays for each map of the Rotherham pack (build + figure_html)."""
    s = areas.load_areas()
    calls = {"decile map 2025 (borough)": lambda: maps.decile_map(s.la_code, 2025, area_set=s),
             "decile map 2004 (borough)": lambda: maps.decile_map(s.la_code, 2004, area_set=s),
             "town-centre map 2025 (borough)": lambda: maps.cluster_map(s, release=2025)}
    calls.update({f"area map {slug}": (lambda slug=slug: maps.area_map(s, slug, release=2025))
                  for slug in s.slugs})
    for make in calls.values():  # warm-up: fonts, boundaries, deciles
        plt.close(make())
    total = 0.0
    for label, make in calls.items():
        best = (float("inf"), 0.0, 0.0, 0)
        for _ in range(rounds):
            c = time.process_time()
            fig = make()
            built = time.process_time() - c
            draws: list[int] = []
            orig = fig.draw
            fig.draw = lambda r, orig=orig, seen=draws: (seen.append(1), orig(r))[1]
            c = time.process_time()
            report.figure_html(fig, alt="map", source="iod2025")
            shown = time.process_time() - c
            plt.close(fig)
            best = min(best, (built + shown, built, shown, len(draws)))
        total += best[0]
        print(f"{label}: {best[0]:.3f} s CPU (map {best[1]:.3f} + report figure {best[2]:.3f}; "
              f"{best[3]} draws) [load {os.getloadavg()[0]:.1f}]")
    print(f"all {len(calls)} maps: {total:.2f} s CPU (a pack draws the borough's three, and "
          "each area's map twice: area_profile and imd_trends)")


def simplify_gain(lad_code: str = "E08000018", rounds: int = 5) -> None:
    """Vertices and fill-drawing CPU seconds of a district's 2021 LSOAs, simplified or not."""
    import shapely
    from evidence_pack.charts import map_layers

    lsoas = geography.lsoa_boundaries(2021, lad_code)
    shapes = lsoas.geometry.to_numpy()
    x0, y0, x1, y1 = lsoas.total_bounds
    for tol in (0.0, 10.0, 20.0, 50.0):
        geoms = shapes if tol == 0 else shapely.coverage_simplify(shapes, tol)
        best = float("inf")
        for _ in range(rounds):
            fig, ax = plt.subplots(figsize=(5.2, 7.4), dpi=150)
            map_layers.draw_polygons(ax, geoms, [maps.DECILE_COLOURS[0]] * len(geoms))
            ax.set_xlim(x0, x1)
            ax.set_ylim(y0, y1)
            ax.set_axis_off()
            fig.canvas.draw()
            c = time.process_time()
            fig.canvas.draw()
            best = min(best, time.process_time() - c)
            plt.close(fig)
        n = int(shapely.get_num_coordinates(geoms).sum())
        print(f"{lad_code} LSOAs (2021), tolerance {tol:g} m: {n} vertices; fills drawn at "
              f"150 dpi in {best * 1000:.1f} ms CPU [load {os.getloadavg()[0]:.1f}]")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prepare", action="store_true", help="also time geography.prepare(force)")
    p.add_argument("--reports", action="store_true",
                   help="only the maps of the Rotherham pack as reports draw them")
    p.add_argument("--simplify", action="store_true",
                   help="only what simplified boundaries would save")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    print(f"machine load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.reports:
        report_maps(args.rounds)
        return 0
    if args.simplify:
        simplify_gain()
        return 0
    print(f"imports (matplotlib, geopandas, evidence_pack): {IMPORTS:.2f} s")
    if args.prepare:
        t = time.perf_counter()
        out = geography.prepare(force=True)
        print(f"geography.prepare(force=True): {time.perf_counter() - t:.1f} s, {len(out)} files")
    rotherham = areas.load_areas()
    # warm-up: first use of lookups and fonts is paid once per process
    plt.close(maps.decile_map("E08000018", 2010, area_set=rotherham))
    worst = worst_cpu = 0.0
    for lad_code, label in DISTRICTS.items():
        area_set = rotherham if lad_code == rotherham.la_code else None
        for release in (2010, 2019, 2025):
            r = one(lad_code, release, area_set)
            worst = max(worst, r["total"])
            worst_cpu = max(worst_cpu, r["cpu"])
            print(f"{label}, IMD {release}: {r['lsoas']} LSOAs; boundaries loaded in "
                  f"{r['load']:.2f} s; load + draw decile map {r['total']:.2f} s "
                  f"(CPU {r['cpu']:.2f} s; target < 2 s); PNG at 150 dpi {r['png']:.2f} s")
    t = time.perf_counter()
    fig = maps.area_map(rotherham, "east-dene", release=2025)
    fig.canvas.draw()
    plt.close(fig)
    print(f"area_map (East Dene, IMD 2025): {time.perf_counter() - t:.2f} s")
    print(f"slowest load + draw: {worst:.2f} s wall, {worst_cpu:.2f} s CPU "
          f"({'within' if worst < 2 else 'OVER'} the 2 s target in wall time on this machine "
          "now; wall time grows with the load average)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
