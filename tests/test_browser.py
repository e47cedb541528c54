"""Headless Chromium (Debian's package, no browser download) opens reports/index.html and
follows every link; a broken link fails the test.

How: the reports folder is served on 127.0.0.1 with a small crawler page added in memory;
``chromium --headless --dump-dom --virtual-time-budget`` loads the crawler, which fetches
``index.html``, parses it, follows every relative link (and the links of every linked page),
and writes the status of each into the page, which the test reads from the dumped DOM.
Skipped, with the reason, when chromium is not installed (``make browser`` installs it).
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from evidence_pack import config
from evidence_pack.publish import build

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian chromium is not installed: `make browser` (as root) installs it")

CRAWLER = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>crawl</title></head>
<body><pre id="out">running</pre><script>
async function crawl() {
  const seen = new Map();
  const queue = [["/index.html", ""]];
  while (queue.length) {
    const [path, from] = queue.shift();
    if (seen.has(path)) continue;
    let status = 0, size = 0, text = "";
    try {
      const r = await fetch(path);
      status = r.status;
      const body = await r.arrayBuffer();
      size = body.byteLength;
      if (r.ok && path.endsWith(".html")) text = new TextDecoder().decode(body);
    } catch (e) { status = "error: " + e; }
    seen.set(path, {status: status, size: size, from: from});
    if (!text) continue;
    const doc = new DOMParser().parseFromString(text, "text/html");
    for (const a of doc.querySelectorAll("a[href]")) {
      const href = a.getAttribute("href");
      if (/^(https?:|mailto:|#)/i.test(href)) continue;
      const target = new URL(href, location.origin + path);
      if (target.origin !== location.origin) continue;
      if (!seen.has(target.pathname)) queue.push([target.pathname, path]);
    }
  }
  document.getElementById("out").textContent = "RESULT" + JSON.stringify([...seen]);
}
crawl();
</script></body></html>"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path == "/__crawl__.html":
            body = CRAWLER.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def end_headers(self):
        # every crawl serves another folder, maybe on a port an earlier crawl used: Chromium
        # (one profile for all) must not answer from its cache
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args):
        pass


def chromium(*args: str, timeout: int = 180) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-dev-shm-usage", "--user-data-dir=/tmp/evidence-pack-chromium", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return done.stdout


def crawl(site: Path) -> dict[str, dict]:
    """Every page and file reachable from ``site/index.html``: path -> {status, size, from}."""
    handler = functools.partial(_Handler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/__crawl__.html"
        dom = chromium("--virtual-time-budget=60000", "--dump-dom", url)
    finally:
        server.shutdown()
        server.server_close()
    m = re.search(r'<pre id="out">RESULT(.*?)</pre>', dom, re.DOTALL)
    assert m, f"the crawler did not finish in chromium: {dom[:500]!r}"
    return {path: info for path, info in json.loads(html.unescape(m.group(1)))}


def broken(found: dict[str, dict]) -> list[str]:
    return [f"{p} (status {i['status']}, linked from {i['from'] or 'start'})"
            for p, i in found.items() if i["status"] != 200 or i["size"] == 0]


def test_crawler_catches_a_broken_link(tmp_path):
    (tmp_path / "index.html").write_text('<a href="a/ok.html">ok</a> <a href="a/missing.pdf">x</a>')
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "ok.html").write_text('<a href="../index.html">back</a>')
    found = crawl(tmp_path)
    assert set(found) == {"/index.html", "/a/ok.html", "/a/missing.pdf"}
    assert broken(found) == ["/a/missing.pdf (status 404, linked from /index.html)"]


@pytest.mark.slow
def test_built_pack_index_opens_and_every_link_works(tmp_path):
    from test_build import AREAS, FLAKY, GOOD, write_notebook

    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    write_notebook(nbdir / "good.ipynb", GOOD)
    write_notebook(nbdir / "flaky.ipynb", FLAKY)
    (tmp_path / "areas.yml").write_text(AREAS)
    reports = tmp_path / "reports"
    rep = build.build(areas_file=tmp_path / "areas.yml", notebooks_dir=nbdir, reports_dir=reports,
                      build_dir=tmp_path / "build", jobs=1, pdf=True, progress=False,
                      code_globs=())
    assert list(rep.failures) == ["b-two/flaky"]
    dom = chromium("--dump-dom", (reports / "index.html").as_uri())
    assert "Reports by area" in dom and "<table" in dom
    found = crawl(reports)
    assert not broken(found), broken(found)
    expected = {f"/{a}/good.{x}" for a in ("borough", "a-one", "b-two") for x in ("html", "pdf")}
    expected |= {f"/{a}/flaky.{x}" for a in ("borough", "a-one") for x in ("html", "pdf")}
    assert expected <= set(found)
    assert "/b-two/flaky.html" not in found  # a failed report is not linked


def test_published_reports_index():
    index = config.REPORTS_DIR / "index.html"
    if not index.exists():
        pytest.skip("no reports/index.html: run `make pack` (evidence-pack build) first")
    found = crawl(config.REPORTS_DIR)
    assert len(found) > 1, "the index links no reports"
    assert not broken(found), broken(found)
