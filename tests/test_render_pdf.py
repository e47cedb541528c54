"""The PDF route (``publish.render.render_pdf``): the report stylesheet parsed once a
process, embedded PNGs handed to WeasyPrint by content and their PDF streams made once.
It must print what a plain WeasyPrint call on the same page prints: the same pages, the same
image pixels (colour and alpha mask) at print resolution, fonts embedded; and one report's
figure can never appear in another's PDF."""

from __future__ import annotations

import base64
import io
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from evidence_pack.publish import render
from PIL import Image, ImageChops, ImageDraw

needs_poppler = pytest.mark.skipif(shutil.which("pdfimages") is None
                                   or shutil.which("pdftoppm") is None,
                                   reason="poppler-utils (pdfimages, pdftoppm) not installed")


def _png(mode: str, colour: object, size: tuple[int, int] = (300, 180)) -> bytes:
    """A PNG with a shape and, for modes with alpha, a graded transparent band."""
    im = Image.new(mode, size, colour)
    draw = ImageDraw.Draw(im)
    ink = {"RGBA": (20, 40, 200, 255), "RGB": (20, 40, 200), "LA": (30, 255), "L": 30}[mode]
    draw.ellipse((20, 20, 160, 150), fill=ink)
    if mode.endswith("A"):
        for x in range(size[0]):
            alpha = int(255 * x / size[0])
            fill = (200, 90, 10, alpha) if mode == "RGBA" else (120, alpha)
            draw.line((x, size[1] - 40, x, size[1]), fill=fill)
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def _page(*pngs: bytes, words: str = "A figure.") -> str:
    imgs = "".join(f'<figure class="ep-figure"><img alt="chart {i}" src="data:image/png;base64,'
                   f'{base64.b64encode(p).decode()}"></figure>' for i, p in enumerate(pngs))
    return (f"<!DOCTYPE html>\n<html><head><style>\n{render.css()}\n</style></head><body>"
            f"<h1 class='ep-title'>T</h1><p>{words}</p>{imgs}</body></html>")


def _plain_pdf(page: str) -> bytes:
    """A plain WeasyPrint call on the page as written (the route before the shortcuts)."""
    import weasyprint

    return weasyprint.HTML(string=page, base_url=str(render.TEMPLATES)).write_pdf(
        stylesheets=[weasyprint.CSS(string=render.PDF_CSS)])


def _images(pdf: bytes, tmp: Path, tag: str) -> list[Image.Image]:
    """Every image and soft mask in the PDF, decoded by poppler."""
    (tmp / f"{tag}.pdf").write_bytes(pdf)
    subprocess.run(["pdfimages", "-png", str(tmp / f"{tag}.pdf"), str(tmp / tag)], check=True)
    return [Image.open(p).copy() for p in sorted(tmp.glob(f"{tag}-*.png"))]


def _pages(pdf: bytes, tmp: Path, tag: str, dpi: int = 50) -> list[bytes]:
    (tmp / f"{tag}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(tmp / f"{tag}.pdf"),
                    str(tmp / f"page-{tag}")], check=True)
    return [p.read_bytes() for p in sorted(tmp.glob(f"page-{tag}-*.png"))]


def _same_pixels(a: list[Image.Image], b: list[Image.Image]) -> bool:
    return len(a) == len(b) and all(
        x.size == y.size and x.mode == y.mode and ImageChops.difference(x, y).getbbox() is None
        for x, y in zip(a, b, strict=True))


@pytest.fixture(autouse=True)
def _empty_image_cache():
    render.clear_image_cache()
    yield
    render.clear_image_cache()


