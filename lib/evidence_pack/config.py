"""Project paths and defaults. Every path is relative to the project root.

The root is taken from ``EVIDENCE_PACK_ROOT`` when set, otherwise it is the folder
that holds ``pyproject.toml`` above this package (``lib/evidence_pack`` -> root).
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    env = os.environ.get("EVIDENCE_PACK_ROOT")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[2]


ROOT = project_root()
RAW_DIR = ROOT / "data" / "raw"
PROCESSED_DIR = ROOT / "data" / "processed"
AREAS_DIR = ROOT / "data" / "areas"
REPORTS_DIR = ROOT / "reports"
NOTEBOOKS_DIR = ROOT / "notebooks"
DOCS_DIR = ROOT / "docs"

#: Environment variable naming a local mirror directory laid out like MANIFEST.csv paths.
MIRROR_ENV = "EVIDENCE_PACK_MIRROR"

#: The embedded default: Rotherham Metropolitan Borough (ONS code, unchanged 2001-2024).
DEFAULT_LA_CODE = "E08000018"
DEFAULT_LA_NAME = "Rotherham"
DEFAULT_AREAS_FILE = AREAS_DIR / "rotherham.yml"

#: The ``area`` parameter (and the reports folder) of the whole-district reports.
BOROUGH = "borough"

#: Kernel name registered by the install step (python -m ipykernel install --sys-prefix).
KERNEL_NAME = "evidence-pack"

#: IoD releases on one footing, and the LSOA vintage each was published on.
RELEASE_VINTAGE: dict[int, int] = {2004: 2001, 2007: 2001, 2010: 2001, 2015: 2011, 2019: 2011, 2025: 2021}
RELEASES: tuple[int, ...] = tuple(RELEASE_VINTAGE)

#: Number of LSOAs in England for each vintage (ONS); row counts are checked against these.
ENGLAND_LSOAS: dict[int, int] = {2001: 32_482, 2011: 32_844, 2021: 33_755}

#: Counts below this are suppressed in published reports.
SMALL_COUNT_THRESHOLD = 5


def mirror_dir() -> Path | None:
    """The mirror directory from the environment, or None."""
    value = os.environ.get(MIRROR_ENV)
    return Path(value).resolve() if value else None
