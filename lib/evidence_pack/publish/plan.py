"""Plan a build: which notebooks run for which areas, with what parameters and cache key.

Notebooks are ``notebooks/*.ipynb``, configured by ``notebooks/reports.yml`` (title, typed
parameters, scope, data globs, ``all_areas``). Areas come from the areas file through the one
parser, :func:`evidence_pack.analysis.areas.load_areas` (fully validated: nothing runs when it
is bad). Cache keys (sha256):

- a borough report depends on the whole areas file, or, for a notebook marked
  ``area_details: false`` (it shows no area's type, leads, evidence or confidence), on the
  district-level part and every area's slug, name, vintage and LSOAs;
- an area report depends on its own area's entry and the district-level part of the file
  (everything but the ``areas`` list), and, by the notebook's ``all_areas`` in reports.yml:
  ``false`` (the default) nothing of the other areas; ``lsoas`` (the report uses the other
  areas' neighbourhoods, e.g. the rest of the borough is the district less every area's, but
  no other area is named) the set of every area's LSOAs (vintage, code); ``true`` (the report
  shows the other areas by name) every area's slug, name, vintage and LSOAs. Never other
  areas' descriptive fields (type, leads, evidence, confidence); with ``area_details: false``
  not its own area's either (its own slug, name, vintage and LSOAs only);
- every report depends on its notebook, parameters, the package code, templates, caveats and
  the processed data files it reads (``data:`` globs).
"""

from __future__ import annotations

import ast
import glob
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evidence_pack import config
from evidence_pack.analysis.areas import AreaSet, load_areas
from evidence_pack.publish.jobs import Job, Result, Settings  # noqa: F401  (re-exported)
from evidence_pack.publish.jupyter_imports import skip_unused_grammars
from evidence_pack.sources.hashing import FileHasher, sha256_json
from evidence_pack.sources.io import DataError, read_yaml
from evidence_pack.sources.table_cache import in_frames_folder

REPORTS_YML = "reports.yml"
#: Bump to invalidate every cached report (e.g. when the rendering changes shape).
CACHE_VERSION = "2"
#: Files every report depends on besides its notebook and data (relative to the root).
CODE_GLOBS = ("lib/evidence_pack/**/*.py", "lib/evidence_pack/publish/templates/*",
              "lib/evidence_pack/sources/catalogue.csv", "docs/caveats/*.md")
DEFAULT_DATA = ("data/processed/**/*",)
BOROUGH = config.BOROUGH
SCOPES = ("all", "borough", "areas")
#: ``all_areas`` values: what an area report uses of the other areas (module docstring).
ALL_AREAS = {False: "none", True: "names", "none": "none", "lsoas": "lsoas", "names": "names"}


@dataclass(frozen=True)
class ReportSpec:
    """One notebook and how it is run (from ``notebooks/reports.yml``)."""

    name: str
    path: Path
    title: str
    parameters: dict[str, Any]
    scope: str = "all"  # all | borough | areas
    data: tuple[str, ...] = DEFAULT_DATA
    all_areas: str = "none"  # none | lsoas | names (what an area report uses of other areas)
    area_details: bool = True  # shows areas' type, leads, evidence or confidence


@dataclass(frozen=True)
class AreaDef:
    """One area as the build sees it: slug, name, size and the hash of its own entry."""

    slug: str
    name: str
    n_lsoas: int
    fingerprint: str  # its whole entry
    members_fingerprint: str  # its slug, name, vintage and LSOAs


@dataclass(frozen=True)
class Areas:
    """A validated areas file and the hashes the cache keys use."""

    area_set: AreaSet
    areas: list[AreaDef]
    district_hash: str  # everything but the areas list
    members_hash: str  # every area's slug, name, vintage and LSOAs
    lsoas_hash: str  # the set of every area's LSOAs (vintage, code): no names, no order
    whole_hash: str  # the whole parsed file