@needs_poppler
def test_images_same_pixels_and_pages_as_plain_weasyprint(tmp_path):
    """Colour, grey, and both with a graded alpha mask: the PDF's images decode to the same
    pixels as WeasyPrint's own encoding of them, and the pages look the same."""
    page = _page(*(_png(m, c) for m, c in (("RGBA", (255, 255, 255, 255)),
                                           ("RGB", (250, 250, 240)), ("LA", (230, 255)),
                                           ("L", 240))))
    plain = _plain_pdf(page)
    fast = render.render_pdf(page, None, render.TEMPLATES)
    plain_images, fast_images = _images(plain, tmp_path, "a"), _images(fast, tmp_path, "b")
    assert len(plain_images) == 6  # four images, two soft masks
    assert _same_pixels(plain_images, fast_images)
    assert _pages(plain, tmp_path, "a") == _pages(fast, tmp_path, "b")


@needs_poppler
def test_a_figure_cannot_pass_from_one_report_to_another(tmp_path):
    """Two reports whose figures differ only in their pixels (same size, same alt text),
    rendered by one process: each PDF holds its own figure, also when rendered again after
    the other (the cache is keyed by the PNG's content)."""
    red, green = _png("RGB", (200, 0, 0)), _png("RGB", (0, 160, 0))
    first = render.render_pdf(_page(red), None, render.TEMPLATES)
    second = render.render_pdf(_page(green), None, render.TEMPLATES)
    again = render.render_pdf(_page(red), None, render.TEMPLATES)
    want_red = [Image.open(io.BytesIO(red)).convert("RGB")]
    want_green = [Image.open(io.BytesIO(green)).convert("RGB")]
    assert _same_pixels(_images(first, tmp_path, "r"), want_red)
    assert _same_pixels(_images(second, tmp_path, "g"), want_green)
    assert _same_pixels(_images(again, tmp_path, "r2"), want_red)
    assert first == again  # the figure reused from the cache prints identically


