"""Keep an unused grammar out of every process that imports Jupyter's notebook tooling.

papermill and nbconvert import nbformat, which imports jsonschema. When the optional package
``rfc3987-syntax`` is installed (it is: JupyterLab's jupyter-events asks for
``jsonschema[format-nongpl]``), importing jsonschema builds an Earley parser of the RFC 3987 IRI
grammar for its "iri" format check: 2.2 s of CPU on a quiet machine, 4-5 s under load, in the
build's driver (to check parameters) and in each worker. Notebook validation never checks that
format (nbformat's schemas are draft 4, which has no "iri", and it validates without a format
checker), so :func:`skip_unused_grammars` marks the package unavailable before the first
import: ``sys.modules[name] = None`` makes ``import name`` raise ImportError, as the import
system documents, and jsonschema then leaves that one format check out.
"""

from __future__ import annotations

import sys

#: Optional packages of jsonschema that notebook tooling never uses and that are slow to import.
UNUSED = ("rfc3987_syntax",)


def skip_unused_grammars() -> None:
    """Mark ``UNUSED`` unavailable in this process, unless already imported (then it is kept)."""
    for name in UNUSED:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]
