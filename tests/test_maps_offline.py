"""Tests of redline.maps.offline: inlined assets, checked as HTML and in headless Chromium."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import folium
import pytest
from folium import plugins

from browser import open_page
from redline.errors import RedlineError
from redline.maps import inline_assets, offline, save_map
from redline.maps.offline import LEAFLET_DEFAULT_ICONS, VENDOR_DIR, VENDORED_ASSETS

POLYGON = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Site A 甲", "verdict": "conditional"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[125.0, 43.5], [125.2, 43.5], [125.2, 43.7], [125.0, 43.7]]],
            },
        }
    ],
}
# A local stand-in for an intranet tile server: every tile is this PNG, no request leaves.
LOCAL_TILE = (
    "data:image/png;base64,"
    + base64.b64encode((VENDOR_DIR / "leaflet@1.9.3/images/layers.png").read_bytes()).decode()
)


def full_map(*, minimap: bool = True) -> folium.Map:
    """A map with every asset redline's maps use: plugins, GeoJSON tooltip/popup, markers."""
    m = folium.Map(location=[43.6, 125.1], zoom_start=9, tiles=None)
    sites = folium.FeatureGroup(name="sites").add_to(m)
    polygons = folium.GeoJson(
        POLYGON,
        name="polygons",
        tooltip=folium.GeoJsonTooltip(["name", "verdict"]),
        popup=folium.GeoJsonPopup(["name", "verdict"]),
    ).add_to(sites)
    folium.Marker([43.55, 125.05], tooltip="default icon").add_to(sites)
    folium.Marker([43.65, 125.15], icon=folium.Icon(icon="info-sign")).add_to(sites)
    folium.Marker([43.6, 125.25], icon=folium.Icon(icon="star", prefix="fa", angle=30)).add_to(
        sites
    )
    plugins.Fullscreen().add_to(m)
    plugins.MeasureControl().add_to(m)
    plugins.Search(layer=polygons, search_label="name").add_to(m)
    if minimap:
        plugins.MiniMap(tile_layer=folium.TileLayer(LOCAL_TILE, attr="local")).add_to(m)
    folium.LayerControl().add_to(m)
    return m


class _UrlAttributes(HTMLParser):
    """Collects (tag, attribute, value) of every src/href attribute outside script bodies."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [(tag, k, v) for k, v in attrs if k in {"src", "href"} and v is not None]


def url_attributes(html: str) -> list[tuple[str, str, str]]:
    parser = _UrlAttributes()
    parser.feed(html)
    return parser.found


def vendored_files() -> set[str]:
    return {
        p.relative_to(VENDOR_DIR).as_posix()
        for p in VENDOR_DIR.rglob("*")
        if p.is_file() and p.name not in {"LICENSE", "SOURCES.md"}
    }


@pytest.fixture(scope="module")
def pages() -> tuple[str, str]:
    """The full map's HTML as folium renders it, and inlined."""
    raw = full_map().get_root().render()
    return raw, inline_assets(raw)


def test_inlined_page_has_no_remote_src_or_href(pages: tuple[str, str]) -> None:
    raw, inlined = pages
    remote = [found for found in url_attributes(raw) if found[2].startswith("http")]
    assert len(remote) == len(VENDORED_ASSETS)  # the map exercises every vendored URL
    assert [found for found in url_attributes(inlined) if "http" in found[2]] == []


def test_every_vendored_file_is_used(pages: tuple[str, str]) -> None:
    raw, inlined = pages
    text_files = set(VENDORED_ASSETS.values())
    binary_files = vendored_files() - text_files
    assert binary_files >= set(LEAFLET_DEFAULT_ICONS.values())
    for url, relative in VENDORED_ASSETS.items():
        assert url in raw and url not in inlined
        content = (VENDOR_DIR / relative).read_text(encoding="utf-8")
        longest_run = max(re.split(r"url\([^)]*\)", content), key=len)[:200]
        assert longest_run in inlined, relative
    for relative in sorted(binary_files):
        encoded = base64.b64encode((VENDOR_DIR / relative).read_bytes()).decode()
        assert encoded in inlined, f"{relative} is vendored but not used"


def test_css_references_become_typed_data_uris(pages: tuple[str, str]) -> None:
    _, inlined = pages
    for mime in ("image/png", "image/svg+xml", "font/woff2", "font/woff"):
        assert f'url("data:{mime};base64,' in inlined
    assert ".ttf" not in inlined  # non-vendored font fallbacks are dropped
    assert "sourceMappingURL" not in inlined
    assert "url(#default#VML)" in inlined  # fragment references are left alone