def _first_heading(nb_path: Path) -> str | None:
    try:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            m = re.search(r"^#\s+(.+)$", "".join(cell.get("source", [])), re.MULTILINE)
            if m:
                return m.group(1).strip()
    return None


def load_specs(notebooks_dir: Path, names: Sequence[str] | None = None) -> list[ReportSpec]:
    """Every notebook to run, in the order of reports.yml (then by name)."""
    cfg_path = notebooks_dir / REPORTS_YML
    cfg: dict[str, Any] = {}
    if cfg_path.exists():
        cfg = read_yaml(cfg_path, "report configuration") or {}
    if not isinstance(cfg, dict):
        raise DataError(cfg_path, "expected a mapping with `notebooks:`")
    per = cfg.get("notebooks") or {}
    defaults = cfg.get("defaults") or {}
    found = {p.stem: p for p in sorted(notebooks_dir.glob("*.ipynb"))}
    if names:
        wanted = [n.removesuffix(".ipynb") for n in names]
        unknown = [n for n in wanted if n not in found]
        if unknown:
            raise DataError(notebooks_dir, f"no notebook(s) {unknown}: choose from {sorted(found)}")
        found = {n: found[n] for n in wanted}
    order = [n for n in per if n in found] + [n for n in found if n not in per]
    specs = []
    for name in order:
        entry = {**defaults, **(per.get(name) or {})}
        scope = entry.get("scope", "all")
        if scope not in SCOPES:
            raise DataError(cfg_path, f"{name}: scope must be all, borough or areas, not {scope!r}")
        others = entry.get("all_areas", False)
        if not isinstance(others, (bool, str)) or others not in ALL_AREAS:
            raise DataError(cfg_path, f"{name}: all_areas must be false, lsoas or true (names), "
                                      f"not {others!r}")
        params = dict(entry.get("parameters") or {})
        bad = {"area", "areas_file"} & set(params)
        if bad:
            raise DataError(cfg_path, f"{name}: {sorted(bad)} are set by the build, not reports.yml")
        specs.append(ReportSpec(
            name=name, path=found[name],
            title=str(entry.get("title") or _first_heading(found[name]) or name.replace("_", " ")),
            parameters=params, scope=scope,
            data=tuple(entry["data"] if entry.get("data") is not None else DEFAULT_DATA),
            all_areas=ALL_AREAS[others], area_details=bool(entry.get("area_details", True))))
    return specs


def load_area_defs(areas_file: Path) -> Areas:
    """Validate the areas file with the one parser, then hash its parts for the cache keys.

    Raises DataError naming the file, the area and the problem (before anything runs).
    """
    area_set = load_areas(areas_file)
    doc = read_yaml(areas_file, "area file")  # the same strict reader: already valid
    header = {k: v for k, v in doc.items() if k != "areas"}
    raw = {str(item.get("slug")).strip(): item for item in doc["areas"]}
    members = [(a.slug, a.name, a.lsoa_vintage, list(a.lsoas)) for a in area_set.areas]
    defs = [AreaDef(slug=a.slug, name=a.name, n_lsoas=len(a.lsoas),
                    fingerprint=sha256_json(raw.get(a.slug)), members_fingerprint=sha256_json(m))
            for a, m in zip(area_set.areas, members, strict=True)]
    lsoas = sorted({(a.lsoa_vintage, c) for a in area_set.areas for c in a.lsoas})
    return Areas(area_set=area_set, areas=defs, district_hash=sha256_json(header),
                 members_hash=sha256_json(members), lsoas_hash=sha256_json(lsoas),
                 whole_hash=sha256_json(doc))


def data_hash(hasher: FileHasher, patterns: Sequence[str]) -> str:
    """One hash of the processed files matching ``patterns`` (non-hidden, by relative path),
    leaving out results cached per areas file (``table_cache.frames_for`` folders): they follow
    from the data and the areas file, which the keys cover already, and a build that writes
    them for a new areas file must not make the next build re-run everything."""
    files: set[str] = set()
    for pat in patterns:
        for p in glob.glob(str(hasher.root / pat), recursive=True):
            if (os.path.isfile(p) and not os.path.basename(p).startswith(".")
                    and not in_frames_folder(p)):
                files.add(p)
    return sha256_json({os.path.relpath(p, hasher.root): hasher.file(p) for p in sorted(files)})


