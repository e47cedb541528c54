"""The data catalogue and the verified downloader.

``catalogue.csv`` (beside this module) lists every public file the pack uses: an id,
its public URL, sha256, size, licence and attribution, and the reader that opens it.
``fetch`` puts each file in ``data/raw/<path>``: from a mirror directory when one is
given (``--mirror`` or ``EVIDENCE_PACK_MIRROR``), otherwise from its public URL. Every
file is written to a temporary name, checked against its sha256, and only then renamed
into place; a file whose checksum differs is never used.
"""

from __future__ import annotations

import csv
import hashlib
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from evidence_pack import config
from evidence_pack.sources.hashing import CHUNK, sha256_file
from evidence_pack.sources.io import DataError, atomic_path

CATALOGUE_FILE = Path(__file__).with_name("catalogue.csv")
#: Seconds to wait for the first connection before concluding there is no network.
PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Entry:
    """One public file in the catalogue."""

    id: str
    group: str
    path: str  # relative path under data/raw/ (and under a mirror directory)
    url: str
    sha256: str
    bytes: int
    reader: str
    licence: str
    attribution: str
    description: str

    def raw_path(self, raw_dir: Path | None = None) -> Path:
        return (raw_dir or config.RAW_DIR) / self.path


#: Sources the pack can use but which are not in the mirror and not fetched by default.
#: Users who can download them place the file at data/raw/<path>; the pack then uses it.
OPTIONAL_SOURCES: dict[str, dict[str, str]] = {
    "dft_jts0501_lsoa": {
        "path": "dft-journey-time-statistics/jts0501.ods",
        "url": "https://www.gov.uk/government/statistical-data-sets/journey-time-statistics-data-tables-jts",
        "licence": "OGL-3.0",
        "attribution": "Department for Transport, Journey Time Statistics (JTS0501: travel time to employment centres by LSOA), Open Government Licence v3.0.",
        "description": "Travel time by public transport/walk to employment centres with 100-499, 500-4999 and 5000+ jobs, by LSOA. Not in the default run: the pack uses proxies for access to lower-skilled jobs.",
    },
}


class FetchError(RuntimeError):
    """Files could not be supplied. The message lists them and how to supply them."""


