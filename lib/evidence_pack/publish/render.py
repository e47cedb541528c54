"""Render an executed notebook into its report: keep only outputs made by
``publish.report``, HTML via nbconvert (code hidden, no scripts, CSS inline, images as data
URIs, checked self-contained), PDF via WeasyPrint from the same HTML (A4), key figures as JSON.

A report's HTML, JSON and PDF are one unit: written to temporary files, then renamed into
place together (PDF and JSON first, HTML last); a report without a PDF loses any older PDF;
a failed report loses all three (:func:`remove_unit`).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import gc
import hashlib
import io
import json
import logging
import re
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidence_pack import config
from evidence_pack.publish import notes
from evidence_pack.publish.jobs import Job, Settings
from evidence_pack.publish.markers import PUBLISHED_KEY, SUMMARY_MIME
from evidence_pack.sources.io import atomic_path

TEMPLATES = Path(__file__).with_name("templates")

_EXTERNAL = re.compile(
    r"<(?:script|link|iframe|img|source|video|audio|embed|object)\b[^>]*\b(?:src|href|data)\s*=\s*"
    r"[\"']?(?:https?:)?//|@import\s+(?:url\()?[\"']?(?:https?:)?//|url\(\s*[\"']?(?:https?:)?//",
    re.IGNORECASE)

_CACHE: dict[str, Any] = {}
#: An embedded PNG in a report page (nbconvert writes ``src="data:image/png;base64,..."``).
_DATA_PNG = re.compile(r'(<img\b[^>]*?\bsrc=)"data:image/png;base64,([A-Za-z0-9+/=]+)"')
#: PNG bytes a process keeps for its PDFs' figures (about 2.5 times that in memory with the
#: streams made from them): a borough report's figures take 0.2-1.1 MB.
IMAGE_CACHE_BYTES = 24_000_000
_IMAGES = {"bytes": 0}
#: PNG modes whose pixels go to the PDF as Flate-compressed rows: colour space by mode.
_PLAIN_MODES = {"RGB": "/DeviceRGB", "RGBA": "/DeviceRGB", "L": "/DeviceGray",
                "LA": "/DeviceGray"}
#: Print rules for WeasyPrint only (a user stylesheet; ``!important`` beats the page's own CSS).
#: WeasyPrint balances two-column text by laying the columns out again and again, a pixel or
#: so taller each time; with every note and every glossary term kept whole
#: (``break-inside: avoid``) the closing notes and terms of one report took 4-15 s of its
#: 5-19 s. A note or a term's definition may now continue in the next column (three lines at
#: least on each side: ``orphans``/``widows``; a term never ends a column); the columns stay
#: balanced, pages the same (checked on the Canklow and borough reports: ~1 s each).
PDF_CSS = ".ep-notes li, .ep-glossary dd, .ep-glossary dl div { break-inside: auto !important; }"


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


def check_self_contained(text: str) -> None:
    """ValueError if the HTML would fetch anything from the network (scripts, CSS, images)."""
    m = _EXTERNAL.search(text)
    if m:
        raise ValueError(f"report is not self-contained: {text[m.start():m.start() + 120]!r}")
    if re.search(r"<script\b", text, re.IGNORECASE):
        raise ValueError("report contains a <script>: reports must not need JavaScript")


#: What nbconvert's HTMLExporter gives an image with no alt text.
NO_ALT = "No description has been provided for this image"
_IMG_NO_ALT = re.compile(r"<img\b(?![^>]*(?<![\w-])alt=)([^>]*?)(\s*/?)>")
_NOTEBOOK = re.compile(r'<[a-z]+\b[^>]*\bclass="(?:[^"]*\s)?jp-Notebook(?:\s[^"]*)?"[^>]*>')
_DIV = re.compile(r"<div\b[^>]*>")
_CLASS = re.compile(r'\bclass="([^"]*)"')
_TABINDEX = re.compile(r'(?<![\w-])tabindex="[^"]*"')
#: Classes of the divs HTMLExporter makes focusable inside the notebook element.
_FOCUSABLE = frozenset({"jp-Cell-inputWrapper", "jp-OutputArea-output"})


def _focusable(tag: str) -> str:
    cls = _CLASS.search(tag)
    if cls is None or not _FOCUSABLE & set(cls.group(1).split()):
        return tag
    if _TABINDEX.search(tag):
        return _TABINDEX.sub('tabindex="0"', tag, count=1)
    return tag[:-2] + ' tabindex="0"/>' if tag.endswith("/>") else tag[:-1] + ' tabindex="0">'


#: An element that is not void written as ``<a ... />`` (nbconvert's heading anchors): HTML
#: has no self-closing syntax for it, so a browser or WeasyPrint opens it there and it swallows
#: the rest of the page. BeautifulSoup's serialisation closed it; ``_accessible`` does.
_SELF_CLOSED = re.compile(r"<(?!(?:area|base|br|col|embed|hr|img|input|link|meta|param|source|"
                          r"track|wbr)\b)([a-zA-Z][\w-]*)((?:\s[^<>]*?)?)\s*/>")


def _accessible(html_text: str) -> str:
    """What nbconvert's HTMLExporter does to every page after its template, without its
    BeautifulSoup parse and re-serialisation of the whole page (~60% of an export): an element
    that is not void but written self-closed is closed (``<a ... />`` -> ``<a ...></a>``),
    an image with no alt text gets ``NO_ALT``, and each cell's input wrapper and output area
    ``tabindex="0"`` (focusable for keyboard users). Parsed as browsers parse HTML, the page
    equals HTMLExporter's (a test checks it on real reports)."""
    html_text = _SELF_CLOSED.sub(r"<\1\2></\1>", html_text)
    html_text = _IMG_NO_ALT.sub(lambda m: f'<img{m.group(1)} alt="{NO_ALT}"{m.group(2)}>',
                                html_text)
    notebook = _NOTEBOOK.search(html_text)  # only once the notebook element opens (the
    if notebook is None:                    # report template has none: none made focusable)
        return html_text
    head, rest = html_text[:notebook.end()], html_text[notebook.end():]
    return head + _DIV.sub(lambda m: _focusable(m.group(0)), rest)


