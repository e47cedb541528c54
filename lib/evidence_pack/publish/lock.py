"""One build at a time in a project folder: ``build/build.lock`` holds the holder's PID (and
its start time, so a reused PID is not mistaken for the holder). A second build stops with one
line; a lock left by a process that has died is taken over."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


class BuildLocked(RuntimeError):
    """Another live build holds the lock (the message names it and what to do)."""


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ('' where /proc is not there)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


def _alive(pid: int, started: str) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not started or not _start_time(pid) or _start_time(pid) == started


class BuildLock:
    """Context manager holding ``path`` for this process."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.token = f"{os.getpid()} {_start_time(os.getpid())}".strip()
        self.took_over: int | None = None

    def acquire(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is None:
                    continue  # released meanwhile: try again
                pid, started = holder
                if pid != os.getpid() and _alive(pid, started):
                    raise BuildLocked(
                        f"{self.path}: another build (PID {pid}) is running in this folder; "
                        f"wait for it to finish, or stop it (kill {pid}) and build again") from None
                self.took_over = pid  # stale: its process is gone
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(self.token + "\n")
            return self
        raise BuildLocked(f"{self.path}: could not take the build lock; remove the file if no "
                          "build is running")

    def _holder(self) -> tuple[int, str] | None:
        try:
            parts = self.path.read_text().split()
        except FileNotFoundError:
            return None
        try:
            return int(parts[0]), (parts[1] if len(parts) > 1 else "")
        except (IndexError, ValueError):
            return -1, ""  # unreadable: treated as stale

    def release(self) -> None:
        with contextlib.suppress(OSError):
            if self.path.read_text().strip() == self.token:
                os.unlink(self.path)

    def __enter__(self) -> BuildLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
