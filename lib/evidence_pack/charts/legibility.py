"""Is a chart's text readable when printed? Size and contrast of every piece of text in a
matplotlib figure, measured where the text is drawn (an accessibility checker sees only
the finished image).

Printed size: reports embed figures as PNG saved at ``SAVE_DPI`` with a tight bounding box;
the print stylesheet shows an image at 96 pixels an inch, no wider than the A4 text width
(``PRINT_WIDTH_MM``) and no taller than ``PRINT_HEIGHT_MM`` (two-fifths of a page), or the
smallest taller step of ``PRINT_HEIGHTS_MM`` at which its text still prints at 7 pt (maps,
long label lists: ``print_height_mm``). A font size in points is scaled by the same factor as
the image.

Contrast: the text colour against the colour most of the text's box is painted in (the
axes, a heat-map cell, a label's box), by the WCAG 2 formula; 4.5:1 is the minimum.
"""

from __future__ import annotations

import io
import weakref
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib import image as mpl_image
from matplotlib.colors import to_rgba
from matplotlib.text import Text
from PIL import Image

SAVE_DPI = 150
CSS_DPI = 96
PRINT_WIDTH_MM = 182.0  # A4 (210 mm) less 14 mm margins each side
PRINT_HEIGHT_MM = 105.0  # the print stylesheet's usual max-height of a chart
#: The heights the print stylesheet offers (``figure[data-print-height=...]``), mm.
PRINT_HEIGHTS_MM = (105.0, 120.0, 135.0, 150.0, 165.0, 180.0, 195.0, 210.0, 225.0)
MIN_PRINTED_PT = 7.0
MIN_CONTRAST = 4.5


