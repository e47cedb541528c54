"""``evidence-pack build``: run every notebook for the borough and each area, render HTML and PDF,
and publish ``reports/index.html``.

What one build does:

1. **Plan.** Notebooks are ``notebooks/*.ipynb`` (``--notebooks`` to choose). Each has typed
   parameters ``area`` and ``areas_file`` plus those in ``notebooks/reports.yml`` (checked
   against the notebook's ``parameters`` cell with ``papermill.inspect_notebook``: an unknown
   name or a wrong type stops the build before anything runs). Areas come from the areas
   YAML (``--areas-file``; ``--only`` to choose; ``borough`` is the whole district).
2. **Cache.** Each run has a key: sha256 of the notebook, its parameters, the area's own
   definition (or the whole areas file for the borough run and for notebooks marked
   ``all_areas: true``), the package code, templates and caveats, and the processed data files
   it reads (``data:`` globs in reports.yml, default everything in ``data/processed``). File
   hashes are cached by (size, mtime) in ``build/manifest.json``, so a warm rebuild reads
   no data. A run whose key is unchanged and whose outputs exist is skipped.
3. **Run.** ``papermill.execute_notebook`` with the kernel ``config.KERNEL_NAME`` and the
   project root as working directory, in ``--jobs`` worker processes. Each worker keeps one
   warm kernel (heavy imports done once) and clears its namespace (``%reset -f``) between
   runs; kernel starts are serialised across workers with a lock (papermill issues 239/511:
   port races). Set ``EVIDENCE_PACK_RUNS_PER_KERNEL=1`` for a fresh kernel every run.
4. **Publish.** Only outputs made by ``evidence_pack.report`` are kept (others are dropped and
   counted). HTML via nbconvert (code hidden, no scripts, CSS inline, images as data URIs:
   no internet needed, checked), PDF via WeasyPrint from the same HTML (A4). The key figures
   recorded with ``report.summary`` go to ``<report>.json``. All three are written to temporary
   files and renamed only when every one succeeded; a failed run removes that report's old
   files, so nothing stale or half-written looks complete.
5. **Index.** ``reports/index.html`` links every report with a summary table. Failures are
   listed, named on stderr and make the exit status 1.

Outputs: ``reports/<area>/<notebook>.{html,pdf,json}``, ``reports/index.html``,
``build/executed/<area>/<notebook>.ipynb`` (executed notebooks), ``build/logs/`` (failures).
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures as cf
import contextlib
import datetime as dt
import glob
import hashlib
import html
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence_pack import config
from evidence_pack.analysis.areas import RESERVED_SLUGS, SLUG_RE
from evidence_pack.publish import notes
from evidence_pack.publish.report import PUBLISHED_KEY, SUMMARY_MIME
from evidence_pack.sources.io import DataError, atomic_path, read_yaml, write_text

TEMPLATES = Path(__file__).with_name("templates")
REPORTS_YML = "reports.yml"
#: Bump to invalidate every cached report (e.g. when the rendering changes shape).
CACHE_VERSION = "1"
#: Files every report depends on besides its notebook and data (relative to the root).
CODE_GLOBS = ("lib/evidence_pack/**/*.py", "lib/evidence_pack/publish/templates/*",
              "lib/evidence_pack/sources/catalogue.csv", "docs/caveats/*.md")
DEFAULT_DATA = ("data/processed/**/*",)
BOROUGH = "borough"
CELL_TIMEOUT_S = 1800

# Code run once in each new kernel. Nothing is pre-imported: whatever the first notebook
# imports stays loaded for the next runs in that kernel, which is where reuse saves time.
_WARMUP = """
import matplotlib
matplotlib.use("Agg")
"""
# Run before each notebook in a reused kernel: a clean namespace and default state.
_RESET = r"""
%reset -f
import os as _os, sys as _sys
_os.chdir({root!r})
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
    _sys.modules["matplotlib"].rcdefaults()
if "evidence_pack.publish.report" in _sys.modules:
    _sys.modules["evidence_pack.publish.report"]._summary.clear()
