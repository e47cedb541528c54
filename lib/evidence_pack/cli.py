"""Command line: ``evidence-pack fetch | prepare | areas draft | build | clean | verify``.

Each subcommand calls one function of the package (prepare, analysis.areas, publish.build).
Errors are one line on stderr naming the file, row or id and what to do; exit status 2 for
bad input (a bad file, id or setting), 1 for a failed build or any other failure, 130 when
interrupted. ``--debug`` prints the traceback as well.

The modules of the heavy subcommands (they import pandas, matplotlib, geopandas) are named
in :data:`COMMANDS` and imported when that subcommand runs, not when the command starts:
``evidence-pack build`` then pays for the build's own imports only (about 0.1 s of CPU
against 1.2 s when every subcommand's module was imported first). The table keeps the
package's imports visible, and ``tests/test_architecture.py`` checks every entry.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidence_pack import config
from evidence_pack.publish.lock import BuildLocked
from evidence_pack.sources import catalogue
from evidence_pack.sources.io import DataError, write_text

#: What each heavy subcommand runs, as ``module:function``, imported when it runs.
COMMANDS: dict[str, str] = {
    "prepare": "evidence_pack.prepare:run",
    "areas draft": "evidence_pack.findings.areas:draft_areas_yaml",
    "build": "evidence_pack.publish.build:main",
    "build --districts": "evidence_pack.publish.national:main",
}


def command(name: str) -> Callable[..., Any]:
    """The function :data:`COMMANDS` names for subcommand ``name`` (its module imported now)."""
    module, _, function = COMMANDS[name].partition(":")
    return getattr(importlib.import_module(module), function)


def _cmd_fetch(args: argparse.Namespace) -> int:
    entries = catalogue.select(args.ids or None, args.group or None)
    mirror = Path(args.mirror).resolve() if args.mirror else None
    result = catalogue.fetch(entries, mirror=mirror, allow_network=not args.offline,
                             progress=not args.quiet)
    counts: dict[str, int] = {}
    for how in result.values():
        counts[how] = counts.get(how, 0) + 1
    print(f"fetch: {len(result)} file(s) verified in {config.RAW_DIR} "
          + ", ".join(f"{n} {how}" for how, n in sorted(counts.items())))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    bad = catalogue.verify()
    if bad:
        print(f"{len(bad)} file(s) missing or altered: {', '.join(bad[:20])}", file=sys.stderr)
        return 1
    print("all catalogue files present and verified")
    return 0


def _cmd_prepare(args: argparse.Namespace) -> int:
    return command("prepare")(stages=args.stages or None, force=args.force)


def _cmd_areas_draft(args: argparse.Namespace) -> int:
    try:
        text = command("areas draft")(args.la, release=args.release, threshold=args.threshold,
                                      max_lsoas=args.max_lsoas)
    except DataError as exc:
        if exc.path is not None:
            raise
        raise DataError(f"--la {args.la}", f"{exc.problem}; give the ONS code of an English "
                                           f"district, e.g. {config.DEFAULT_LA_CODE}") from exc
    if args.out:
        write_text(text, args.out)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    return command("build --districts" if args.districts else "build")(args)


def _cmd_clean(args: argparse.Namespace) -> int:
    targets = [config.REPORTS_DIR, config.ROOT / "build"]
    if args.all:
        targets.append(config.PROCESSED_DIR)
    for t in targets:
        if t.exists():
            for child in t.iterdir():
                if child.name == ".gitkeep":
                    continue
                shutil.rmtree(child) if child.is_dir() else child.unlink()
            print(f"cleaned {t.relative_to(config.ROOT)}")
    return 0


def make_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the traceback of an error")
    p = argparse.ArgumentParser(prog="evidence-pack", description=__doc__.splitlines()[0],
                                parents=[common])
    sub = p.add_subparsers(dest="command", required=True)
    _add = sub.add_parser

    def add_parser(*a: object, **kw: object) -> argparse.ArgumentParser:
        return _add(*a, parents=[common], **kw)

    sub.add_parser = add_parser  # type: ignore[method-assign]

    f = sub.add_parser("fetch", help="download (or copy from a mirror) and verify the raw data")
    f.add_argument("ids", nargs="*", help="catalogue ids (default: all)")
    f.add_argument("--group", action="append", help="a catalogue group, e.g. humaniverse-IMD")
    f.add_argument("--mirror", help=f"mirror directory (default: ${config.MIRROR_ENV})")
    f.add_argument("--offline", action="store_true", help="never use the network")
    f.add_argument("--quiet", action="store_true")
    f.set_defaults(func=_cmd_fetch)

    v = sub.add_parser("verify", help="check every raw file against its sha256")
    v.set_defaults(func=_cmd_verify)

    pr = sub.add_parser("prepare", help="build the tidy stores in data/processed/")
    pr.add_argument("stages", nargs="*", help="stages to run (default: all)")
    pr.add_argument("--force", action="store_true", help="rebuild even if up to date")
    pr.set_defaults(func=_cmd_prepare)

    a = sub.add_parser("areas", help="target-area definitions")
    asub = a.add_subparsers(dest="areas_command", required=True)
    _add_a = asub.add_parser
    asub.add_parser = lambda *x, **kw: _add_a(*x, parents=[common], **kw)  # type: ignore[method-assign]
    d = asub.add_parser("draft", help="draft an area YAML for any English district")
    d.add_argument("--la", required=True, help="district code, e.g. E08000018")
    d.add_argument("--release", type=int, default=2010, choices=config.RELEASES)
    d.add_argument("--threshold", type=float, default=10.0, help="national most deprived X%%")
    d.add_argument("--max-lsoas", type=int, default=6,
                   help="largest area in LSOAs: bigger contiguous groups are split (default 6)")
    d.add_argument("--out", help="write here instead of standard output")
    d.set_defaults(func=_cmd_areas_draft)

    b = sub.add_parser("build", help="run the notebooks and render the reports")
    b.add_argument("--areas-file", default=str(config.DEFAULT_AREAS_FILE))
    b.add_argument("--only", action="append", help="area slug(s) or 'borough' (default: all)")
    b.add_argument("--notebooks", action="append", help="notebook name(s) (default: all)")
    b.add_argument("--jobs", type=int, default=2)
    b.add_argument("--no-pdf", action="store_true")
    b.add_argument("--force", action="store_true", help="ignore the cache")
    b.add_argument("--reports-dir", help="write the reports here (default: reports/)")
    b.add_argument("--build-dir", help="keep executed notebooks, logs, the cache manifest and "
                                       "memoised results here (default: build/)")
    b.add_argument("--districts", help="many districts on Dask: comma-separated district "
                   "codes, region names or codes, or 'all' (reports/<code>/ each)")
    b.add_argument("--scheduler", default="local", help="with --districts: 'local' (a Dask "
                   "LocalCluster on this machine) or a scheduler address, tcp://HOST:8786")
    b.add_argument("--workers", type=int, help="with --districts --scheduler local: worker "
                   "processes (default: one per core, 3 GB each)")
    b.set_defaults(func=_cmd_build)

    c = sub.add_parser("clean", help="remove reports (and with --all, processed data)")
    c.add_argument("--all", action="store_true")
    c.set_defaults(func=_cmd_clean)
    return p


#: Errors that are the user's input (exit 2); anything else that escapes is exit 1.
BAD_INPUT = (DataError, catalogue.FetchError)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[0] if len(lines) <= 1 else text  # FetchError is short and multi-line by design


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    name = args.command + (f" {args.areas_command}" if args.command == "areas" else "")
    t0 = time.perf_counter()
    try:
        code = args.func(args)
    except KeyboardInterrupt:
        print(f"evidence-pack {name}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every error ends in one line (the traceback with --debug)
        if debug:
            traceback.print_exc()
        bad = isinstance(exc, BAD_INPUT)
        if isinstance(exc, BuildLocked | DataError | catalogue.FetchError):
            msg = _one_line(exc)
        elif isinstance(exc, OSError) and exc.filename:
            msg = (f"{exc.filename}: {exc.strerror or exc}: check that it exists and can be "
                   "read and written")
        else:
            msg = (f"unexpected error {type(exc).__name__}: {_one_line(exc)} "
                   "(run again with --debug for the traceback)")
        print(f"evidence-pack {name}: {msg}", file=sys.stderr)
        return 2 if bad else 1
    if code == 0 and args.command in {"prepare", "build"}:
        print(f"{args.command}: done in {time.perf_counter() - t0:.1f} s")
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
