"""Regenerate lib/evidence_pack/sources/catalogue.csv from a mirror MANIFEST.csv.

The catalogue is the project's own declarative list of every public file the pack
uses (id, public URL, sha256, licence, reader). It is generated once from the
MANIFEST that describes the offline mirror and then committed; run this again only
when the set of sources changes:

    python scripts/make_catalogue.py ../shared/mirror/MANIFEST.csv
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "lib" / "evidence_pack" / "sources" / "catalogue.csv"

LICENCES = {
    "humaniverse-IMD": ("OGL-3.0 (data); MIT (IMD R package)",
                        "Contains MHCLG/DLUHC English Indices of Deprivation data, Open Government Licence v3.0; republished by the IMD R package (humaniverse)."),
    "humaniverse-geographr": ("OGL-3.0 (data); MIT (geographr R package)",
                              "Source: Office for National Statistics licensed under the Open Government Licence v3.0. Contains OS data © Crown copyright and database right; republished by the geographr R package (humaniverse)."),
    "humaniverse-demographr": ("OGL-3.0 (data); MIT (demographr R package)",
                               "Source: Office for National Statistics, Census 2021 and mid-year population estimates, Open Government Licence v3.0; republished by the demographr R package (humaniverse)."),
    "open-innovations-geography-bits": ("OGL-3.0",
                                        "Source: Office for National Statistics licensed under the Open Government Licence v3.0. Contains OS data © Crown copyright and database right; split by Open Innovations."),
    "samuel-book-stroke_unit_demographics": ("OGL-3.0",
                                             "Source: Office for National Statistics and House of Commons Library MSOA names, Open Government Licence v3.0."),
    "ons-lookups": ("OGL-3.0", "Source: Office for National Statistics licensed under the Open Government Licence v3.0."),
    "mhclg-iod-files": ("OGL-3.0", "Contains MHCLG English Indices of Deprivation 2019 and 2015 data, Open Government Licence v3.0."),
    "mhclg-revenue-outturn": ("OGL-3.0", "Contains MHCLG Revenue Outturn and Revenue Account data, Open Government Licence v3.0."),
    "thomasforth-PESAParser": ("OGL-3.0", "Contains HM Treasury Country and Regional Analysis (Public Expenditure Statistical Analyses) data, Open Government Licence v3.0; republished by PESAParser (Thomas Forth)."),
    "CFrancesca-ds-JTS-Interactive-Map": ("OGL-3.0", "Contains Department for Transport Journey Time Statistics 2015 data, Open Government Licence v3.0; republished by CFrancesca/ds-JTS-Interactive-Map."),
    "ons-regional-gdp": ("OGL-3.0", "Source: Office for National Statistics, regional GDP and productivity; ITL boundaries. Open Government Licence v3.0. Contains OS data © Crown copyright and database right."),
}


def reader_for(path: str, content: str) -> str:
    suffix = path.rsplit(".", 1)[-1].lower()
    if suffix == "rda":
        return "rda_sf" if "sf object" in content else "rda_frame"
    if path.endswith("csv"):
        return "csv"
    if suffix in {"xlsx", "xls"}:
        return suffix
    if suffix == "geojsonl":
        return "geojson_feature"
    if suffix in {"shp", "shx", "dbf", "prj", "cpg"}:
        return "shapefile_part"
    if suffix == "md":
        return "text"
    if suffix == "zip":
        return "zip"
    return "binary"


def make_id(path: str) -> str:
    group = path.split("/")[0]
    stem = Path(path).name
    stem = re.sub(r"\.(rda|csv|xlsx|xls|geojsonl|shp|shx|dbf|prj|cpg|md)$", "", stem)
    if group == "open-innovations-geography-bits":
        kind = Path(path).parent.name.lower()
        return f"oi_{kind}_{stem.lower()}"
    if group == "ons-regional-gdp" and "ITL3" in stem:
        return "itl3_boundaries_" + Path(path).suffix.lstrip(".")
    slug = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")
    return slug[:80]


def main(manifest: str) -> None:
    rows = list(csv.DictReader(open(manifest, newline="", encoding="utf-8")))
    seen: set[str] = set()
    out = []
    for r in rows:
        group = r["path"].split("/")[0]
        cid = make_id(r["path"])
        if cid in seen:
            raise SystemExit(f"duplicate catalogue id {cid} for {r['path']}")
        seen.add(cid)
        lic, attribution = LICENCES[group]
        out.append({
            "id": cid,
            "group": group,
            "path": r["path"],
            "url": r["url"],
            "sha256": r["sha256"],
            "bytes": r["bytes"],
            "reader": reader_for(r["path"], r["content"]),
            "licence": lic,
            "attribution": attribution,
            "description": r["content"][:300],
        })
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(out[0]))
        w.writeheader()
        w.writerows(out)
    print(f"wrote {len(out)} entries to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/mirror/MANIFEST.csv")