def exporter() -> Any:
    """The HTML exporter (made once per process: loading templates takes about a second):
    nbconvert's HTMLExporter with the report template, validating the notebook once after its
    preprocessors rather than after each (12 times), and its page finished by
    ``_accessible`` instead of a BeautifulSoup pass."""
    if "exporter" not in _CACHE:
        from nbconvert import HTMLExporter
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        class ReportExporter(HTMLExporter):
            def from_notebook_node(self, nb: Any, resources: Any = None, **kw: Any) -> Any:
                # HTMLExporter.from_notebook_node up to its template; then _accessible
                langinfo = nb.metadata.get("language_info", {})
                lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
                self.register_filter("highlight_code", self.filters.get(
                    "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
                resources = self._init_resources(resources)
                self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                    notebook_metadata=self._nb_metadata, parent=self, resources=resources))
                page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
                return _accessible(page), resources

        _CACHE["exporter"] = ReportExporter(
            template_name="lab", extra_template_paths=[str(TEMPLATES)],
            template_file="report.html.j2", exclude_input=True, exclude_input_prompt=True,
            exclude_output_prompt=True, anchor_link_text="", optimistic_validation=True)
    return _CACHE["exporter"]


def css() -> str:
    if "css" not in _CACHE:
        _CACHE["css"] = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    return _CACHE["css"]


