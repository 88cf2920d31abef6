"""Self-contained HTML for folium maps: Leaflet and plugin assets inlined from vendored copies.

Planners often work on intranets without internet access, so a map that silently needs a CDN is a
broken map. :func:`inline_assets` replaces every external ``<script src>`` and stylesheet
``<link href>`` that folium writes with the content of a copy vendored in
``redline/maps/vendor`` (see ``vendor/SOURCES.md``); images and fonts those stylesheets reference
become ``data:`` URIs. An external asset that is not vendored is an error rather than a page that
quietly needs the network. Tile layers are not assets: their URLs live in the map's JavaScript
and are left alone, so the caller's basemap choice decides whether the page contacts a tile
server.
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import re
import tempfile
from pathlib import Path
from types import MappingProxyType
from typing import Final

import folium

from redline.errors import RedlineError

__all__ = [
    "VENDORED_ASSETS",
    "VENDOR_DIR",
    "inline_assets",
    "render_html",
    "save_map",
]

logger = logging.getLogger(__name__)

VENDOR_DIR: Final[Path] = Path(__file__).resolve().parent / "vendor"
"""Folder holding the vendored JS/CSS/fonts/images, one sub-folder per ``package@version``."""

_LEAFLET_JS_URL: Final = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"

VENDORED_ASSETS: Final = MappingProxyType(
    {
        _LEAFLET_JS_URL: "leaflet@1.9.3/leaflet.js",
        "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet@1.9.3/leaflet.css",
        "https://code.jquery.com/jquery-3.7.1.min.js": "jquery@3.7.1/jquery.min.js",
        "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
            "bootstrap@5.2.2/js/bootstrap.bundle.min.js"
        ),
        "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
            "bootstrap@5.2.2/css/bootstrap.min.css"
        ),
        "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
            "bootstrap@3.1.1/css/bootstrap-glyphicons.css"
        ),
        "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
            "fontawesome-free@6.2.0/css/all.min.css"
        ),
        (
            "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
            "leaflet.awesome-markers.js"
        ): ("drmonty-leaflet-awesome-markers@2.0.2/leaflet.awesome-markers.js"),
        (
            "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/"
            "leaflet.awesome-markers.css"
        ): ("drmonty-leaflet-awesome-markers@2.0.2/leaflet.awesome-markers.css"),
        (
            "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/"
            "leaflet.awesome.rotate.min.css"
        ): ("folium-awesome-rotate@0.20.0/leaflet.awesome.rotate.min.css"),
        "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": (
            "leaflet.fullscreen@3.0.0/Control.FullScreen.js"
        ),
        "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": (
            "leaflet.fullscreen@3.0.0/Control.FullScreen.css"
        ),
        "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js": (
            "leaflet-measure@2.1.7/leaflet-measure.min.js"
        ),
        "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css": (
            "leaflet-measure@2.1.7/leaflet-measure.css"
        ),
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.js": (
            "leaflet-minimap@3.6.1/Control.MiniMap.min.js"
        ),
        "https://cdnjs.cloudflare.com/ajax/libs/leaflet-minimap/3.6.1/Control.MiniMap.css": (
            "leaflet-minimap@3.6.1/Control.MiniMap.min.css"
        ),
        "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js": (
            "leaflet-search@2.9.7/dist/leaflet-search.min.js"
        ),
        "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css": (
            "leaflet-search@2.9.7/dist/leaflet-search.min.css"
        ),
    }
)
"""External URL written by folium → vendored file (relative to :data:`VENDOR_DIR`)."""

LEAFLET_DEFAULT_ICONS: Final = MappingProxyType(
    {
        "iconUrl": "leaflet@1.9.3/images/marker-icon.png",
        "iconRetinaUrl": "leaflet@1.9.3/images/marker-icon-2x.png",
        "shadowUrl": "leaflet@1.9.3/images/marker-shadow.png",
    }
)
"""Images of Leaflet's default marker, inlined so ``L.Icon.Default`` never guesses a path."""