del _os, _sys
"""


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class ReportSpec:
    """One notebook and how it is run (from ``notebooks/reports.yml``)."""

    name: str
    path: Path
    title: str
    parameters: dict[str, Any]
    scope: str = "all"  # all | borough | areas
    data: tuple[str, ...] = DEFAULT_DATA
    all_areas: bool = False


@dataclass(frozen=True)
class AreaDef:
    slug: str
    name: str
    n_lsoas: int | None
    lsoa_vintage: int | None
    fingerprint: str  # hash of this area's YAML entry (+ the file header)


@dataclass
class Job:
    """One run: a notebook for one area."""

    notebook: str
    path: str
    area: str
    area_name: str
    parameters: dict[str, Any]
    key: str
    title: str

    @property
    def id(self) -> str:
        return f"{self.area}/{self.notebook}"

    def outputs(self, reports_dir: Path, pdf: bool) -> dict[str, Path]:
        base = reports_dir / self.area / self.notebook
        out = {"html": base.with_suffix(".html"), "json": base.with_suffix(".json")}
        if pdf:
            out["pdf"] = base.with_suffix(".pdf")
        return out


@dataclass
class Settings:
    root: str
    reports_dir: str
    build_dir: str
    pdf: bool = True
    kernel_name: str = config.KERNEL_NAME
    la_name: str = config.DEFAULT_LA_NAME
    runs_per_kernel: int = 0  # 0 = reuse the warm kernel for every run
    start_timeout: int = 120


@dataclass
class Result:
    job_id: str
    ok: bool
    seconds: float
    error: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    dropped_outputs: int = 0


#: Plain labels for the key figures notebooks record with ``report.summary`` (index page).
FIGURE_LABELS: dict[str, str] = {
    "area_decile1_latest": "LSOAs in England's most deprived 10% (latest release)",
    "baseline_year": "spend baseline year",
    "comparator_lsoas": "matched comparison LSOAs",
    "council_service_spend_gbp_m": "council service spend (GBP m)",
    "decile1_latest": "LSOAs in England's most deprived 10% (latest release)",
    "did_imd": "change vs comparators 2010-2025 (percentile points)",
    "did_imd_high": "upper 95% limit",
    "did_imd_low": "lower 95% limit",
    "district_rank_latest": "district rank of average score (latest)",
    "imd_mean_percentile": "average England percentile (0 = most deprived)",
    "imd_median_percentile": "median neighbourhood's England percentile (0 = most deprived)",
    "imd_share_decile1": "% of LSOAs in England's most deprived 10%",
    "latest_release": "latest IoD release",
    "modelled_estimate": "modelled estimate",
    "residents": "residents",
    "target_areas_spend_gbp_m": "modelled spend in the target area(s) (GBP m)",
    "target_lsoas": "target LSOAs",
    "top_driver": "domain driving the score most",
}


def figure_label(key: str) -> str:
    """The index label of a key figure: a plain label where known, else the key in words."""
    return FIGURE_LABELS.get(key, str(key).replace("_", " "))


def _first_heading(nb_path: Path) -> str | None:
    try:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            src = "".join(cell.get("source", []))
            m = re.search(r"^#\s+(.+)$", src, re.MULTILINE)
            if m:
                return m.group(1).strip()
    return None


def load_specs(notebooks_dir: Path, names: Sequence[str] | None = None) -> list[ReportSpec]:
    """Every notebook to run, in the order of reports.yml (then by name)."""
    cfg_path = notebooks_dir / REPORTS_YML
    cfg: dict[str, Any] = {}
    if cfg_path.exists():
        cfg = read_yaml(cfg_path, "report configuration") or {}
    per = cfg.get("notebooks") or {}
    defaults = cfg.get("defaults") or {}
    found = {p.stem: p for p in sorted(notebooks_dir.glob("*.ipynb"))}
    if names:
        wanted = [n.removesuffix(".ipynb") for n in names]
        unknown = [n for n in wanted if n not in found]
        if unknown:
            raise DataError(notebooks_dir, f"no notebook(s) {unknown}; have {sorted(found)}")
        found = {n: found[n] for n in wanted}
    order = [n for n in per if n in found] + [n for n in found if n not in per]
    specs = []
    for name in order:
        entry = {**defaults, **(per.get(name) or {})}
        scope = entry.get("scope", "all")
        if scope not in ("all", "borough", "areas"):
            raise DataError(cfg_path, f"{name}: scope must be all, borough or areas, not {scope!r}")
        params = dict(entry.get("parameters") or {})
        bad = {"area", "areas_file"} & set(params)
        if bad:
            raise DataError(cfg_path, f"{name}: {sorted(bad)} are set by the build, not reports.yml")
        specs.append(ReportSpec(
            name=name, path=found[name],
            title=str(entry.get("title") or _first_heading(found[name]) or name.replace("_", " ")),
            parameters=params, scope=scope,
            data=tuple(entry["data"] if entry.get("data") is not None else DEFAULT_DATA),
            all_areas=bool(entry.get("all_areas"))))
    return specs


def _sha(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def load_areas(areas_file: Path) -> tuple[str, list[AreaDef], str]:
    """(district name, areas, whole-file hash) from an areas YAML (see data/areas/*.yml)."""
    doc = read_yaml(areas_file, "areas file")
    if not isinstance(doc, dict) or not isinstance(doc.get("areas"), list):
        raise DataError(areas_file, "expected a mapping with an `areas:` list")
    header = {k: v for k, v in doc.items() if k != "areas"}
    out: list[AreaDef] = []
    seen: set[str] = set()
    for i, a in enumerate(doc["areas"], start=1):
        if not isinstance(a, dict) or not a.get("slug"):
            raise DataError(areas_file, "area without a slug", row=f"area {i}")
        slug = str(a["slug"])
        if slug in RESERVED_SLUGS or slug in seen or not SLUG_RE.fullmatch(slug):
            raise DataError(areas_file, f"bad or duplicate slug {slug!r}", row=f"area {i}")
        seen.add(slug)
        lsoas = a.get("lsoas")
        out.append(AreaDef(
            slug=slug, name=str(a.get("name") or slug),
            n_lsoas=len(lsoas) if isinstance(lsoas, list) else None,
            lsoa_vintage=a.get("lsoa_vintage"),
            fingerprint=_sha({"header": header, "area": a})))
    la_name = str(doc.get("la_name") or config.DEFAULT_LA_NAME)
    return la_name, out, hashlib.sha256(areas_file.read_bytes()).hexdigest()


class FileHasher:
    """sha256 of files, cached by (size, mtime_ns) so unchanged files are not read again."""

    def __init__(self, root: Path, cache: dict[str, list] | None = None):
        self.root = root
        self.cache: dict[str, list] = dict(cache or {})
        self.used: set[str] = set()

    def file(self, path: Path) -> str:
        full = (self.root / path).resolve()
        rel = str(full.relative_to(self.root)) if full.is_relative_to(self.root) else str(full)
        st = full.stat()
        self.used.add(rel)
        hit = self.cache.get(rel)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
        h = hashlib.sha256()
        with open(full, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        self.cache[rel] = [st.st_size, st.st_mtime_ns, h.hexdigest()]
        return h.hexdigest()

    def globs(self, patterns: Iterable[str]) -> str:
        files: set[str] = set()
        for pat in patterns:
            for p in glob.glob(str(self.root / pat), recursive=True):
                if os.path.isfile(p) and not os.path.basename(p).startswith("."):
                    files.add(p)
        return _sha({os.path.relpath(p, self.root): self.file(Path(p)) for p in sorted(files)})

    def pruned_cache(self) -> dict[str, list]:
        return {k: v for k, v in self.cache.items() if k in self.used}


def plan(specs: Sequence[ReportSpec], areas: Sequence[AreaDef], areas_file: Path,
         areas_hash: str, hasher: FileHasher, root: Path,
         code_globs: Sequence[str] = CODE_GLOBS) -> list[Job]:
    """Every (notebook, area) run with its cache key."""
    code = hasher.globs(code_globs)
    data_hash: dict[tuple[str, ...], str] = {}
    try:
        areas_param = str(areas_file.resolve().relative_to(root))
    except ValueError:
        areas_param = str(areas_file.resolve())
    jobs = []
    for spec in specs:
        nb_hash = hasher.file(spec.path)
        if spec.data not in data_hash:
            data_hash[spec.data] = hasher.globs(spec.data)
        targets: list[tuple[str, str, str]] = []
        if spec.scope in ("all", "borough"):
            targets.append((BOROUGH, "", areas_hash))
        if spec.scope in ("all", "areas"):
            targets += [(a.slug, a.name, areas_hash if spec.all_areas else a.fingerprint)
                        for a in areas]
        for slug, name, area_hash in targets:
            params = {"area": slug, "areas_file": areas_param, **spec.parameters}
            key = _sha({"v": CACHE_VERSION, "nb": nb_hash, "params": params, "area": area_hash,
                        "code": code, "data": data_hash[spec.data]})
            jobs.append(Job(notebook=spec.name, path=str(spec.path), area=slug,
                            area_name=name, parameters=params, key=key, title=spec.title))
    return jobs


_TYPES = {"int": int, "float": (int, float), "str": str, "bool": bool, "list": list,
          "dict": dict, "tuple": (list, tuple)}


def check_parameters(spec: ReportSpec) -> None:
    """DataError when reports.yml sets a parameter the notebook lacks or with the wrong type."""
    import nbformat
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


# --------------------------------------------------------------------------- manifest


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return {"jobs": data.get("jobs") or {}, "files": data.get("files") or {}}
    except (OSError, ValueError):
        pass
    return {"jobs": {}, "files": {}}


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    write_text(json.dumps(manifest, indent=1, sort_keys=True), path)


def is_current(job: Job, manifest: dict[str, Any], reports_dir: Path, pdf: bool) -> bool:
    entry = manifest["jobs"].get(job.id)
    return bool(entry and entry.get("ok") and entry.get("key") == job.key
                and all(p.exists() for p in job.outputs(reports_dir, pdf).values()))


# --------------------------------------------------------------------------- worker side

_W: dict[str, Any] = {}


def _init_worker(lock: Any, settings: Settings) -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    _W.clear()
    _W.update(lock=lock, settings=settings, km=None, kc=None, runs=0, clients=[])
    import multiprocessing.util
    import threading

    multiprocessing.util.Finalize(None, _stop_kernel, exitpriority=10)
    # Import papermill while the first kernel starts (another process).
    _W["prewarm"] = threading.Thread(target=_prewarm, daemon=True)
    _W["prewarm"].start()


def _prewarm() -> None:
    with contextlib.suppress(Exception):
        import papermill  # noqa: F401


def _wait_prewarm() -> None:
    t = _W.pop("prewarm", None)
    if t is not None:
        t.join()


def _stop_kernel() -> None:
    km, kc = _W.get("km"), _W.get("kc")
    for c in [kc, *_W.get("clients", [])]:
        with contextlib.suppress(Exception):
            c.stop_channels()
    if km is not None:
        with contextlib.suppress(Exception):
            km.shutdown_kernel(now=True)
    _W.update(km=None, kc=None, runs=0, clients=[])


def _fresh_session(km: Any) -> Any:
    from jupyter_client.session import Session

    return Session(key=km.session.key, signature_scheme=km.session.signature_scheme,
                   username="evidence-pack")


def _start_kernel() -> None:
    from jupyter_client.manager import KernelManager

    s: Settings = _W["settings"]
    lock = _W.get("lock") or contextlib.nullcontext()
    last: Exception | None = None
    for _attempt in range(3):
        with lock:  # one kernel start at a time across workers (port races)
            km = KernelManager(kernel_name=s.kernel_name)
            try:
                log_dir = Path(s.build_dir) / "logs"
                log_dir.mkdir(parents=True, exist_ok=True)
                err = open(log_dir / f"kernel-{os.getpid()}.log", "ab")  # noqa: SIM115
                km.start_kernel(cwd=s.root, stdout=err, stderr=err,
                                env={**os.environ, "MPLBACKEND": "Agg",
                                     "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
                kc = km.client(session=_fresh_session(km))
                kc.start_channels()
                kc.wait_for_ready(timeout=s.start_timeout)
            except Exception as exc:  # port clash or slow start: retry with a new kernel
                last = exc
                with contextlib.suppress(Exception):
                    km.shutdown_kernel(now=True)
                continue
        reply = kc.execute_interactive(_WARMUP, timeout=s.start_timeout, store_history=False,
                                       output_hook=lambda msg: None)
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"kernel warm-up failed: {reply['content'].get('evalue')}")
        orig_client = km.client

        def client(orig_client: Any = orig_client, km: Any = km, **kw: Any) -> Any:
            # A session of its own (a zmq identity of its own: replies never go astray),
            # remembered so that it is closed after the run.
            c = orig_client(**{"session": _fresh_session(km), **kw})
            _W["clients"].append(c)
            return c

        km.client = client  # type: ignore[method-assign]
        _W.update(km=km, kc=kc, runs=0, clients=[])
        return
    raise RuntimeError(f"could not start kernel {s.kernel_name!r}: {last}")


def _kernel_for_run() -> Any:
    s: Settings = _W["settings"]
    km = _W.get("km")
    if km is not None and (not km.is_alive() or (s.runs_per_kernel and _W["runs"] >= s.runs_per_kernel)):
        _stop_kernel()
    if _W.get("km") is None:
        _start_kernel()
    else:
        reply = _W["kc"].execute_interactive(_RESET.format(root=s.root), timeout=60,
                                             store_history=False, output_hook=lambda msg: None)
        if reply["content"].get("status") != "ok":
            _stop_kernel()
            _start_kernel()
    _W["runs"] += 1
    return _W["km"]


def _execute(job: Job) -> Any:
    import nbformat
    import papermill

    s: Settings = _W["settings"]
    nb = nbformat.read(job.path, as_version=4)
    nb.metadata["kernelspec"] = {"name": s.kernel_name, "language": "python",
                                 "display_name": s.kernel_name}
    nb.metadata.setdefault("language_info", {"name": "python"})
    km = _kernel_for_run()
    try:
        return papermill.execute_notebook(
            nb, None, parameters=job.parameters, kernel_name=s.kernel_name, km=km,
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            start_timeout=s.start_timeout, execution_timeout=CELL_TIMEOUT_S, cwd=s.root)
    finally:
        for c in _W["clients"]:
            with contextlib.suppress(Exception):
                c.stop_channels()
        _W["clients"] = []


def published(nb: Any) -> tuple[Any, dict[str, Any], int]:
    """(notebook with only report outputs, key figures, number of outputs dropped)."""

    summary: dict[str, Any] = {}
    dropped = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        keep = []
        for out in cell.get("outputs", []):
            data = out.get("data") or {}
            if SUMMARY_MIME in data:
                summary = dict(data[SUMMARY_MIME])
            elif out.get("output_type") == "display_data" and out.get("metadata", {}).get(PUBLISHED_KEY):
                keep.append(out)
            else:
                dropped += 1
        cell.outputs = keep
    return nb, summary, dropped


_EXTERNAL = re.compile(
    r"<(?:script|link|iframe|img|source|video|audio|embed|object)\b[^>]*\b(?:src|href|data)\s*=\s*"
    r"[\"']?(?:https?:)?//|@import\s+(?:url\()?[\"']?(?:https?:)?//|url\(\s*[\"']?(?:https?:)?//",
    re.IGNORECASE)


def check_self_contained(text: str) -> None:
    """ValueError if the HTML would fetch anything from the network (scripts, CSS, images)."""
    m = _EXTERNAL.search(text)
    if m:
        raise ValueError(f"report is not self-contained: {text[m.start():m.start() + 120]!r}")
    if re.search(r"<script\b", text, re.IGNORECASE):
        raise ValueError("report contains a <script>: reports must not need JavaScript")


def _exporter() -> Any:
    if "exporter" not in _W:
        from nbconvert import HTMLExporter

        _W["exporter"] = HTMLExporter(
            template_name="lab", extra_template_paths=[str(TEMPLATES)],
            template_file="report.html.j2", exclude_input=True, exclude_input_prompt=True,
            exclude_output_prompt=True, anchor_link_text="")
    return _W["exporter"]


def render_html(nb: Any, job: Job, settings: Settings) -> str:
    """The self-contained report page for an executed, filtered notebook."""
    area_name = job.area_name or f"{settings.la_name} (whole borough)"
    resources = {"ep": {
        "title": f"{job.title}: {area_name}",
        "css": (TEMPLATES / "report.css").read_text(encoding="utf-8"),
        "area_name": area_name,
        "built": dt.date.today().isoformat(),
        "footer": (f"{job.title}: {area_name}. Deprived-areas evidence pack for "
                   f"{settings.la_name}. Every table and chart names its source; counts below "
                   f"{config.SMALL_COUNT_THRESHOLD} are suppressed."),
    }}
    _wait_prewarm()
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    body = notes.finish(body, titles=(job.title, resources["ep"]["title"]))
    check_self_contained(body)
    return body


def render_pdf(html_text: str, target: Path, base_dir: Path) -> None:
    import logging

    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    weasyprint.HTML(string=html_text, base_url=str(base_dir)).write_pdf(str(target))


def _describe_error(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename:  # papermill.PapermillExecutionError
        return f"cell {getattr(exc, 'exec_count', '?')}: {ename}: {getattr(exc, 'evalue', '')}"
    return f"{type(exc).__name__}: {exc}"


def _fail(job: Job, settings: Settings, exc: BaseException, t0: float) -> Result:
    """Remove the run's old outputs (nothing stale looks complete), log, and report."""
    for p in job.outputs(Path(settings.reports_dir), settings.pdf).values():
        with contextlib.suppress(OSError):
            p.unlink()
    log = Path(settings.build_dir) / "logs" / f"{job.area}__{job.notebook}.log"
    with contextlib.suppress(OSError):
        write_text("".join(traceback.format_exception(exc)), log)
    if isinstance(exc, KeyboardInterrupt):
        raise exc
    return Result(job.id, False, time.perf_counter() - t0, error=_describe_error(exc))


def _executed_path(job: Job, settings: Settings) -> Path:
    return Path(settings.build_dir) / "executed" / job.area / f"{job.notebook}.ipynb"


def execute_job(job: Job) -> Result:
    """Run the notebook (in a worker) and save the executed copy; never raises."""
    import nbformat

    s: Settings = _W["settings"]
    t0 = time.perf_counter()
    try:
        try:
            nb = _execute(job)
        except Exception:
            _stop_kernel()  # a failed run may leave the kernel in any state
            raise
        with atomic_path(_executed_path(job, s)) as tmp:
            nbformat.write(nb, str(tmp))
        return Result(job.id, True, time.perf_counter() - t0)
    except BaseException as exc:  # noqa: BLE001 - every failure is reported, none is fatal
        return _fail(job, s, exc, t0)


def publish_job(job: Job, settings: Settings, executed: Result) -> Result:
    """Render an executed run to HTML, PDF and JSON, all renamed into place together."""
    import nbformat

    s = settings
    t0 = time.perf_counter() - executed.seconds
    outs = job.outputs(Path(s.reports_dir), s.pdf)
    try:
        nb = nbformat.read(str(_executed_path(job, s)), as_version=4)
        nb, summary, dropped = published(nb)
        summary = {**summary, "slug": job.area, "notebook": job.notebook, "title": job.title}
        page = render_html(nb, job, s)
        with contextlib.ExitStack() as stack:  # renamed in reverse order: HTML last
            html_tmp = stack.enter_context(atomic_path(outs["html"]))
            json_tmp = stack.enter_context(atomic_path(outs["json"]))
            if s.pdf:
                pdf_tmp = stack.enter_context(atomic_path(outs["pdf"]))
                render_pdf(page, pdf_tmp, outs["html"].parent)
            json_tmp.write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
            html_tmp.write_text(page, encoding="utf-8")
            for tmp in stack_tmps(html_tmp, json_tmp, pdf_tmp if s.pdf else None):
                _publishable(tmp)
        with contextlib.suppress(OSError):
            (Path(s.build_dir) / "logs" / f"{job.area}__{job.notebook}.log").unlink()
        return Result(job.id, True, time.perf_counter() - t0, summary=summary,
                      dropped_outputs=dropped)
    except BaseException as exc:  # noqa: BLE001
        return _fail(job, s, exc, t0)


def run_job(job: Job) -> Result:
    """Execute and publish one run in this process; never raises, returns a Result."""
    res = execute_job(job)
    return publish_job(job, _W["settings"], res) if res.ok else res


def stack_tmps(*paths: Path | None) -> list[Path]:
    return [p for p in paths if p is not None]


def _publishable(path: Path) -> Path:
    """Give a temporary file the usual permissions (mkstemp makes it private) before rename."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)
    return path


def _render_prewarm() -> None:
    with contextlib.suppress(Exception):
        import weasyprint  # noqa: F401

        _exporter()


def _worker_execute(job: Job) -> Result:
    return execute_job(job)


# --------------------------------------------------------------------------- index


def write_index(reports_dir: Path, specs: Sequence[ReportSpec], areas: Sequence[AreaDef],
                jobs: Sequence[Job], manifest: dict[str, Any], la_name: str, pdf: bool,
                failures: dict[str, str]) -> Path:
    """``reports/index.html``: every report (HTML and PDF links) and key figures per area."""
    e = html.escape
    by_id = {j.id: j for j in jobs}
    rows = [(BOROUGH, f"{la_name} (whole borough)", None)] + [(a.slug, a.name, a.n_lsoas) for a in areas]
    rows = [r for r in rows if any(f"{r[0]}/{s.name}" in by_id for s in specs)]
    head = "".join(f'<th scope="col">{e(s.title)}</th>' for s in specs)
    body = []
    borough_figures: dict[str, Any] = {}
    for slug, name, n in rows:
        cells = []
        figures: dict[str, Any] = {}
        headline = ""
        for s in specs:
            jid = f"{slug}/{s.name}"
            job = by_id.get(jid)
            if job is None:
                cells.append("<td>–</td>")
                continue
            outs = job.outputs(reports_dir, pdf)
            if jid in failures:
                cells.append(f'<td class="fail">failed: {e(failures[jid])}</td>')
                continue
            if not outs["html"].exists():
                cells.append("<td>not built</td>")
                continue
            links = [f'<a href="{e(outs["html"].relative_to(reports_dir).as_posix())}">HTML</a>']
            pdf_path = reports_dir / slug / f"{s.name}.pdf"
            if pdf_path.exists():
                links.append(f'<a href="{e(pdf_path.relative_to(reports_dir).as_posix())}">PDF</a>')
            cells.append(f"<td>{' · '.join(links)}</td>")
            summ = (manifest["jobs"].get(jid) or {}).get("summary") or {}
            for k, v in summ.items():
                if k in ("area", "slug", "notebook", "title"):
                    continue
                if k == "key_findings":
                    headline = headline or (v[0] if v else "")
                else:
                    figures.setdefault(k, v)
        if slug == BOROUGH:
            borough_figures = dict(figures)
        else:  # district-wide figures repeated in an area's report are shown once, for the borough
            figures = {k: v for k, v in figures.items() if borough_figures.get(k, object()) != v}
        lsoas = figures.pop("lsoas", n)
        fig_html = "".join(f"<li>{e(figure_label(k))}: {e(_fmt(v))}</li>"
                           for k, v in list(figures.items())[:6])
        body.append(
            f'<tr><th scope="row">{e(name)}</th><td class="num">{e(_fmt(lsoas))}</td>'
            + "".join(cells)
            + f"<td>{e(headline)}{'<ul>' + fig_html + '</ul>' if fig_html else ''}</td></tr>")
    n_ok = sum(1 for j in jobs if j.id not in failures and j.outputs(reports_dir, pdf)["html"].exists())
    fail_html = ""
    if failures:
        fail_html = ('<h2>Reports that failed</h2><ul class="fail">'
                     + "".join(f"<li>{e(k)}: {e(v)}</li>" for k, v in sorted(failures.items()))
                     + "</ul>")
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    page = f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{e(la_name)} deprived-areas evidence pack</title>
<style>{css}</style></head>
<body class="ep-index-page"><header class="ep-header"><p class="ep-breadcrumb">Evidence pack index</p></header>
<main>
<h1>{e(la_name)}: deprived-areas evidence pack</h1>
<p>{n_ok} of {len(jobs)} reports built on {e(dt.date.today().isoformat())}: the whole borough and
each target area, one report per notebook, as a web page and a printable PDF. Every table and
chart names its source, release and publication date; counts below
{config.SMALL_COUNT_THRESHOLD} are suppressed.</p>
{fail_html}
<table class="ep-index"><caption>Reports by area</caption>
<thead><tr><th scope="col">Area</th><th scope="col">LSOAs</th>{head}
<th scope="col">Headline and key figures</th></tr></thead>
<tbody>{''.join(body)}</tbody></table>
</main>
<footer class="ep-footer"><p>Built by evidence-pack from public data (Open Government Licence
v3.0). Area definitions: the areas file used for this build.</p></footer>
</body></html>
"""
    check_self_contained(page)
    target = reports_dir / "index.html"
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
        _publishable(tmp)
    return target


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int):
        return f"{v:,}" if abs(v) >= 10_000 else str(v)  # no separator in years
    if isinstance(v, float):
        return f"{v:,.1f}"
    return str(v)


# --------------------------------------------------------------------------- driver


@dataclass
class BuildReport:
    planned: int
    skipped: int
    ran: int
    failures: dict[str, str]
    seconds: float
    index: Path | None
    results: list[Result] = field(default_factory=list)


def build(areas_file: Path | str = config.DEFAULT_AREAS_FILE, only: Sequence[str] | None = None,
          notebooks: Sequence[str] | None = None, jobs: int = 2, pdf: bool = True,
          force: bool = False, notebooks_dir: Path | None = None, reports_dir: Path | None = None,
          build_dir: Path | None = None, root: Path | None = None, progress: bool = True,
          kernel_name: str = config.KERNEL_NAME,
          code_globs: Sequence[str] = CODE_GLOBS) -> BuildReport:
    """Plan, run what changed, publish; see the module docstring. Never raises for a failed run."""
    t0 = time.perf_counter()
    root = (root or config.ROOT).resolve()
    notebooks_dir = notebooks_dir or config.NOTEBOOKS_DIR
    reports_dir = reports_dir or config.REPORTS_DIR
    build_dir = build_dir or (root / "build")
    areas_file = Path(areas_file)
    if not areas_file.is_absolute():
        areas_file = root / areas_file
    manifest_path = build_dir / "manifest.json"

    specs = load_specs(notebooks_dir, notebooks)
    if not specs:
        raise DataError(notebooks_dir, "no notebooks to build")
    la_name, areas, areas_hash = load_areas(areas_file)
    if only:
        known = {BOROUGH, *(a.slug for a in areas)}
        unknown = [o for o in only if o not in known]
        if unknown:
            raise DataError(areas_file, f"unknown area(s) {unknown}; have {sorted(known)}")
    manifest = _read_manifest(manifest_path)
    hasher = FileHasher(root, manifest["files"])
    all_jobs = plan(specs, areas, areas_file, areas_hash, hasher, root, code_globs)
    chosen = [j for j in all_jobs if not only or j.area in only]
    todo = [j for j in chosen if force or not is_current(j, manifest, reports_dir, pdf)]
    for spec in {s.name: s for s in specs if any(j.notebook == s.name for j in todo)}.values():
        check_parameters(spec)
    # Longest first (last build's times; borough runs are the heaviest when there are none),
    # so that the workers finish together.
    last = {j.id: (manifest["jobs"].get(j.id) or {}).get("seconds") for j in todo}
    todo.sort(key=lambda j: -(last[j.id] or (2.0 if j.area == BOROUGH else 1.0)))
    for j in todo:  # a run in progress or interrupted is never listed as built
        manifest["jobs"].pop(j.id, None)
    manifest["files"] = hasher.pruned_cache()
    _write_manifest(manifest_path, manifest)

    settings = Settings(root=str(root), reports_dir=str(reports_dir), build_dir=str(build_dir),
                        pdf=pdf, kernel_name=kernel_name, la_name=la_name,
                        runs_per_kernel=int(os.environ.get("EVIDENCE_PACK_RUNS_PER_KERNEL", "0")))
    failures: dict[str, str] = {j.id: (manifest["jobs"].get(j.id) or {}).get("error", "")
                                for j in all_jobs if (manifest["jobs"].get(j.id) or {}).get("ok") is False
                                and j not in todo}
    results: list[Result] = []

    def record(res: Result, job: Job) -> None:
        results.append(res)
        entry = {"ok": res.ok, "key": job.key, "seconds": round(res.seconds, 2),
                 "summary": res.summary, "dropped_outputs": res.dropped_outputs}
        if res.ok:
            failures.pop(job.id, None)
        else:
            entry["error"] = res.error
            failures[job.id] = res.error
        manifest["jobs"][job.id] = entry
        _write_manifest(manifest_path, manifest)

    if todo:
        _run_all(todo, settings, jobs, progress, record)
    index = write_index(reports_dir, specs, areas, all_jobs, manifest, la_name, pdf, failures)
    return BuildReport(planned=len(chosen), skipped=len(chosen) - len(todo), ran=len(todo),
                       failures=dict(sorted(failures.items())), seconds=time.perf_counter() - t0,
                       index=index, results=results)


def _run_all(todo: Sequence[Job], settings: Settings, jobs: int, progress: bool, record: Any) -> None:
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc="reports", unit="report", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    try:
        if jobs <= 1 or len(todo) == 1:
            _init_worker(None, settings)
            try:
                for job in todo:
                    bar.set_postfix_str(job.id)
                    record(run_job(job), job)
                    bar.update()
            finally:
                _stop_kernel()
            return
        import multiprocessing as mp

        # Pipeline: the workers' kernels execute notebooks while this process renders the
        # runs already executed (HTML, PDF) in one thread, so rendering overlaps execution.
        _W["settings"] = settings
        ctx = mp.get_context("spawn")
        lock = ctx.Lock()
        with cf.ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx,
                                    initializer=_init_worker, initargs=(lock, settings)) as pool, \
                cf.ThreadPoolExecutor(max_workers=1) as renderer:
            renderer.submit(_render_prewarm)
            running = {pool.submit(_worker_execute, job): ("exec", job) for job in todo}
            while running:
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    stage, job = running.pop(fut)
                    try:
                        res = fut.result()
                    except Exception as exc:  # the worker process died
                        res = Result(job.id, False, 0.0,
                                     error=f"worker crashed: {_describe_error(exc)}")
                    if stage == "exec" and res.ok:
                        running[renderer.submit(publish_job, job, settings, res)] = ("publish", job)
                        continue
                    record(res, job)
                    bar.set_postfix_str(job.id)
                    bar.update()
    finally:
        bar.close()


def main(args: argparse.Namespace) -> int:
    """CLI entry (``evidence-pack build``): exit 0 when every report was built, else 1."""
    try:
        rep = build(areas_file=args.areas_file, only=args.only, notebooks=args.notebooks,
                    jobs=args.jobs, pdf=not args.no_pdf, force=args.force)
    except DataError as exc:
        print(f"build: {exc}", file=sys.stderr)
        return 2
    print(f"build: {rep.planned} report(s), {rep.ran} run, {rep.skipped} up to date; "
          f"index {rep.index.relative_to(config.ROOT) if rep.index else '-'}")
    dropped = sum(r.dropped_outputs for r in rep.results)
    if dropped:
        print(f"build: {dropped} output(s) not made by evidence_pack.publish.report were left out "
              "of the reports", file=sys.stderr)
    if rep.failures:
        print(f"build: {len(rep.failures)} report(s) failed:", file=sys.stderr)
        for jid, err in rep.failures.items():
            print(f"  {jid}: {err}", file=sys.stderr)
        return 1
    return 0