def prewarm(pdf: bool = True) -> None:
    """Load nbconvert and WeasyPrint ahead of the first report (errors surface later); with
    ``pdf``, render a one-line page in the report style to a string, so that fonts and
    stylesheets are loaded while the first kernel starts."""
    with contextlib.suppress(Exception):
        import weasyprint  # noqa: F401

        exporter()
        if pdf:
            page = (f"<html><head><style>{css()}</style></head><body><h1 class='ep-title'>x</h1>"
                    "<p>a <b>b</b> <i>c</i></p><table><tr><th>d</th><td>1</td></tr></table>"
                    "</body></html>")
            render_pdf(page, None, TEMPLATES)


def render_html(nb: Any, job: Job, settings: Settings) -> str:
    """The self-contained report page for an executed, filtered notebook."""
    area_name = job.area_name or f"{settings.la_name} (whole borough)"
    resources = {"ep": {
        "title": f"{job.title}: {area_name}",
        "css": css(),
        "area_name": area_name,
        "built": dt.date.today().isoformat(),
        "footer": (f"{job.title}: {area_name}. Deprived-areas evidence pack for "
                   f"{settings.la_name}. Every table and chart names its source; counts below "
                   f"{config.SMALL_COUNT_THRESHOLD} are suppressed."),
    }}
    body, _ = exporter().from_notebook_node(nb, resources=resources)
    body = notes.finish(body, titles=(job.title, resources["ep"]["title"]))
    check_self_contained(body)
    return body


def _report_style(html_text: str) -> tuple[str, bool]:
    """(the page without its report stylesheet, whether it was there): WeasyPrint then gets
    the stylesheet parsed once per process instead of parsing the page's copy every time."""
    block = f"<style>\n{css()}\n</style>"
    if block in html_text:
        return html_text.replace(block, "<style></style>", 1), True
    return html_text, False


def _pdf_images(html_text: str, cache: dict[str, Any]) -> str:
    """The page with each embedded PNG's data URI replaced by ``ep-image:<sha256 of the
    PNG>`` and the decoded image put in WeasyPrint's image ``cache`` under that URL. The
    cache is kept across the reports a process renders (emptied before a report whose new
    PNGs would take it over :data:`IMAGE_CACHE_BYTES`). The URL is the content: a report
    can only find a figure embedding the same bytes. The HTML parser no longer reads
    megabytes of base64 text, and a figure in two reports (an area's decile map) is
    decoded and compressed for the PDF once (:func:`_reuse_streams`)."""
    from PIL import Image
    from weasyprint import DEFAULT_OPTIONS
    from weasyprint.images import RasterImage

    found = {}
    for m in _DATA_PNG.finditer(html_text):
        data = base64.b64decode(m.group(2))
        try:
            Image.open(io.BytesIO(data))
        except Exception:  # noqa: BLE001 - left as it is: WeasyPrint reports it as before
            continue
        found[m.group(2)] = (f"ep-image:{hashlib.sha256(data).hexdigest()}", data)
    new = {url: data for url, data in found.values() if url not in cache}
    size = sum(len(d) for d in new.values())
    if _IMAGES["bytes"] + size > IMAGE_CACHE_BYTES:
        cache.clear()
        _IMAGES["bytes"] = 0
        new = dict(found.values())
        size = sum(len(d) for d in new.values())
    for url, data in new.items():
        image_id = hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()
        cache[url] = _reuse_streams(RasterImage(
            Image.open(io.BytesIO(data)), image_id, data, None, cache, "from-image",
            DEFAULT_OPTIONS), data)
    _IMAGES["bytes"] += size
    return _DATA_PNG.sub(lambda m: f'{m.group(1)}"{found[m.group(2)][0]}"'
                         if m.group(2) in found else m.group(0), html_text)