_MIME_TYPES: Final = MappingProxyType(
    {
        ".png": "image/png",
        ".svg": "image/svg+xml",
        ".gif": "image/gif",
        ".woff2": "font/woff2",
        ".woff": "font/woff",
    }
)

# An element that can make the browser fetch something: a script with src (and an empty body),
# or one of the void/media tags whose src/href is fetched. <a href> is a link, not a fetch.
_ELEMENT_RE: Final = re.compile(
    r"<(?P<tag>script)\b(?P<sattrs>[^>]*)>\s*</script\s*>"
    r"|<(?P<vtag>link|img|iframe|source|embed|video|audio|track|input)\b(?P<attrs>[^>]*)>",
    re.IGNORECASE,
)
_ATTR_RE: Final = re.compile(
    r"""(?P<name>[^\s"'=<>/]+)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'>]+))"""
)
_CSS_URL_RE: Final = re.compile(
    r"""url\(\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^)"'\s]*))\s*\)""",
    re.IGNORECASE,
)
_FONT_FACE_RE: Final = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
_FONT_SRC_RE: Final = re.compile(r"(?P<prop>\bsrc\s*:)(?P<value>[^;}]*)", re.IGNORECASE)
_FONT_SRC_ENTRY_RE: Final = re.compile(
    r"(?:url\([^)]*\)|local\([^)]*\))(?:\s*format\([^)]*\))?(?:\s*tech\([^)]*\))?",
    re.IGNORECASE,
)
_SOURCE_MAP_RE: Final = re.compile(
    r"^[ \t]*(?://[#@] sourceMappingURL=\S*|/\*[#@] sourceMappingURL=\S*\s*\*/)[ \t]*$\n?",
    re.MULTILINE,
)


def inline_assets(html: str) -> str:
    """Replace folium's external scripts and stylesheets by inline copies of vendored files.

    Parameters
    ----------
    html : str
        A rendered folium page (``m.get_root().render()``).

    Returns
    -------
    str
        The same page with every known external ``<script src>`` and stylesheet
        ``<link href>`` replaced by inline ``<script>``/``<style>`` content; images and fonts
        referenced by those stylesheets are ``data:`` URIs. Tile URLs inside the map's
        JavaScript are left alone.

    Raises
    ------
    RedlineError
        If the page references an external script, stylesheet, image or frame that is not
        vendored (see :data:`VENDORED_ASSETS`).

    Examples
    --------
    >>> page = inline_assets(folium.Map(tiles=None).get_root().render())
    >>> "cdn.jsdelivr.net" in page
    False
    """
    inlined = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal inlined
        if match["tag"] is not None:
            src = _attributes(match["sattrs"]).get("src")
            if src is None or not _is_external(src):
                return match[0]
            inlined += 1
            return _script_element(src)
        tag = match["vtag"].lower()
        attributes = _attributes(match["attrs"])
        url = attributes.get("href" if tag == "link" else "src")
        if url is None or not _is_external(url):
            return match[0]
        if tag == "link" and "stylesheet" in attributes.get("rel", "").lower().split():
            inlined += 1
            return _style_element(url)
        raise RedlineError(
            f"The map has a <{tag}> element loading {url!r}, which is not a vendored asset: "
            "the offline page would need the network to load it. Remove it from the map, or "
            "save with offline=False."
        )

    result = _ELEMENT_RE.sub(replace, html)
    logger.debug("Inlined %d external assets; page is %d characters", inlined, len(result))
    return result


