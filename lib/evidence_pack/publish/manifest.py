"""The build's memory (``build/manifest.json``): per report its cache key, whether a PDF was
made, its time and key figures, and the cached file hashes; and the rule that says a report
on disk is up to date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evidence_pack.publish.jobs import Job
from evidence_pack.sources.io import write_text


def read_manifest(path: Path, entries: str = "jobs") -> dict[str, Any]:
    """``{entries: {id: entry}, "files": {path: [size, mtime_ns, sha256]}, "checked":
    {notebook: key}}`` (``entries`` is "jobs" for a district's build, "tasks" for a national
    batch; ``checked``: the notebooks whose parameters passed ``check_parameters``, by the key
    of what was checked); empty when the file is missing or unreadable (everything is then
    rebuilt and checked)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            return {entries: data.get(entries) or {}, "files": data.get("files") or {},
                    "checked": data.get("checked") or {}}
    except (OSError, ValueError):
        pass
    return {entries: {}, "files": {}, "checked": {}}


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    write_text(json.dumps(manifest, indent=1, sort_keys=True), path)


def is_current(job: Job, manifest: dict[str, Any], reports_dir: Path, pdf: bool) -> bool:
    """True when the report's last run had this key and its unit of outputs is whole: HTML and
    JSON exist; a PDF, when wanted, was made in that run and is not older than the HTML; a PDF
    on disk that the run did not make (stale) makes the report out of date."""
    entry = manifest["jobs"].get(job.id)
    if not (entry and entry.get("ok") and entry.get("key") == job.key):
        return False
    outs = job.outputs(reports_dir)
    if not (outs["html"].exists() and outs["json"].exists()):
        return False
    has_pdf = outs["pdf"].exists()
    if has_pdf and not entry.get("pdf"):
        return False
    if pdf:
        return has_pdf and outs["pdf"].stat().st_mtime_ns >= outs["html"].stat().st_mtime_ns
    return True