def luminance(rgb: Any) -> float:
    """WCAG relative luminance of an RGB(A) colour (0-1 channels)."""
    def chan(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (chan(float(c)) for c in to_rgba(rgb)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: Any, bg: Any) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


#: The last figure measured (a weak reference) and what measuring it made: its tight
#: bounding box (inches), the box's size, the PNG reports embed, that PNG's pixels with the
#: offset of the PNG in the figure (pixels), and the figure's texts with their boxes on the
#: figure (pixels). ``print_height_mm``,
#: ``problems`` and ``tight_png`` of the same unchanged figure lay it out and draw it once.
_MEASURED: list[tuple[Any, ...]] = []


def _saved_pixels(fig: Any, pad: Any) -> tuple[np.ndarray, bytes]:
    """The figure drawn as ``savefig(dpi=SAVE_DPI, bbox_inches=pad, facecolor="white")``
    draws it: its pixels (RGBA, rows from the top) and the PNG of them. The draw is kept as
    raw pixels and encoded once (no PNG decoded back): as savefig encodes it, but without
    the alpha channel when every pixel is opaque (a report's figure on its white face). An
    RGB PNG goes into a PDF as it is, where an RGBA one is decoded and compressed again
    (``publish.render``: ~9% of a report's PDF time), and it is a quarter smaller."""
    raw = io.BytesIO()
    fig.savefig(raw, format="rgba", dpi=SAVE_DPI, bbox_inches=pad, facecolor="white")
    data = raw.getvalue()
    drawn = getattr(fig.canvas, "renderer", None)  # the Agg renderer of that draw: its size
    h, w = (int(drawn.height), int(drawn.width)) if drawn is not None else (0, 0)
    if h * w * 4 == len(data) > 0:
        pixels = np.frombuffer(data, dtype=np.uint8).reshape(h, w, 4)
        buf = io.BytesIO()
        if (pixels[..., 3] == 255).all():
            Image.fromarray(np.ascontiguousarray(pixels[..., :3]), "RGB").save(
                buf, format="png", dpi=(SAVE_DPI, SAVE_DPI))
        else:
            mpl_image.imsave(buf, pixels, format="png", dpi=SAVE_DPI)  # as savefig encodes it
        return pixels, buf.getvalue()
    buf = io.BytesIO()  # another canvas: its PNG, decoded
    fig.savefig(buf, format="png", dpi=SAVE_DPI, bbox_inches=pad, facecolor="white")
    png = buf.getvalue()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")), png


def _measured(fig: Any) -> tuple[Any, ...]:
    """Lay the figure out at ``SAVE_DPI`` (the resolution reports save it at), take its tight
    bounding box and save it with that box (padded as savefig pads), white behind: the image
    ``savefig(dpi=SAVE_DPI, bbox_inches="tight", facecolor="white")`` writes, with one layout
    pass and one draw instead of a draw, a layout pass and a draw. Reused while the figure
    has not changed since it was last measured."""
    if _MEASURED and _MEASURED[0][0]() is fig and not fig.stale:
        return _MEASURED[0][1:]
    if fig.dpi != SAVE_DPI:
        fig.set_dpi(SAVE_DPI)
    fig.draw_without_rendering()
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    pad = box.padded(mpl.rcParams["savefig.pad_inches"])
    pixels, png = _saved_pixels(fig, pad)
    size = max(box.width, 1e-6), max(box.height, 1e-6)
    # listed and placed once, here: listing an Axes' children makes the tick marks of a
    # hidden axis (a map's), and placing an annotation sets its transform again; either marks
    # the figure changed, and done later they had it measured all over again
    texts = _texts(fig)
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    # measuring re-derives what the draw laid out (title positions) and marks the figure
    # changed; it is not: any later change to the figure marks it again
    fig.stale = False
    _MEASURED[:] = [(weakref.ref(fig), box, size, png, pixels,
                     (pad.x0 * SAVE_DPI, pad.y0 * SAVE_DPI), texts, boxes)]
    return _MEASURED[0][1:]


def _size_inches(fig: Any) -> tuple[float, float]:
    """The figure's tight bounding box size (inches), laid out at ``SAVE_DPI``."""
    return _measured(fig)[1]


def tight_png(fig: Any) -> bytes:
    """The figure as ``savefig(dpi=SAVE_DPI, bbox_inches="tight", facecolor="white")`` writes
    it (PNG, the same bytes), from the draw its measurement made."""
    return _measured(getattr(fig, "figure", fig))[2]


def _scale(w_in: float, h_in: float, height_mm: float) -> float:
    shown_w = w_in * SAVE_DPI / CSS_DPI  # inches on paper before the page limits
    shown_h = h_in * SAVE_DPI / CSS_DPI
    limit = min(1.0, PRINT_WIDTH_MM / 25.4 / shown_w, height_mm / 25.4 / shown_h)
    return shown_w * limit / w_in


def print_scale(fig: Any, height_mm: float = PRINT_HEIGHT_MM) -> float:
    """Printed size / drawn size of the figure's text (1.0 = a 10 pt font prints at 10 pt)
    when the image is shown no taller than ``height_mm``."""
    return _scale(*_size_inches(fig), height_mm)


def print_height_mm(fig: Any) -> float:
    """The smallest of ``PRINT_HEIGHTS_MM`` at which every text of the figure prints at 7 pt
    or more (the tallest when none does): the print stylesheet shows the image no taller.
    Most charts fit ``PRINT_HEIGHT_MM`` (two-fifths of a page); maps and long lists of
    labels need more."""
    fig = getattr(fig, "figure", fig)
    w_in, h_in = _size_inches(fig)
    smallest = min((t.get_fontsize() for t in _measured(fig)[5]), default=MIN_PRINTED_PT)
    for h in PRINT_HEIGHTS_MM:
        if smallest * _scale(w_in, h_in, h) >= MIN_PRINTED_PT - 0.05:
            return h
    return PRINT_HEIGHTS_MM[-1]


def _texts(fig: Any) -> list[Text]:
    return [t for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and t.get_figure() is fig
            and not (t.get_text().startswith("$") and t.get_text().endswith("$"))]


def _background(pixels: np.ndarray, box: Any, height: int,
                fg: tuple[float, ...]) -> tuple[float, ...] | None:
    """The commonest colour in the text's box, ignoring pixels of the text's own colour."""
    x0, x1 = int(max(box.x0, 0)), int(min(box.x1, pixels.shape[1]))
    y0, y1 = int(max(height - box.y1, 0)), int(min(height - box.y0, pixels.shape[0]))
    if x1 <= x0 or y1 <= y0:
        return None
    region = pixels[y0:y1, x0:x1, :3].reshape(-1, 3).astype(np.uint32)
    # one integer a colour (R, G, B in that order of weight: the same order as rows sorted)
    packed, counts = np.unique((region[:, 0] << 16) | (region[:, 1] << 8) | region[:, 2],
                               return_counts=True)
    colours = np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], axis=1)
    own = np.abs(colours / 255 - np.asarray(fg[:3])).max(axis=1) < 0.08
    if (~own).any():
        colours, counts = colours[~own], counts[~own]
    return tuple(c / 255 for c in colours[int(np.argmax(counts))])


def problems(fig: Any, height_mm: float = PRINT_HEIGHT_MM) -> list[str]:
    """Every piece of text that would print below 7 pt (the image no taller than
    ``height_mm``) or with contrast below 4.5:1."""
    fig = getattr(fig, "figure", fig)
    scale = print_scale(fig, height_mm)
    _, _, _, pixels, (dx, dy), texts, boxes = _measured(fig)  # the saved image, (dx, dy) into it
    height = pixels.shape[0]
    out = []
    for t, box in zip(texts, boxes, strict=True):
        label = t.get_text().strip().replace("\n", " ")[:40]
        size = t.get_fontsize() * scale
        if size < MIN_PRINTED_PT - 0.05:
            out.append(f'"{label}" prints at {size:.1f} pt (minimum {MIN_PRINTED_PT:g})')
        fg = to_rgba(t.get_color())
        bg = _background(pixels, box.translated(-dx, -dy), height, fg)
        if bg is None:
            continue
        fg_rgb = tuple(fg[3] * c + (1 - fg[3]) * b for c, b in zip(fg[:3], bg, strict=True))
        ratio = contrast(fg_rgb, bg)
        if ratio < MIN_CONTRAST:
            out.append(f'"{label}" has contrast {ratio:.1f}:1 (minimum {MIN_CONTRAST:g}:1)')
    return out