class UnknownId(DataError, KeyError):
    """A dataset id or group that is not in the catalogue (the message names the closest)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return DataError.__str__(self)


@lru_cache(maxsize=1)
def load_catalogue(path: str | None = None) -> dict[str, Entry]:
    """All catalogue entries by id. Raises DataError on a malformed catalogue row."""
    source = Path(path) if path else CATALOGUE_FILE
    entries: dict[str, Entry] = {}
    with open(source, newline="", encoding="utf-8") as fh:
        for lineno, row in enumerate(csv.DictReader(fh), start=2):
            try:
                entry = Entry(**{**row, "bytes": int(row["bytes"])})
            except (TypeError, ValueError) as exc:
                raise DataError(source, f"malformed catalogue entry ({exc})", row=lineno) from exc
            if len(entry.sha256) != 64:
                raise DataError(source, f"sha256 of {entry.id!r} is not 64 hex digits", row=lineno)
            if entry.id in entries:
                raise DataError(source, f"duplicate id {entry.id!r}", row=lineno)
            entries[entry.id] = entry
    return entries


def entry(dataset_id: str) -> Entry:
    """The catalogue entry for ``dataset_id``; KeyError with the closest ids otherwise."""
    cat = load_catalogue()
    try:
        return cat[dataset_id]
    except KeyError:
        close = [k for k in cat if dataset_id.split("_")[0] in k][:5]
        hint = f"similar: {', '.join(close)}" if close else "see the id column of the catalogue"
        raise UnknownId(CATALOGUE_FILE, f"no dataset {dataset_id!r} in the catalogue ({hint})",
                        row=None) from None


def select(ids: Iterable[str] | None = None, groups: Iterable[str] | None = None) -> list[Entry]:
    """Entries by id and/or group; all entries when both are None."""
    cat = load_catalogue()
    if ids is None and groups is None:
        return list(cat.values())
    chosen: dict[str, Entry] = {}
    for i in ids or []:
        chosen[i] = entry(i)
    for g in groups or []:
        members = [e for e in cat.values() if e.group == g]
        if not members:
            groups_known = sorted({e.group for e in cat.values()})
            raise UnknownId(CATALOGUE_FILE, f"no group {g!r} in the catalogue; groups: "
                                            f"{', '.join(groups_known)}")
        chosen.update({e.id: e for e in members})
    return list(chosen.values())


_verified: dict[tuple[str, int, int], bool] = {}


def is_valid(e: Entry, raw_dir: Path | None = None) -> bool:
    """True when the raw file exists and matches its sha256 (memoised on size and mtime)."""
    p = e.raw_path(raw_dir)
    try:
        st = p.stat()
    except FileNotFoundError:
        return False
    key = (str(p), st.st_size, st.st_mtime_ns)
    if key not in _verified:
        _verified[key] = st.st_size == e.bytes and sha256_file(p) == e.sha256
    return _verified[key]


def path_for(dataset_id: str, raw_dir: Path | None = None) -> Path:
    """The verified local path of a dataset. Raises FetchError if absent or altered."""
    e = entry(dataset_id)
    p = e.raw_path(raw_dir)
    if not p.exists():
        raise FetchError(
            f"{p} is missing: run `evidence-pack fetch` (offline: `evidence-pack fetch --mirror DIR` "
            f"or set {config.MIRROR_ENV})."
        )
    if not is_valid(e, raw_dir):
        raise FetchError(
            f"{p} does not match its sha256 {e.sha256[:12]}... (altered or truncated): it will not "
            "be used. Delete it and run `evidence-pack fetch` again."
        )
    return p


def _copy_verified(src_open, e: Entry, dest: Path, progress=None) -> None:
    """Stream from ``src_open()`` to a temp file beside ``dest``, verify, then rename."""
    h = hashlib.sha256()
    with atomic_path(dest) as tmp:
        with src_open() as src, open(tmp, "wb") as out:
            while chunk := src.read(CHUNK):
                h.update(chunk)
                out.write(chunk)
                if progress is not None:
                    progress.update(len(chunk))
        if h.hexdigest() != e.sha256:
            raise DataError(dest, f"sha256 mismatch for {e.id}: got {h.hexdigest()[:12]}..., "
                                  f"expected {e.sha256[:12]}...; file discarded")


def _offline(exc: BaseException) -> bool:
    """True when a download failed for want of a network (not an HTTP error from a server)."""
    if isinstance(exc, urllib.error.HTTPError):
        return False
    reason = getattr(exc, "reason", exc)
    return isinstance(reason, OSError | TimeoutError | socket.timeout) or isinstance(exc, OSError)


def fetch(
    entries: list[Entry] | None = None,
    raw_dir: Path | None = None,
    mirror: Path | None = None,
    allow_network: bool = True,
    progress: bool = True,
    timeout: float = 30.0,
) -> dict[str, str]:
    """Make every entry present and verified in ``raw_dir``.

    Order of sources for each file: already valid locally -> the mirror directory (if
    given) -> the public URL (if ``allow_network``). Returns {id: how} where how is
    'present', 'mirror' or 'download'. The first download that fails for want of a network
    (the first try waits at most ``PROBE_TIMEOUT_S``) stops every further download. Raises
    FetchError (at most 9 lines: what failed, the first few files, how to use a mirror);
    valid files already fetched are kept.
    """
    from tqdm.auto import tqdm

    raw_dir = raw_dir or config.RAW_DIR
    mirror = mirror if mirror is not None else config.mirror_dir()
    entries = entries if entries is not None else select()
    todo = [e for e in entries if not is_valid(e, raw_dir)]
    result = {e.id: "present" for e in entries if e not in todo}
    failures: list[tuple[Entry, str]] = []
    no_network = "" if allow_network else "network not allowed (--offline)"
    tried = False
    bar = tqdm(total=sum(e.bytes for e in todo), unit="B", unit_scale=True,
               desc="fetch", disable=not progress or not todo)
    for e in todo:
        dest = e.raw_path(raw_dir)
        reasons = []
        if mirror is not None:
            src = mirror / e.path
            if src.exists():
                try:
                    _copy_verified(lambda src=src: open(src, "rb"), e, dest, bar)
                    result[e.id] = "mirror"
                    continue
                except DataError as exc:
                    reasons.append(f"mirror copy rejected ({exc.problem})")
            else:
                reasons.append(f"not in mirror {mirror}")
        if not no_network:
            wait = timeout if tried else min(timeout, PROBE_TIMEOUT_S)
            tried = True
            try:
                _copy_verified(lambda e=e, wait=wait: urllib.request.urlopen(e.url, timeout=wait),
                               e, dest, bar)
                result[e.id] = "download"
                continue
            except DataError as exc:
                reasons.append(f"download rejected ({exc.problem})")
            except (urllib.error.URLError, OSError, TimeoutError) as exc:
                if _offline(exc):
                    host = urllib.parse.urlsplit(e.url).hostname or e.url
                    no_network = (f"no network: could not reach {host} "
                                  f"({getattr(exc, 'reason', exc)})")
                reasons.append(f"download failed ({getattr(exc, 'reason', exc)})")
        skipped = "not downloaded (--offline)" if not allow_network else "not downloaded (no network)"
        failures.append((e, "; ".join(reasons) or skipped))
    bar.close()
    if failures:
        raise FetchError(_failure_message(failures, len(entries), no_network, raw_dir))
    return result


def _failure_message(failures: list[tuple[Entry, str]], n_entries: int, no_network: str,
                     raw_dir: Path) -> str:
    """At most 8 lines: the cause and what to do first, then a few of the files."""
    lines = []
    if no_network:
        lines.append(f"{no_network[0].upper()}{no_network[1:]}.")
    lines.append(
        f"To use a mirror: `evidence-pack fetch --mirror DIR` or set {config.MIRROR_ENV}=DIR, "
        "where DIR holds the files at the catalogue's paths (e.g. ../shared/mirror); "
        "or download each URL in the catalogue to data/raw/<path>.")
    lines.append(f"{len(failures)} of {n_entries} data file(s) could not be supplied to {raw_dir}:")
    for e, why in failures[:4]:
        lines.append(f"  - {e.id} ({e.path}): {why}")
    if len(failures) > 4:
        lines.append(f"  ... and {len(failures) - 4} more")
    return "\n".join(lines)


def verify(raw_dir: Path | None = None) -> list[str]:
    """Ids of catalogue entries that are missing or fail their checksum."""
    return [e.id for e in select() if not is_valid(e, raw_dir)]


def attribution(dataset_ids: Iterable[str]) -> str:
    """De-duplicated attribution text for a set of datasets, for report source lines."""
    seen: list[str] = []
    for i in dataset_ids:
        a = entry(i).attribution
        if a not in seen:
            seen.append(a)
    return " ".join(seen)


def optional_path(source_id: str, raw_dir: Path | None = None) -> Path | None:
    """Local path of an optional (non-mirrored) source if the user supplied it, else None."""
    spec = OPTIONAL_SOURCES[source_id]
    p = (raw_dir or config.RAW_DIR) / spec["path"]
    return p if p.exists() else None