def render_html(m: folium.Map, *, offline: bool = True) -> str:
    """The map's page as one HTML string, assets inlined when ``offline``.

    The layer control is rendered last, so that layers a user adds to a redline map after it
    was built are listed too (rendered before them, Leaflet's control fails on the page).

    Parameters
    ----------
    m : folium.Map
        The map to render.
    offline : bool, default True
        Inline every asset (:func:`inline_assets`); ``False`` keeps folium's CDN links.

    Returns
    -------
    str
        A complete HTML document.

    Raises
    ------
    RedlineError
        If ``offline`` is true and the map needs an asset that is not vendored.

    Examples
    --------
    >>> page = render_html(folium.Map(tiles=None))
    >>> page.startswith("<!DOCTYPE html>") and "cdn.jsdelivr.net" not in page
    True
    """
    controls = [key for key, child in m._children.items()
                if isinstance(child, folium.LayerControl)]
    for key in controls:
        m._children.move_to_end(key)
    page = m.get_root().render()
    return inline_assets(page) if offline else page


#: Permissions of a written map: what ``open()`` would give under the process umask.
_umask = os.umask(0)
os.umask(_umask)
_FILE_MODE = 0o666 & ~_umask

def save_map(m: folium.Map, path: str | os.PathLike[str], *, offline: bool = True) -> Path:
    """Write a folium map to one HTML file, atomically.

    Parameters
    ----------
    m : folium.Map
        The map to write.
    path : str or os.PathLike
        Destination file; its folder must exist. An existing file is replaced.
    offline : bool, default True
        Inline every JS/CSS/font/image asset (:func:`inline_assets`) so the page needs no
        network. ``False`` keeps folium's CDN links (a smaller file, for connected notebooks).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    TypeError
        If `m` is not a :class:`folium.Map`.
    RedlineError
        If `offline` is true and the map needs an asset that is not vendored; nothing is
        written then.

    Examples
    --------
    >>> import tempfile
    >>> path = save_map(folium.Map(tiles=None), Path(tempfile.mkdtemp()) / "map.html")
    >>> text = path.read_text(encoding="utf-8")
    >>> path.name, "<script src=" in text, "cdn.jsdelivr.net" in text
    ('map.html', False, False)
    """
    if not isinstance(m, folium.Map):
        raise TypeError(f"save_map expects a folium.Map, got {type(m).__name__}.")
    destination = Path(path)
    html = render_html(m, offline=offline)
    fd, temporary = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
        os.chmod(temporary, _FILE_MODE)  # mkstemp makes the file private to its owner
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    logger.info(
        "Wrote %s map (%d characters) to %s", "offline" if offline else "online", len(html),
        destination,
    )
    return destination


def _attributes(text: str) -> dict[str, str]:
    """Parse the attributes of an HTML start tag (names lower-cased)."""
    return {
        found["name"].lower(): next(
            v for v in (found["dq"], found["sq"], found["bare"]) if v is not None
        )
        for found in _ATTR_RE.finditer(text)
    }


