"""Vendor the JS/CSS/fonts/images folium's maps load, from the npm registry.

Run by hand (never at test time) after changing folium's version or the plugins redline uses::

    .venv/bin/python tools/vendor_leaflet.py

It runs ``npm pack <package>@<version>`` for each package into a temporary folder, copies only
the files redline's offline maps need (plus each package's licence) into
``src/redline/maps/vendor/<package>@<version>/``, derives the two files that are not published
on npm (see ``DERIVED`` notes), checks that every URL in
``redline.maps.offline.VENDORED_ASSETS`` has its file, and writes ``vendor/SOURCES.md``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from redline.maps.offline import LEAFLET_DEFAULT_ICONS, VENDOR_DIR, VENDORED_ASSETS

logger = logging.getLogger("vendor_leaflet")


@dataclass(frozen=True)
class Package:
    """One npm package: which files of its tarball to vendor, and where."""

    name: str
    version: str
    folder: str
    licence: str
    files: dict[str, str]  # vendored path (inside folder) -> path inside the tarball
    licence_file: str | None
    notes: tuple[str, ...] = field(default=())

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


PACKAGES = (
    Package(
        "leaflet",
        "1.9.3",
        "leaflet@1.9.3",
        "BSD-2-Clause",
        {
            "leaflet.js": "dist/leaflet.js",
            "leaflet.css": "dist/leaflet.css",
            **{
                f"images/{name}": f"dist/images/{name}"
                for name in (
                    "layers.png",
                    "layers-2x.png",
                    "marker-icon.png",
                    "marker-icon-2x.png",
                    "marker-shadow.png",
                )
            },
        },
        "LICENSE",
    ),
    Package(
        "jquery",
        "3.7.1",
        "jquery@3.7.1",
        "MIT",
        {"jquery.min.js": "dist/jquery.min.js"},
        "LICENSE.txt",
    ),
    Package(
        "bootstrap",
        "5.2.2",
        "bootstrap@5.2.2",
        "MIT",
        {
            "css/bootstrap.min.css": "dist/css/bootstrap.min.css",
            "js/bootstrap.bundle.min.js": "dist/js/bootstrap.bundle.min.js",
        },
        "LICENSE",
    ),
    Package(
        "bootstrap",
        "3.1.1",
        "bootstrap@3.1.1",
        "MIT",
        {"fonts/glyphicons-halflings-regular.woff": "dist/fonts/glyphicons-halflings-regular.woff"},
        "LICENSE",
        (
            "folium links netdna's bootstrap 3.0.0 `bootstrap-glyphicons.css`; bootstrap 3.0.0 is "
            "not on npm, so 3.1.1 (the oldest 3.x there) is used.",
            "`css/bootstrap-glyphicons.css` is derived: the `@font-face` (woff only) and the "
            "`.glyphicon*` rules cut from 3.1.1's `dist/css/bootstrap.css`.",
        ),
    ),
    Package(
        "@fortawesome/fontawesome-free",
        "6.2.0",
        "fontawesome-free@6.2.0",
        "CC-BY-4.0 (icons) AND OFL-1.1 (fonts) AND MIT (code)",
        {
            "css/all.min.css": "css/all.min.css",
            **{
                f"webfonts/{name}": f"webfonts/{name}"
                for name in (
                    "fa-brands-400.woff2",
                    "fa-regular-400.woff2",
                    "fa-solid-900.woff2",
                    "fa-v4compatibility.woff2",
                )
            },
        },
        "LICENSE.txt",
        ("Only the woff2 fonts are vendored; the inliner drops the ttf fallbacks.",),
    ),
    Package(
        "drmonty-leaflet-awesome-markers",
        "2.0.2",
        "drmonty-leaflet-awesome-markers@2.0.2",
        "MIT",
        {
            "leaflet.awesome-markers.js": "js/leaflet.awesome-markers.js",
            "leaflet.awesome-markers.css": "css/leaflet.awesome-markers.css",
            **{
                f"images/{name}": f"css/images/{name}"
                for name in (
                    "markers-soft.png",
                    "markers-soft@2x.png",
                    "markers-shadow.png",
                    "markers-shadow@2x.png",
                )
            },
        },
        None,  # the shim package ships no licence file; see AWESOME_MARKERS_LICENCE_SPEC
        (
            "Leaflet.awesome-markers 2.0.2 (what cdnjs serves) is on npm only as this shim "
            "package; its tarball has no licence file, so LICENSE is taken from "
            "`leaflet.awesome-markers@2.0.5` (same author, same MIT licence).",
        ),
    ),
    Package(
        "leaflet.fullscreen",
        "3.0.0",
        "leaflet.fullscreen@3.0.0",
        "MIT",
        {
            "Control.FullScreen.js": "Control.FullScreen.js",
            "Control.FullScreen.css": "Control.FullScreen.css",
            "icon-fullscreen.svg": "icon-fullscreen.svg",
        },
        "LICENSE",
        (
            "folium links jsDelivr's on-the-fly minified `Control.FullScreen.min.js`; the npm "
            "tarball has only the unminified `Control.FullScreen.js`.",
        ),
    ),
    Package(
        "leaflet-measure",
        "2.1.7",
        "leaflet-measure@2.1.7",
        "MIT",
        {
            "leaflet-measure.min.js": "dist/leaflet-measure.min.js",
            "leaflet-measure.css": "dist/leaflet-measure.css",
            **{
                f"images/{name}{suffix}.png": f"dist/images/{name}{suffix}.png"
                for name in ("cancel", "check", "focus", "rulers", "start", "trash")
                for suffix in ("", "_@2X")
            },
        },
        "LICENSE",
        (
            "folium links `leaflet-measure.min.css` from the GitHub tag; the npm tarball has "
            "only the unminified `leaflet-measure.css`.",
        ),
    ),
    Package(
        "leaflet-minimap",
        "3.6.1",
        "leaflet-minimap@3.6.1",
        "BSD-2-Clause",
        {
            "Control.MiniMap.min.js": "dist/Control.MiniMap.min.js",
            "Control.MiniMap.min.css": "dist/Control.MiniMap.min.css",
            "images/toggle.png": "dist/images/toggle.png",
            "images/toggle.svg": "dist/images/toggle.svg",
        },
        "LICENSE.txt",
        ("folium links cdnjs's unminified files; the npm `dist/` minified ones are used.",),
    ),
    Package(
        "leaflet-search",
        "2.9.7",
        "leaflet-search@2.9.7",
        "MIT",
        {
            "dist/leaflet-search.min.js": "dist/leaflet-search.min.js",
            "dist/leaflet-search.min.css": "dist/leaflet-search.min.css",
            "images/loader.gif": "images/loader.gif",
            "images/search-icon.png": "images/search-icon.png",
        },
        "license.txt",
        (
            "The site search box of redline's maps (and folium's `plugins.Search`), the "
            "version folium links; kept in `dist/` beside `images/` as its CSS expects.",
        ),
    ),
)

AWESOME_MARKERS_LICENCE_SPEC = "leaflet.awesome-markers@2.0.5"
ROTATE_FOLDER = "folium-awesome-rotate@0.20.0"


def main() -> None:
    """Vendor every package, derive the extra files, check the URL map, write SOURCES.md."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for child in VENDOR_DIR.glob("*"):
        if child.is_dir():
            shutil.rmtree(child)
    VENDOR_DIR.mkdir(parents=True, exist_ok=True)
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for package in PACKAGES:
            tarball, integrity = _pack(package.spec, Path(scratch))
            with tarfile.open(tarball) as archive:
                folder = VENDOR_DIR / package.folder
                for target, member in package.files.items():
                    _write(folder / target, _member(archive, member))
                if package.licence_file is not None:
                    _write(folder / "LICENSE", _member(archive, package.licence_file))
                if package.spec == "bootstrap@3.1.1":
                    css = _member(archive, "dist/css/bootstrap.css").decode("utf-8")
                    _write(folder / "css/bootstrap-glyphicons.css", _glyphicons(css).encode())
            if package.name == "drmonty-leaflet-awesome-markers":
                licence_tarball, _ = _pack(AWESOME_MARKERS_LICENCE_SPEC, Path(scratch))
                with tarfile.open(licence_tarball) as archive:
                    _write(VENDOR_DIR / package.folder / "LICENSE", _member(archive, "LICENSE"))
            rows.append(_row(package, tarball.name, integrity))
    _write_rotate_css()
    rows.append(_rotate_row())
    _check_assets()
    _write_sources(rows)


