"""The one hasher: sha256 of files and of JSON-able values, and a cache of file hashes keyed
by (size, mtime_ns) so that unchanged files are not read again (used by the catalogue's
checksums and by the build's cache keys)."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sha256_json(obj: Any) -> str:
    """Hex sha256 of a value as canonical JSON (sorted keys; other types as ``str``)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


class FileHasher:
    """sha256 of files under ``root``, cached by (size, mtime_ns); ``cache`` is a previous
    run's ``pruned_cache()`` (relative path -> [size, mtime_ns, sha256])."""

    def __init__(self, root: Path, cache: dict[str, list] | None = None):
        self.root = root
        self.cache: dict[str, list] = dict(cache or {})
        self.used: set[str] = set()
        self._globs: dict[tuple[str, ...], str] = {}

    def file(self, path: str | os.PathLike) -> str:
        full = (self.root / path).resolve()
        rel = str(full.relative_to(self.root)) if full.is_relative_to(self.root) else str(full)
        st = full.stat()
        self.used.add(rel)
        hit = self.cache.get(rel)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
        digest = sha256_file(full)
        self.cache[rel] = [st.st_size, st.st_mtime_ns, digest]
        return digest

    def globs(self, patterns: Iterable[str]) -> str:
        """One hash of every (non-hidden) file matching the patterns, by relative path; once
        per patterns in a hasher's life (a build's planning: the package code's hash is asked
        for by the plan and by the parameter check, a national batch's by every district)."""
        patterns = tuple(patterns)
        if patterns not in self._globs:
            self._globs[patterns] = self._hash_globs(patterns)
        return self._globs[patterns]

    def _hash_globs(self, patterns: tuple[str, ...]) -> str:
        files: set[str] = set()
        for pat in patterns:
            for p in glob.glob(str(self.root / pat), recursive=True):
                if os.path.isfile(p) and not os.path.basename(p).startswith("."):
                    files.add(p)
        return sha256_json({os.path.relpath(p, self.root): self.file(p) for p in sorted(files)})

    def pruned_cache(self) -> dict[str, list]:
        """The cache entries of the files hashed in this run (others are forgotten)."""
        return {k: v for k, v in self.cache.items() if k in self.used}