def _is_external(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://", "//"))


def _vendored_path(url: str) -> Path:
    try:
        relative = VENDORED_ASSETS[url.strip()]
    except KeyError:
        raise RedlineError(
            f"The map needs {url!r}, which is not vendored in redline.maps.vendor: the offline "
            "page would need the network to load it. Vendor it with tools/vendor_leaflet.py and "
            "add it to redline.maps.offline.VENDORED_ASSETS, or save with offline=False."
        ) from None
    return VENDOR_DIR / relative


@functools.cache
def _script_element(url: str) -> str:
    """``<script>`` element with the vendored copy of `url` (plus the icon fix after Leaflet)."""
    code = _SOURCE_MAP_RE.sub("", _vendored_path(url).read_text(encoding="utf-8"))
    element = f"<script>{_escape_end_tag(code, 'script')}</script>"
    if url.strip() == _LEAFLET_JS_URL:
        element += f"\n<script>{_leaflet_icon_fix()}</script>"
    return element


@functools.cache
def _style_element(url: str) -> str:
    """``<style>`` element with the vendored stylesheet for `url`, its url() refs inlined."""
    path = _vendored_path(url)
    css = _inline_css(_SOURCE_MAP_RE.sub("", path.read_text(encoding="utf-8")), path)
    return f"<style>{_escape_end_tag(css, 'style')}</style>"


def _leaflet_icon_fix() -> str:
    """JS giving ``L.Icon.Default`` data-URI images, so default markers never fetch a file.

    Leaflet guesses the image folder from leaflet.css's ``url(images/marker-icon.png)``; once
    that is a data URI the guess fails and markers would request ``marker-icon.png`` next to the
    HTML file.
    """
    options = ", ".join(
        f'{option}: "{_data_uri(VENDOR_DIR / relative)}"'
        for option, relative in LEAFLET_DEFAULT_ICONS.items()
    )
    return f'L.Icon.Default.imagePath = ""; L.Icon.Default.mergeOptions({{{options}}});'


def _inline_css(css: str, css_path: Path) -> str:
    """Turn every relative url() in a vendored stylesheet into a data URI."""
    css = _FONT_FACE_RE.sub(lambda block: _prune_font_sources(block[0], css_path), css)

    def replace(match: re.Match[str]) -> str:
        reference = next(v for v in (match["dq"], match["sq"], match["bare"]) if v is not None)
        if reference.startswith(("data:", "#")) or reference == "":
            return match[0]
        return f'url("{_data_uri(_resolve(reference, css_path))}")'

    return _CSS_URL_RE.sub(replace, css)


def _prune_font_sources(block: str, css_path: Path) -> str:
    """Drop @font-face sources whose files are not vendored (only one format is kept).

    Font Awesome lists woff2 and ttf for each face; only woff2 is vendored, which every browser
    able to run Leaflet 1.9 reads.
    """

    def prune(declaration: re.Match[str]) -> str:
        entries = [entry[0] for entry in _FONT_SRC_ENTRY_RE.finditer(declaration["value"])]
        kept = [entry for entry in entries if _font_source_available(entry, css_path)]
        if not kept:
            raise RedlineError(
                f"No font file of {entries} in {css_path.relative_to(VENDOR_DIR)} is vendored; "
                "vendor one of them with tools/vendor_leaflet.py."
            )
        return f"{declaration['prop']}{','.join(kept)}"

    return _FONT_SRC_RE.sub(prune, block)


def _font_source_available(entry: str, css_path: Path) -> bool:
    match = _CSS_URL_RE.search(entry)
    if match is None:  # local(...)
        return True
    reference = next(v for v in (match["dq"], match["sq"], match["bare"]) if v is not None)
    if reference.startswith("data:"):
        return True
    target = (css_path.parent / _strip_query(reference)).resolve()
    return not _is_external(reference) and target.is_file()


def _resolve(reference: str, css_path: Path) -> Path:
    """Vendored file a stylesheet's url() points to; error if external or missing."""
    target = (css_path.parent / _strip_query(reference)).resolve()
    inside = VENDOR_DIR in target.parents
    if _is_external(reference) or not inside or not target.is_file():
        raise RedlineError(
            f"{css_path.relative_to(VENDOR_DIR)} references {reference!r}, which is not a "
            "vendored file: the offline page would need the network to load it. Vendor it "
            "with tools/vendor_leaflet.py."
        )
    return target


def _strip_query(reference: str) -> str:
    return re.split(r"[?#]", reference, maxsplit=1)[0]


@functools.cache
def _data_uri(path: Path) -> str:
    try:
        mime = _MIME_TYPES[path.suffix.lower()]
    except KeyError:
        raise RedlineError(
            f"Vendored file {path.name} has suffix {path.suffix!r}; known suffixes are "
            f"{sorted(_MIME_TYPES)}. Add its MIME type to redline.maps.offline._MIME_TYPES."
        ) from None
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _escape_end_tag(text: str, tag: str) -> str:
    """Keep inline code from closing its element early (``</script`` → ``<\\/script``)."""
    return re.sub(rf"</({tag})", r"<\\/\1", text, flags=re.IGNORECASE)
