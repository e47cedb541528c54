"""A report figure's print height, legibility problems and PNG, kept per figure content.

Drawing and measuring a figure (``legibility``: one layout pass and one draw at 150 dpi) is
about a fifth of a report's run. Many figures are the same in the next build: after one area
loses an LSOA, the district's trend charts, the risk model's charts and every other area's
spend chart are redrawn unchanged. :func:`drawn` keys a figure by its content: the figure
pickled (every artist, its data and properties) with the few values that hold object
addresses made neutral, plus matplotlib's settings and version and the package's code. The
result is kept in the build's memo folder (``EVIDENCE_PACK_MEMO_DIR``, subfolder ``figures``);
without it (a notebook opened in JupyterLab) every figure is drawn. A figure that cannot be
pickled is drawn. Two figures with the same key draw the same pixels; a changed figure only
misses.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.transforms import TransformNode

from evidence_pack.charts import legibility
from evidence_pack.sources import table_cache

#: Subfolder of the memo folder, and how many figures it keeps (the least recently used go).
SUBFOLDER = "figures"
KEEP = 2048


class _ContentPickler(pickle.Pickler):
    """Pickles a figure for its key: a transform's links to the transforms that depend on it
    are keyed by their addresses (``id``), which differ from one process to the next; the
    key keeps the linked transforms, in order, without the addresses. pyplot's number for
    the figure (1 for the first figure open, 2 for the next) is left out."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, TransformNode):
            state = obj.__getstate__()
            state["_parents"] = list((state.get("_parents") or {}).values())
            return type(obj), (), state
        if isinstance(obj, Figure):  # pyplot's number for it: not drawn
            state = obj.__getstate__()
            state.pop("_number", None)
            state.pop("number", None)
            return type(obj), (), state
        return NotImplemented


def figure_key(fig: Any) -> str | None:
    """Hex key of what ``fig`` draws, or None when it cannot be pickled."""
    buf = io.BytesIO()
    try:
        _ContentPickler(buf, protocol=5).dump(fig)
    except Exception:
        return None
    h = hashlib.sha256(buf.getvalue())
    h.update(repr(sorted(matplotlib.rcParams.items())).encode())
    h.update(f"{matplotlib.__version__}:{table_cache.code_stamp()}".encode())
    return h.hexdigest()


def _draw(fig: Any) -> tuple[float, list[str], bytes]:
    height = legibility.print_height_mm(fig)
    return height, legibility.problems(fig, height), legibility.tight_png(fig)


def drawn(fig: Any) -> tuple[float, list[str], bytes]:
    """(print height in mm, legibility problems at that height, PNG at 150 dpi) of ``fig``,
    from the build's figure cache when the same figure was drawn before."""
    key = figure_key(fig)
    if key is None:
        return _draw(fig)
    return table_cache.on_disk(key, lambda: _draw(fig), subfolder=SUBFOLDER, keep=KEEP)