def _reuse_streams(image: Any, png: bytes) -> Any:
    """``image`` (WeasyPrint's) whose PDF image stream and alpha mask are made once from the
    ``png`` bytes, then handed to each PDF as new stream objects with the same data (a PDF
    numbers its own objects). They are the PNG's pixels, Flate-compressed as plain rows:
    WeasyPrint re-encodes colour and alpha as two PNGs (adaptive row filters), which takes
    longer and gives bigger streams; the decoded pixels are the same. An 8-bit RGB or grey
    PNG without transparency is not decoded at all: its own compressed rows (IDAT) are the
    stream, with the PNG row filters declared (:func:`_png_rows`)."""
    import pydyf
    from PIL import Image

    made: dict[bool, Any] = {}
    original = image.get_x_object

    def copy(x: Any) -> Any:
        extra = pydyf.Dictionary(x.extra)
        if isinstance(extra.get("SMask"), pydyf.Stream):
            extra["SMask"] = copy(extra["SMask"])
        return pydyf.Stream(list(x.stream), extra, x.compress)

    def stream(pixels: Any, space: str, interpolate: bool) -> Any:
        return pydyf.Stream([zlib.compress(pixels.tobytes(), 6)], pydyf.Dictionary({
            "Type": "/XObject", "Subtype": "/Image", "Width": pixels.width,
            "Height": pixels.height, "ColorSpace": space, "BitsPerComponent": 8,
            "Interpolate": "true" if interpolate else "false", "Filter": "/FlateDecode"}))

    def x_object(interpolate: bool) -> Any:
        rows = _png_rows(png)
        if rows is not None and image.mode == ("RGB" if rows[3] == 3 else "L"):
            data, width, height, colours = rows
            return pydyf.Stream([data], pydyf.Dictionary({
                "Type": "/XObject", "Subtype": "/Image", "Width": width, "Height": height,
                "ColorSpace": "/DeviceRGB" if colours == 3 else "/DeviceGray",
                "BitsPerComponent": 8, "Interpolate": "true" if interpolate else "false",
                "Filter": "/FlateDecode", "DecodeParms": pydyf.Dictionary({
                    "Predictor": 15, "Colors": colours, "Columns": width})}))
        pixels = Image.open(io.BytesIO(png))
        if pixels.mode not in _PLAIN_MODES or pixels.mode != image.mode:
            return original(interpolate, 1)
        colour = pixels.convert(pixels.mode[0] if pixels.mode in ("LA", "L") else "RGB")
        x = stream(colour, _PLAIN_MODES[pixels.mode], interpolate)
        if pixels.mode.endswith("A"):
            x.extra["SMask"] = stream(pixels.getchannel("A"), "/DeviceGray", interpolate)
        return x

    def get_x_object(interpolate: bool, dpi_ratio: float) -> Any:
        if dpi_ratio != 1:  # WeasyPrint resamples (only with its dpi option): no reuse
            return original(interpolate, dpi_ratio)
        if interpolate not in made:
            made[interpolate] = x_object(interpolate)
        return copy(made[interpolate])

    image.get_x_object = get_x_object
    return image


def _png_rows(png: bytes) -> tuple[bytes, int, int, int] | None:
    """(compressed filtered rows, width, height, colours: 3 or 1) of an 8-bit, non-interlaced
    RGB or grey PNG without a transparency chunk: a PDF reads those rows as they are (Flate,
    PNG predictors), so the figure need not be decoded and compressed again. None for any
    other PNG (alpha, palette, 16-bit, interlaced), and for bytes that do not parse."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    pos, idat, header = 8, [], None
    while pos + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + length]
        if len(body) != length:
            return None
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"tRNS":
            return None
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or not idat:
        return None
    width, height, depth, colour_type, compression, filtering, interlace = header
    if depth != 8 or colour_type not in (0, 2) or (compression, filtering, interlace) != (0, 0, 0):
        return None
    return b"".join(idat), width, height, 3 if colour_type == 2 else 1


def clear_image_cache() -> None:
    """Forget the figures kept for PDFs (benchmarks: time a report as if its figures were new)."""
    _CACHE.get("images", {}).clear()
    _IMAGES["bytes"] = 0


def cached_image_bytes() -> int:
    """Bytes of the PNGs kept for this process's PDFs (at most :data:`IMAGE_CACHE_BYTES`)."""
    return _IMAGES["bytes"]