def test_every_vendor_folder_has_licence_and_source_entry() -> None:
    sources = (VENDOR_DIR / "SOURCES.md").read_text(encoding="utf-8")
    folders = [p for p in VENDOR_DIR.iterdir() if p.is_dir()]
    assert len(folders) == 11
    for folder in folders:
        assert (folder / "LICENSE").stat().st_size > 500, folder.name
    for url in VENDORED_ASSETS:
        assert url in sources
    size = sum(p.stat().st_size for p in VENDOR_DIR.rglob("*") if p.is_file())
    assert size < 3_000_000


def test_unknown_external_script_is_refused() -> None:
    figure = folium.Figure()
    folium.Map(tiles=None).add_to(figure)
    figure.header.add_child(folium.JavascriptLink("https://example.com/plugin.js"))
    with pytest.raises(RedlineError, match=r"https://example\.com/plugin\.js.*not vendored"):
        inline_assets(figure.render())


@pytest.mark.parametrize(
    ("html", "url"),
    [
        ('<link rel="stylesheet" href="//example.com/a.css"/>', "//example.com/a.css"),
        ('<img src="http://example.com/logo.png">', "http://example.com/logo.png"),
        ('<link rel="icon" href="https://example.com/f.ico">', "https://example.com/f.ico"),
    ],
)
def test_unknown_external_fetch_is_refused(html: str, url: str) -> None:
    with pytest.raises(RedlineError, match=re.escape(url)):
        inline_assets(html)


def test_local_references_links_and_tile_urls_are_left_alone() -> None:
    html = (
        '<script src="local.js"></script><a href="https://example.com">x</a>'
        '<img src="data:image/png;base64,AAAA">'
    )
    assert inline_assets(html) == html
    osm = folium.Map(tiles="OpenStreetMap").get_root().render()
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in inline_assets(osm)


def test_inline_code_cannot_close_its_element() -> None:
    assert offline._escape_end_tag('s = "</SCRIPT>";', "script") == 's = "<\\/SCRIPT>";'


def test_save_map_writes_atomically(tmp_path: Path) -> None:
    written = save_map(full_map(minimap=False), tmp_path / "map.html")
    assert written == tmp_path / "map.html"
    html = written.read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net" not in html and "L.Icon.Default.imagePath" in html
    online = save_map(full_map(minimap=False), tmp_path / "online.html", offline=False)
    assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in online.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html", "online.html"]
    plain = tmp_path / "plain.html"
    plain.write_text("", encoding="utf-8")  # the mode any other output file gets
    assert written.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_save_map_writes_nothing_when_an_asset_is_missing(tmp_path: Path) -> None:
    figure = folium.Figure()
    m = folium.Map(tiles=None)
    m.add_to(figure)
    figure.header.add_child(folium.CssLink("https://example.com/theme.css"))
    with pytest.raises(RedlineError, match=r"theme\.css"):
        save_map(m, tmp_path / "map.html")
    assert list(tmp_path.iterdir()) == []


def test_save_map_rejects_non_maps(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"expects a folium\.Map, got str"):
        save_map("<html></html>", tmp_path / "map.html")  # type: ignore[arg-type]


@pytest.mark.browser
def test_offline_map_needs_no_network_in_chromium(tmp_path: Path) -> None:
    path = save_map(full_map(), tmp_path / "map.html")
    with open_page(path) as session:
        page = session.page
        controls = page.evaluate(
            """() => ['.leaflet-control-zoom-fullscreen', '.leaflet-control-measure',
                      '.leaflet-control-minimap', '.leaflet-control-layers']
                     .map(s => document.querySelectorAll(s).length)"""
        )
        assert controls == [1, 1, 1, 1]
        assert page.evaluate("L.version") == "1.9.3"
        icons = page.evaluate(
            "[...document.querySelectorAll('img.leaflet-marker-icon')].map(i => i.src)"
        )
        assert len(icons) == 1 and icons[0].startswith("data:image/png;base64,")
        assert page.locator(".awesome-marker-icon-blue").count() == 2
        fonts = page.evaluate(
            "document.fonts.ready.then(() => [...document.fonts]"
            ".filter(f => f.status !== 'unloaded').map(f => [f.family, f.status]))"
        )
        assert sorted(fonts) == [
            ["Font Awesome 6 Free", "loaded"],
            ["Glyphicons Halflings", "loaded"],
        ]
        page.locator("path.leaflet-interactive").first.click()
        assert "Site A 甲" in page.locator(".leaflet-popup-content").inner_text()
        shot = session.screenshot(tmp_path / "map.png")
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert session.external_requests == []
        assert session.errors == []
        assert any(url.startswith("file:") for url in session.requests)


@pytest.mark.browser
def test_browser_helper_records_remote_requests(tmp_path: Path) -> None:
    path = save_map(full_map(minimap=False), tmp_path / "online.html", offline=False)
    with open_page(path, ready="() => document.readyState === 'complete'") as session:
        assert "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js" in (
            session.external_requests
        )
        assert session.page.evaluate("typeof window.L") == "undefined"
        assert any("ERR_INTERNET_DISCONNECTED" in error for error in session.errors)
