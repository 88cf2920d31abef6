"""Render docs/images/conflict-map.png: the sample conflict map in headless Chromium.

Run from the repository root: ``.venv/bin/python tools/make_conflict_map.py`` (needs Debian
``chromium`` and ``fonts-noto-cjk``, Playwright and Pillow).
"""

import sys
import tempfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, "tests")
import redline
from browser import open_page
from redline import datasets
from redline.io import read_layer
from redline.maps import save_map

OUT = Path("docs/images/conflict-map.png")
CENTRE, ZOOM, HOVER = (43.55, 124.95), 7, "JL-0015"  # the province right of the legend

result = redline.screen(read_layer(datasets.get_path("sites")))
work = Path(tempfile.mkdtemp())
html = save_map(result.map(basemap=None), work / "map.html")
with open_page(html, viewport=(1280, 760)) as session:
    page = session.page
    # headless Chromium never ends the first zoom animation: reset the view instead
    page.evaluate(
        f"""() => {{ const m = window.redline.map; m._animatingZoom = false;
        m.setView([{CENTRE[0]}, {CENTRE[1]}], {ZOOM}, {{reset: true}}); }}"""
    )
    page.wait_for_timeout(800)
    point = page.evaluate(
        """(site) => { const S = window.redline.sites, i = S.data.c.i.indexOf(site);
        const p = window.redline.map.latLngToContainerPoint(S.points[i]);
        return [p.x, p.y]; }""",
        HOVER,
    )
    page.mouse.move(*point)  # show the site's tooltip
    page.wait_for_timeout(600)
    assert not session.errors and not session.external_requests
    raw = session.screenshot(work / "raw.png")
# 256 colours (octree keeps the legend colours exact enough), ~130 KB instead of ~450 KB
Image.open(raw).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(
    OUT, optimize=True
)
print(OUT, OUT.stat().st_size, "bytes")