def render_pdf(html_text: str, target: Path | None, base_dir: Path) -> bytes | None:
    """A4 PDF of a report page written to ``target`` (WeasyPrint; its CSS warnings are
    silenced); with no target, the PDF's bytes. The report stylesheet is parsed once per
    process, embedded PNGs are handed over by content (:func:`_pdf_images`)."""
    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    if "fonts" not in _CACHE:  # one font configuration per process: fonts are loaded once
        from weasyprint.text.fonts import FontConfiguration

        _CACHE["fonts"] = FontConfiguration()
        _CACHE["pdf_css"] = weasyprint.CSS(string=PDF_CSS, font_config=_CACHE["fonts"])
        _CACHE["report_css"] = weasyprint.CSS(string=css(), font_config=_CACHE["fonts"])
        _CACHE["images"] = {}
    page, styled = _report_style(html_text)
    page = _pdf_images(page, _CACHE["images"])
    sheets = [_CACHE["report_css"], _CACHE["pdf_css"]] if styled else [_CACHE["pdf_css"]]
    with _young_garbage_only():
        return weasyprint.HTML(string=page, base_url=str(base_dir)).write_pdf(
            str(target) if target is not None else None, font_config=_CACHE["fonts"],
            stylesheets=sheets, cache=_CACHE["images"])


@contextlib.contextmanager
def _young_garbage_only() -> Any:
    """No garbage collection during a render, then one of the objects made since. WeasyPrint
    makes ~60,000 objects in reference cycles a report; the collections they trigger on the
    way also walk every long-lived object of the worker (kernel client, nbconvert,
    WeasyPrint's own); the render's cycles are all in the youngest generation at the end
    (~15% of a report's PDF CPU time at load ~3, a few MB more at the peak)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
            gc.collect(0)


def write_unit(job: Job, nb: Any, settings: Settings,
               guard: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
               ) -> tuple[dict[str, Any], int, dict[str, float]]:
    """Render and publish one report as a unit; (key figures, outputs dropped, seconds by
    phase: html, pdf). ``guard()`` wraps the renames (a worker defers SIGTERM there)."""
    outs = job.outputs(Path(settings.reports_dir))
    nb, summary, dropped = published(nb)
    summary = {**summary, "slug": job.area, "notebook": job.notebook, "title": job.title}
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    page = render_html(nb, job, settings)
    timings["html"] = time.perf_counter() - t0
    with contextlib.ExitStack() as stack:  # renamed in reverse order of entry: HTML last
        html_tmp = stack.enter_context(atomic_path(outs["html"]))
        json_tmp = stack.enter_context(atomic_path(outs["json"]))
        html_tmp.write_text(page, encoding="utf-8")
        json_tmp.write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
        if settings.pdf:
            t1 = time.perf_counter()
            pdf_tmp = stack.enter_context(atomic_path(outs["pdf"]))
            render_pdf(page, pdf_tmp, outs["html"].parent)
            timings["pdf"] = time.perf_counter() - t1
        with guard():
            stack.close()  # the renames: PDF, JSON, then HTML
            if not settings.pdf:
                with contextlib.suppress(FileNotFoundError):
                    outs["pdf"].unlink()  # an older PDF would not match the new HTML
    return summary, dropped, timings


def remove_unit(job: Job, reports_dir: Path) -> None:
    """Remove a report's HTML, JSON and PDF (after a failed run: nothing stale looks built)."""
    for p in job.outputs(reports_dir).values():
        with contextlib.suppress(OSError):
            p.unlink()


def sweep_partials(reports_dir: Path) -> int:
    """Remove temporary ``*.part`` files left by a killed build; the number removed."""
    n = 0
    if reports_dir.is_dir():
        for p in reports_dir.rglob(".*.part"):
            with contextlib.suppress(OSError):
                p.unlink()
                n += 1
    return n