def _pack(spec: str, scratch: Path) -> tuple[Path, str]:
    """``npm pack`` one exact version into `scratch`; return the tarball and its integrity."""
    command = ["npm", "pack", spec, "--json", "--pack-destination", str(scratch)]
    logger.info("$ %s", " ".join(command))
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    (info,) = json.loads(result.stdout)
    return scratch / info["filename"], info["integrity"]


def _member(archive: tarfile.TarFile, path: str) -> bytes:
    handle = archive.extractfile(f"package/{path}")
    if handle is None:
        raise FileNotFoundError(f"package/{path} is not a regular file in {archive.name!r}")
    return handle.read()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _glyphicons(bootstrap_css: str) -> str:
    """The Glyphicons part of bootstrap 3's CSS, with a woff-only @font-face."""
    rules = re.findall(r"^\.glyphicon[^{]*\{[^}]*\}", bootstrap_css, flags=re.MULTILINE)
    if len(rules) < 100:
        raise ValueError(f"expected the .glyphicon rules in bootstrap.css, found {len(rules)}")
    font_face = (
        "@font-face {\n  font-family: 'Glyphicons Halflings';\n"
        "  src: url('../fonts/glyphicons-halflings-regular.woff') format('woff');\n}"
    )
    header = (
        "/* Glyphicons rules of Bootstrap v3.1.1 (dist/css/bootstrap.css), MIT licence,"
        " extracted by redline's tools/vendor_leaflet.py */"
    )
    return "\n".join([header, font_face, *rules]) + "\n"