@needs_poppler
def test_image_cache_is_bounded_and_a_report_keeps_all_its_figures(tmp_path, monkeypatch):
    """When a report's figures would take the cache over its size, the cache is emptied
    before that report (not in the middle of it): every figure of the report is printed."""
    a, b, c = (_png("RGBA", (v, v, 255, 255)) for v in (10, 120, 230))
    monkeypatch.setattr(render, "IMAGE_CACHE_BYTES", len(a) + len(b) + len(c) // 2)
    render.render_pdf(_page(a, b), None, render.TEMPLATES)
    assert render.cached_image_bytes() == len(a) + len(b)
    pdf = render.render_pdf(_page(a, c), None, render.TEMPLATES)  # c does not fit beside a, b
    assert render.cached_image_bytes() == len(a) + len(c)
    want = []
    for png in (a, c):
        im = Image.open(io.BytesIO(png))
        want += [im.convert("RGB"), im.getchannel("A")]
    assert _same_pixels(_images(pdf, tmp_path, "ac"), want)


@pytest.mark.slow
@pytest.mark.mirror
@needs_poppler
def test_real_reports_print_as_plain_weasyprint_did(small_pack, tmp_path):
    """Real reports (an area's and the borough's, one sharing its decile map with another
    report of the pack): same page count, same pages at 50 dpi, same image pixels (masks
    included), fonts embedded."""
    pages = [small_pack.reports / "canklow" / "imd_trends.html",
             small_pack.reports / "canklow" / "area_profile.html",
             small_pack.reports / "borough" / "baseline_spend.html"]
    for i, html_path in enumerate(pages):
        text = html_path.read_text(encoding="utf-8")
        plain = _plain_pdf(text)
        fast = render.render_pdf(text, None, html_path.parent)
        name = f"{html_path.parent.name}/{html_path.stem}"
        assert _same_pixels(_images(plain, tmp_path, f"p{i}"), _images(fast, tmp_path, f"f{i}")), name
        assert _pages(plain, tmp_path, f"p{i}") == _pages(fast, tmp_path, f"f{i}"), name
        (tmp_path / "fast.pdf").write_bytes(fast)
        fonts = subprocess.run(["pdffonts", str(tmp_path / "fast.pdf")], capture_output=True,
                               text=True, check=True).stdout.splitlines()[2:]
        assert fonts and all(row.split()[-5] == "yes" for row in fonts), (name, fonts)


@needs_poppler
def test_a_broken_png_is_left_to_weasyprint_and_the_others_still_print(tmp_path):
    """Bytes that are not a PNG under a PNG data URI: WeasyPrint skips that image as it did
    before (no exception); the report's other figure is printed."""
    good = _png("RGB", (0, 90, 200))
    page = _page(good).replace(
        "</body>", '<img alt="broken" src="data:image/png;base64,'
        f'{base64.b64encode(b"not a png at all").decode()}"></body>')
    pdf = render.render_pdf(page, None, render.TEMPLATES)
    assert _same_pixels(_images(pdf, tmp_path, "x"),
                        [Image.open(io.BytesIO(good)).convert("RGB")])
    assert render.cached_image_bytes() == len(good)


def test_render_leaves_no_cycles_and_the_collector_as_it_found_it():
    """The collector is off during a render (its collections would walk the worker's whole
    heap again and again) and the render's cyclic garbage is collected at its end: a full
    collection right after finds next to nothing; the collector is on again, or still off
    when the caller had turned it off."""
    import gc

    page = _page(_png("RGBA", (255, 255, 255, 255)), words="Text. " * 300)
    render.render_pdf(page, None, render.TEMPLATES)  # fonts, stylesheets, imports
    gc.collect()
    render.render_pdf(page, None, render.TEMPLATES)
    assert gc.isenabled()
    assert gc.collect() < 500  # a plain WeasyPrint render leaves thousands behind
    gc.disable()
    try:
        render.render_pdf(page, None, render.TEMPLATES)
        assert not gc.isenabled()
    finally:
        gc.enable()


def _idat(png: bytes) -> bytes:
    """The PNG's compressed rows: its IDAT chunks joined (written here, not by render)."""
    pos, out = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            out += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    return out


@needs_poppler
def test_rgb_and_grey_pngs_go_to_the_pdf_as_their_own_rows(tmp_path):
    """An 8-bit RGB or grey PNG is not decoded and compressed again: its IDAT rows are the
    PDF stream as they are, and the figure prints the same pixels as plain WeasyPrint's."""
    rgb, grey = _png("RGB", (250, 250, 240)), _png("L", 240)
    page = _page(rgb, grey)
    fast = render.render_pdf(page, None, render.TEMPLATES)
    assert _idat(rgb) in fast and _idat(grey) in fast
    assert _same_pixels(_images(fast, tmp_path, "f"), _images(_plain_pdf(page), tmp_path, "p"))


def test_only_plain_8_bit_pngs_are_passed_through():
    """Alpha, palette, 16-bit, interlaced or transparent-colour PNGs, and bytes that are not
    a PNG, are decoded as before (no rows handed over)."""
    def save(im: Image.Image, **kw: object) -> bytes:
        out = io.BytesIO()
        im.save(out, format="PNG", **kw)
        return out.getvalue()

    def interlaced(png: bytes) -> bytes:  # the IHDR's interlace byte set (Pillow writes none)
        ihdr = png[12:28] + b"\x01"  # chunk type and 13 bytes of data, the last replaced
        return png[:12] + ihdr + zlib.crc32(ihdr).to_bytes(4, "big") + png[33:]

    rgb = Image.new("RGB", (40, 30), (10, 200, 30))
    assert render._png_rows(save(rgb))[1:] == (40, 30, 3)
    assert render._png_rows(save(rgb.convert("L")))[1:] == (40, 30, 1)
    for png in (save(rgb.convert("RGBA")), save(rgb.convert("LA")), save(rgb.convert("P")),
                save(rgb.convert("I;16")), interlaced(save(rgb)),
                save(rgb, transparency=(10, 200, 30)), b"not a png", _png("RGB", 0)[:60]):
        assert render._png_rows(png) is None
