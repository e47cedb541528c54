"""Planning the national batch: each district's areas file, its tasks and the manifest.

A task is one (district, area, notebook) run. Its cache key is the single-district build's
key (:func:`evidence_pack.publish.plan.plan`: notebook, parameters, the area's definition,
package code, processed data), so a district's report is rebuilt when, and only when, the
same report of ``evidence-pack build`` would be.

Areas files: ``data/areas/*.yml`` whose ``la_code`` is the district's, else a draft made with
the default draft rules (``areas draft``: IMD 2010, England's most deprived 10%; the latest
release for districts created since 2010) and saved as ``reports/<code>/areas.yml`` for review.
A draft is read from ``build/national/areas/<code>.yml``, an own file from its own path; the
text travels with each task and is written at that path on a worker that lacks it or holds
another version, so workers need no shared disk.

Manifest: one per reports folder (:func:`manifest_for`: ``build/national/manifest.json`` for
the project's ``reports/``), one entry per task id ``<code>/<area>/<notebook>`` (ok, key,
seconds, key figures, error), written after every result: an interrupted batch resumes,
skipping each task whose key is unchanged and whose report files exist.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evidence_pack import config
from evidence_pack.analysis import national as national_analysis
from evidence_pack.findings import areas as area_text
from evidence_pack.publish import manifest as manifest_io
from evidence_pack.publish import plan as build_plan
from evidence_pack.publish.plan import CODE_GLOBS, DEFAULT_DATA, Areas, Job, ReportSpec
from evidence_pack.sources.hashing import FileHasher, sha256_json
from evidence_pack.sources.io import DataError, read_yaml, write_text

#: Where the client keeps the national manifest and the areas files runs read.
NATIONAL_DIR = Path("build") / "national"
#: Releases tried in turn to draft a district's areas (new districts have no 2010 LSOAs).
DRAFT_RELEASES = (2010, 2025)
#: The code a draft depends on: every stage below ``publish`` (readers, stores, analysis,
#: findings; not charts, publishing or notebooks), so that editing a report does not make
#: England's 296 drafts (minutes) be drafted again.
DRAFT_CODE_GLOBS = ("lib/evidence_pack/config.py", "lib/evidence_pack/sources/**/*.py",
                    "lib/evidence_pack/sources/catalogue.csv", "lib/evidence_pack/stores/**/*.py",
                    "lib/evidence_pack/analysis/**/*.py", "lib/evidence_pack/findings/**/*.py")
#: National most-deprived percentages, smallest first: a district with no neighbourhood in
#: England's most deprived 10% gets its areas from the most deprived 20%, 50%, or all.
DRAFT_THRESHOLDS = (10.0, 20.0, 50.0, 100.0)


@dataclass(frozen=True)
class District:
    code: str
    name: str
    region: str


@dataclass
class Task:
    """One report: a notebook for one area of one district, with what a worker needs."""

    district: str
    district_name: str
    job: Job
    areas_text: str
    areas_rel: str  # where runs read it, relative to the project root
    notebook_text: str
    pdf: bool
    #: (host, folder): where workers on that host keep memoised district- and England-wide
    #: results, shared by all of them (the client's build folder); None: each its own
    shared_memo: tuple[str, str] | None = None

    @property
    def id(self) -> str:
        return f"{self.district}/{self.job.id}"

    def outputs(self, reports_dir: Path) -> dict[str, Path]:
        outs = self.job.outputs(reports_dir / self.district)
        return {k: p for k, p in outs.items() if self.pdf or k != "pdf"}


@dataclass
class DistrictPlan:
    district: District
    areas_file: Path  # the file runs read: data/areas/x.yml or build/national/areas/<code>.yml
    origin: str  # "data/areas/x.yml" or "drafted"
    areas: Areas
    jobs: list[Job]
    tasks: list[Task] = field(default_factory=list)


def districts_from(frame: pd.DataFrame) -> list[District]:
    return [District(str(r.lad_code), str(r.lad_name), str(r.region_name))
            for r in frame.itertuples(index=False)]


def own_areas_files(areas_dir: Path = config.AREAS_DIR) -> dict[str, Path]:
    """District code -> hand-made areas file in ``data/areas`` (by its ``la_code``)."""
    found: dict[str, Path] = {}
    for p in sorted(areas_dir.glob("*.yml")):
        doc = read_yaml(p, "areas file")
        code = doc.get("la_code") if isinstance(doc, dict) else None
        if code and str(code) not in found:
            found[str(code)] = p
    return found


def drafts_key(hasher: FileHasher, code_globs: Sequence[str] = CODE_GLOBS) -> str:
    """The drafts cache key: the processed data and the drafting code. Results cached per
    areas file under data/processed are left out (``build_plan.data_hash``): every district
    built writes some, and they must not make the next batch redraft England."""
    return sha256_json([build_plan.data_hash(hasher, DEFAULT_DATA),
                        hasher.globs(DRAFT_CODE_GLOBS if code_globs == CODE_GLOBS else code_globs)])


class Drafts:
    """Drafted areas files, cached in ``build/national/drafts.json`` under a key of the
    processed data and the drafting code (:data:`DRAFT_CODE_GLOBS`): drafting England takes
    about 4 minutes on 2 busy cores, a rerun none."""

    def __init__(self, path: Path, key: str):
        self.path, self.key = path, key
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        self.cache: dict[str, Any] = data if isinstance(data, dict) else {}
        self.ranks: dict[int, tuple[pd.DataFrame, int]] | None = None
        self.changed = False

    def text(self, code: str) -> str:
        """The district's draft: the default rules (IMD 2010, England's most deprived 10%),
        else the smallest wider threshold or the latest release that gives it an area (the
        file's header says which). DataError when no release has the district's LSOAs."""
        hit = self.cache.get(code)
        if isinstance(hit, dict) and hit.get("key") == self.key:
            return str(hit["text"])
        if self.ranks is None:  # read once for every district drafted
            self.ranks = {r: national_analysis.release_ranks(r) for r in DRAFT_RELEASES}
        rule = national_analysis.draft_rule(code, self.ranks, DRAFT_THRESHOLDS)
        if rule is None:
            raise DataError(f"district {code}", "no LSOAs in IMD "
                            + " or ".join(map(str, DRAFT_RELEASES)) + ": cannot draft areas")
        text = area_text.draft_areas_yaml(code, release=rule[0], threshold=rule[1])
        self.cache[code] = {"key": self.key, "text": text}
        self.changed = True
        return text

    def save(self) -> None:
        if self.changed:
            write_text(json.dumps(self.cache, indent=0, sort_keys=True), self.path)
            self.changed = False


def areas_for(district: District, own: dict[str, Path], drafts: Drafts, reports_dir: Path,
              root: Path) -> tuple[str, str]:
    """(areas YAML text, origin) for a district: its own file, else a draft that is also
    saved as ``reports/<code>/areas.yml`` for review."""
    if district.code in own:
        p = own[district.code]
        try:
            origin = str(p.resolve().relative_to(root))
        except ValueError:
            origin = str(p)
        return p.read_text(encoding="utf-8"), origin
    text = drafts.text(district.code)
    review = reports_dir / district.code / "areas.yml"
    if not review.exists() or review.read_text(encoding="utf-8") != text:
        write_text(text, review)
    return text, "drafted"


def areas_rel(code: str, origin: str) -> str:
    """Where runs read a district's areas: its own file's path inside the project, else
    ``build/national/areas/<code>.yml``."""
    if origin != "drafted" and not Path(origin).is_absolute():
        return origin
    return str(NATIONAL_DIR / "areas" / f"{code}.yml")


def place_areas_file(rel: str, text: str, root: Path) -> Path:
    """Make sure ``root/rel`` holds the areas text (an unchanged file is not rewritten, so its
    hash stays cached)."""
    target = root / rel
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        write_text(text, target)
    return target


def plan_districts(districts: Sequence[District], specs: Sequence[ReportSpec],
                   only: Sequence[str] | None, pdf: bool, reports_dir: Path, root: Path,
                   hasher: FileHasher,
                   code_globs: Sequence[str] = CODE_GLOBS) -> list[DistrictPlan]:
    """Every district's areas and tasks (``only``: area slugs or ``borough`` to keep)."""
    own = own_areas_files()
    nb_text = {s.name: s.path.read_text(encoding="utf-8") for s in specs}
    drafts = Drafts(root / NATIONAL_DIR / "drafts.json", drafts_key(hasher, code_globs))
    plans = []
    for d in districts:
        try:
            text, origin = areas_for(d, own, drafts, reports_dir, root)
        finally:
            drafts.save()
        rel = areas_rel(d.code, origin)
        path = place_areas_file(rel, text, root)
        area_defs = build_plan.load_area_defs(path)
        jobs = build_plan.plan(specs, area_defs, path, hasher, root, code_globs)
        dp = DistrictPlan(d, path, origin, area_defs, jobs)
        dp.tasks = [Task(d.code, d.name, j, text, rel, nb_text[j.notebook], pdf)
                    for j in jobs if not only or j.area in only]
        plans.append(dp)
    return plans


# --------------------------------------------------------------------------- manifest


def manifest_for(reports_dir: Path, root: Path, build_dir: Path) -> Path:
    """The manifest of a batch into ``reports_dir``: ``<build>/national/manifest.json`` for the
    project's ``reports/``, else ``<build>/national/manifests/<folder>-<hash of its absolute
    path>.json``, so that batches into different folders never take each other's reports as
    built."""
    reports_dir = Path(reports_dir).resolve()
    base = Path(build_dir) / "national"
    if reports_dir == (Path(root) / "reports").resolve():
        return base / "manifest.json"
    digest = hashlib.sha256(str(reports_dir).encode()).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", reports_dir.name)[:40] or "reports"
    return base / "manifests" / f"{name}-{digest}.json"


def read_manifest(path: Path) -> dict[str, Any]:
    """The batch's manifest: ``{"tasks": {id: entry}, "files": {...}}`` (see manifest.py)."""
    return manifest_io.read_manifest(path, entries="tasks")


def is_current(task: Task, manifest: dict[str, Any], reports_dir: Path) -> bool:
    """True when the task's last run succeeded with the same key and its files exist."""
    entry = manifest["tasks"].get(task.id)
    return bool(entry and entry.get("ok") and entry.get("key") == task.job.key
                and all(p.exists() for p in task.outputs(reports_dir).values()))


def interleave(todo: Sequence[Task], width: int,
               seconds: dict[str, float | None] | None = None) -> list[Task]:
    """The order tasks are handed out: districts in blocks of ``width`` (the number of
    workers), each block's tasks taken in turn from its districts, each district's longest
    first (``seconds``: the last time of a task, else a borough report counts 2, an area
    report 1). So the workers run different districts at once: what one district's reports
    share (its spend baseline, risk and evaluation results: computed by the first, read by
    the others from the shared memo) is not computed twice at the same time or waited for."""
    seconds = seconds or {}
    by_district: dict[str, list[Task]] = {}
    for t in todo:
        by_district.setdefault(t.district, []).append(t)

    def cost(t: Task) -> float:
        return seconds.get(t.id) or (2.0 if t.job.area == build_plan.BOROUGH else 1.0)

    queues = [sorted(ts, key=lambda t: -cost(t)) for ts in by_district.values()]
    out: list[Task] = []
    width = max(1, width)
    for i in range(0, len(queues), width):
        block = queues[i:i + width]
        for k in range(max(len(q) for q in block)):
            out += [q[k] for q in block if k < len(q)]
    return out