def _areas_param(areas_file: Path, root: Path) -> str:
    try:
        return str(areas_file.resolve().relative_to(root))
    except ValueError:
        return str(areas_file.resolve())


def plan(specs: Sequence[ReportSpec], areas: Areas, areas_file: Path, hasher: FileHasher,
         root: Path, code_globs: Sequence[str] = CODE_GLOBS) -> list[Job]:
    """Every (notebook, area) run with its cache key (see the module docstring)."""
    code = hasher.globs(code_globs)
    hashes: dict[tuple[str, ...], str] = {}
    areas_param = _areas_param(areas_file, root)
    jobs = []
    for spec in specs:
        nb_hash = hasher.file(spec.path)
        if spec.data not in hashes:
            hashes[spec.data] = data_hash(hasher, spec.data)
        targets: list[tuple[str, str, dict[str, str]]] = []
        if spec.scope in ("all", "borough"):
            targets.append((BOROUGH, "", {"file": areas.whole_hash} if spec.area_details else
                            {"district": areas.district_hash, "members": areas.members_hash}))
        if spec.scope in ("all", "areas"):
            for a in areas.areas:
                deps = {"district": areas.district_hash,
                        "area": a.fingerprint if spec.area_details else a.members_fingerprint}
                if spec.all_areas == "names":
                    deps["members"] = areas.members_hash
                elif spec.all_areas == "lsoas":
                    deps["lsoas"] = areas.lsoas_hash
                targets.append((a.slug, a.name, deps))
        for slug, name, deps in targets:
            params = {"area": slug, "areas_file": areas_param, **spec.parameters}
            key = sha256_json({"v": CACHE_VERSION, "nb": nb_hash, "params": params,
                               "areas": deps, "code": code, "data": hashes[spec.data]})
            jobs.append(Job(notebook=spec.name, path=str(spec.path), area=slug,
                            area_name=name, parameters=params, key=key, title=spec.title))
    return jobs


_TYPES = {"int": int, "float": (int, float), "str": str, "bool": bool, "list": list,
          "dict": dict, "tuple": (list, tuple)}


def check_parameters(spec: ReportSpec) -> None:
    """DataError when reports.yml sets a parameter the notebook lacks or with the wrong type."""
    skip_unused_grammars()
    import nbformat  # heavy (papermill ~0.3 s): only when a run is due
    import papermill

    nb = nbformat.read(str(spec.path), as_version=4)
    nb.metadata.setdefault("kernelspec", {"name": config.KERNEL_NAME, "language": "python",
                                          "display_name": config.KERNEL_NAME})
    declared = papermill.inspect_notebook(nb)
    if not declared:
        raise DataError(spec.path, "no cell tagged `parameters`")
    for name in ("area", "areas_file"):
        if name not in declared:
            raise DataError(spec.path, f"the parameters cell does not define {name!r}")
    for name, value in spec.parameters.items():
        if name not in declared:
            raise DataError(spec.path, f"reports.yml sets {name!r}, not in the parameters cell "
                                       f"({sorted(declared)})")
        tname = (declared[name].get("inferred_type_name") or "None").split("[")[0].lower()
        if tname == "none":  # no annotation: the type of the default value
            try:
                tname = type(ast.literal_eval(declared[name].get("default") or "None")).__name__
            except (ValueError, SyntaxError):
                tname = "none"
        want = _TYPES.get(tname)
        if want is not None and (not isinstance(value, want)
                                 or (tname in ("int", "float") and isinstance(value, bool))):
            raise DataError(spec.path, f"parameter {name!r} is {tname} in the notebook, "
                                       f"reports.yml gives {type(value).__name__} {value!r}")