def _write_rotate_css() -> None:
    """folium's leaflet.awesome.rotate CSS: one rotation class per degree (not on npm)."""
    rules = "".join(
        f".fa-rotate-{d}{{-ms-transform:rotate({d}deg);-webkit-transform:rotate({d}deg);"
        f"transform:rotate({d}deg)}}"
        for d in range(1, 361)
    )
    folder = VENDOR_DIR / ROTATE_FOLDER
    _write(folder / "leaflet.awesome.rotate.min.css", (rules + "\n").encode())
    licence = metadata.distribution("folium").read_text("licenses/LICENSE.txt")
    if licence is None:
        raise FileNotFoundError("folium's licenses/LICENSE.txt is not in its dist-info")
    _write(folder / "LICENSE", licence.encode())


def _files_cell(folder: Path) -> str:
    return "<br>".join(
        f"`{path.relative_to(folder).as_posix()}` ({path.stat().st_size:,} B)"
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "LICENSE"
    )


def _replaces_cell(folder: str) -> str:
    return "<br>".join(
        url for url, target in VENDORED_ASSETS.items() if target.startswith(f"{folder}/")
    )


def _row(package: Package, tarball: str, integrity: str) -> str:
    notes = " ".join(package.notes)
    return (
        f"| `{package.name}` | {package.version} | `{tarball}`<br>`{integrity}` | "
        f"{_files_cell(VENDOR_DIR / package.folder)} | {package.licence} | "
        f"{_replaces_cell(package.folder)} | {notes} |"
    )


def _rotate_row() -> str:
    css = (VENDOR_DIR / ROTATE_FOLDER / "leaflet.awesome.rotate.min.css").read_bytes()
    return (
        f"| folium template `leaflet.awesome.rotate.min.css` | folium "
        f"{metadata.version('folium')} | — (generated; sha256 "
        f"`{hashlib.sha256(css).hexdigest()[:16]}…`) | {_files_cell(VENDOR_DIR / ROTATE_FOLDER)}"
        f" | MIT (folium) | {_replaces_cell(ROTATE_FOLDER)} | Not published on npm (it lives in "
        "folium's GitHub repository only): regenerated here as the same 360 `.fa-rotate-N` "
        "rules (N = 1…360 degrees). |"
    )


def _check_assets() -> None:
    expected = [*VENDORED_ASSETS.values(), *LEAFLET_DEFAULT_ICONS.values()]
    missing = [target for target in expected if not (VENDOR_DIR / target).is_file()]
    if missing:
        raise FileNotFoundError(f"VENDORED_ASSETS names files that were not vendored: {missing}")


def _write_sources(rows: list[str]) -> None:
    total = sum(p.stat().st_size for p in VENDOR_DIR.rglob("*") if p.is_file())
    text = "\n".join(
        [
            "# Vendored web assets of redline's offline maps",
            "",
            "Written by `tools/vendor_leaflet.py` (run by hand; never at test time). Each package",
            "was fetched from the npm registry with `npm pack <package>@<version>`, pinned to the",
            "version folium "
            f"{metadata.version('folium')} links, and only the files its offline maps need were",
            "kept, with the package's licence as `LICENSE` in its folder.",
            "`redline.maps.offline.VENDORED_ASSETS` maps each folium URL to its file.",
            "",
            "| package | version | npm tarball / integrity | files | licence | replaces | notes |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Total size of the vendored files (licences included): {total:,} bytes.",
            "",
        ]
    )
    (VENDOR_DIR / "SOURCES.md").write_text(text, encoding="utf-8")
    logger.info("Vendored %d bytes into %s", total, VENDOR_DIR)


if __name__ == "__main__":
    main()
