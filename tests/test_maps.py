"""Tests of redline.maps.render / style: the rendered HTML without a browser, then the offline
map of the sample screening in headless Chromium."""

from __future__ import annotations

import dataclasses
import html
import json
import re
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import polyline
import pytest
import shapely

from browser import open_page
from conftest import inside
from redline import schema, screen
from redline.crs import WORKING_CRS
from redline.errors import CRSError, LayerError, RedlineWarning
from redline.maps import (
    LAYER_LABELS,
    LEGEND_CLASS,
    MIN_SITE_PX,
    PALETTES,
    PLANNING_ORDER,
    map_iframe,
    notebook_html,
    planning_map,
    render_html,
    save_map,
    screening_map,
)
from redline.maps.style import legend_html, value_label_zh
from redline.planning import Planning
from redline.screening import Screening

AMAP = "https://webrd01.is.autonavi.com/appmaptile?lang=zh_cn&style=8&x={x}&y={y}&z={z}"
INTRANET = "http://10.20.30.40:8080/tiles/cgcs2000/{z}/{x}/{y}.png"


# -- helpers -------------------------------------------------------------------------------------
def render(m: Any) -> str:
    return m.get_root().render()


def _decode_after(page: str, marker: str) -> Any:
    """The JSON value that follows `marker` in the page (first ``{`` or ``"`` after it)."""
    start = page.index(marker) + len(marker)
    start += min(
        i for i in (page.find("{", start) - start, page.find('"', start) - start) if i >= 0
    )
    value, _ = json.JSONDecoder().raw_decode(page, start)
    return value


def _geometry(text: str | None) -> dict[str, Any] | None:
    """A compact geometry string as GeoJSON, decoded with the ``polyline`` package."""
    if text is None:
        return None
    found: list[shapely.Geometry] = []
    for part in text.split(";"):
        pieces = [[(lon, lat) for lat, lon in polyline.decode(p, 6)] for p in part[1:].split(" ")]
        if part[0] == "P":
            found.append(shapely.Polygon(pieces[0], pieces[1:]))
        elif part[0] == "L":
            found.append(shapely.LineString(pieces[0]))
        else:
            found.append(shapely.Point(pieces[0][0]))
    geometry = found[0] if len(found) == 1 else shapely.GeometryCollection(found)
    if all(g.geom_type == "Polygon" for g in found) and len(found) > 1:
        geometry = shapely.MultiPolygon(found)
    return json.loads(shapely.to_geojson(geometry))


def _features(data: dict[str, Any]) -> dict[str, Any]:
    """Compact columns and geometries as a GeoJSON-like FeatureCollection."""
    features = []
    for i, geometry in enumerate(data["g"]):
        props = {}
        for name, values in data["c"].items():
            value = values[i]
            table = data["d"].get(name)
            props[name] = table[value] if table is not None and value is not None else value
        features.append({"geometry": _geometry(geometry), "properties": props})
    return {"features": features}


def layer_data(page: str, name: str) -> dict[str, Any]:
    """The features of layer `name` as embedded in the page (``sites`` and ``findings``
    from the sites data)."""
    if name in ("sites", "findings"):
        data = _decode_after(page, "redline.addSites(")
        if name == "sites":
            return _features(data)
        # an overlap of a code alone is the whole site: its outline
        overlaps = [o if len(o) > 1 else o + data["g"][i]
                    for i, found in enumerate(data["o"]) if found for o in found.split(",")]
        return {
            "features": [
                {"geometry": _geometry(o[1:]), "properties": {"k": data["os"][int(o[0])]}}
                for o in overlaps
            ]
        }
    marker = f'redline.addLayer("{name}",'
    start = page.index(marker) + len(marker)
    value, _ = json.JSONDecoder().raw_decode(page, page.index("{", start))
    return _features(value)


def config(page: str) -> dict[str, Any]:
    return _decode_after(page, "redline.init(")


def legend(page: str) -> str:
    return _decode_after(page, "redline.legend(")


def drawn(feature: dict[str, Any]) -> shapely.Geometry:
    """A feature's drawn geometry back in the working CRS."""
    geom = shapely.from_geojson(json.dumps(feature["geometry"]))
    return gpd.GeoSeries([geom], crs=4326).to_crs(WORKING_CRS).iloc[0]


@pytest.fixture(scope="module")
def sample_page(sample_screening: Screening) -> str:
    return render(screening_map(sample_screening))


@pytest.fixture(scope="module")
def world_screening(world: Planning) -> Screening:
    """Three sites on the hand-built world: in the reserve core (prohibited), in the level-1
    water source, and one without geometry (not assessed)."""
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["core", "ws1", "nothing"],
            "name": ["<img src=x onerror=alert(1)>", "水源 & 'quotes'", "无几何"],
        },
        geometry=[inside("core"), inside("ws1"), None],
        crs=WORKING_CRS,
    )
    return screen(sites, world)


@pytest.fixture(scope="module")
def world_page(world_screening: Screening) -> str:
    return render(screening_map(world_screening))


# -- layers, colours, legend ---------------------------------------------------------------------
def test_every_layer_group_is_named_in_the_layer_control(sample_page: str) -> None:
    for label in LAYER_LABELS.values():
        assert json.dumps(label) in sample_page, label  # as folium writes it: \u escapes
    assert "L.control.layers(" in sample_page


def test_every_verdict_has_its_own_colour_and_not_assessed_is_loud(sample_page: str) -> None:
    styles = {v: entry["style"] for v, entry in config(sample_page)["palettes"]["sites"].items()}
    assert set(styles) == set(schema.VERDICTS)
    fills = [styles[v]["fillColor"] for v in schema.VERDICTS]
    assert len(set(fills)) == len(fills)
    for colour in fills:
        assert colour in sample_page
    loud = styles["not_assessed"]
    r, g, b = (int(loud["fillColor"][i : i + 2], 16) for i in (1, 3, 5))
    assert r == g == b  # grey, never green
    assert loud["dashArray"] and loud["weight"] >= max(
        s["weight"] for v, s in styles.items() if v != "not_assessed"
    )


def test_features_are_styled_by_their_category(
    sample_page: str, sample_screening: Screening
) -> None:
    sites = layer_data(sample_page, "sites")["features"]
    expected_sites = sample_screening.sites.set_index("site_id")["verdict"]
    assert len(sites) == len(expected_sites)
    assert {f["properties"]["i"]: f["properties"]["k"] for f in sites} == expected_sites.to_dict()
    # mildest drawn first, so the strictest verdicts lie on top
    ranks = [schema.severity_rank(f["properties"]["k"]) for f in sites]
    assert ranks == sorted(ranks, reverse=True)
    reserves = layer_data(sample_page, "reserves")["features"]
    expected = sample_screening.planning["reserves"]["zone"].tolist()
    assert [f["properties"]["k"] for f in reserves] == expected
    zoning = {f["properties"]["k"] for f in layer_data(sample_page, "zoning")["features"]}
    assert zoning <= set(PALETTES["zoning"])
    assert "restricted.agricultural" in zoning and "restricted.ecological" in zoning


def test_every_canonical_value_has_a_swatch() -> None:
    assert set(schema.ZONES) <= set(PALETTES["zoning"])
    assert set(schema.RESERVE_ZONES) == set(PALETTES["reserves"])
    assert set(schema.WATER_LEVELS) == set(PALETTES["water_sources"])
    assert set(schema.CORRIDOR_CLASSES) == set(PALETTES["corridors"])
    assert set(schema.LAYER_SPECS["boundary"].required["level"] or ()) == set(PALETTES["boundary"])
    assert set(schema.VERDICTS) == set(PALETTES["sites"])
    assert set(schema.SEVERITIES) == set(PALETTES["findings"])


def test_legend_is_bilingual_and_lists_every_colour_drawn(sample_page: str) -> None:
    assert f'"{LEGEND_CLASS} leaflet-control"' in sample_page
    text = legend(sample_page)
    for verdict in schema.VERDICTS:
        swatch = PALETTES["sites"][verdict]
        assert f"{schema.VERDICT_LABELS[verdict]} {swatch.label_en}" in text
    assert "禁止 prohibited" in text and "核心区 core zone" in text
    assert "一级保护区 level-1 protection zone" in text
    for name in ("zoning", "reserves", "water_sources", "boundary", "corridors"):
        keys = {f["properties"]["k"] for f in layer_data(sample_page, name)["features"]}
        for key in keys:
            assert PALETTES[name][key].label in text, (name, key)
    counts = legend_html({"sites": schema.VERDICTS}, title="t", counts={"prohibited": 1234})
    assert "禁止 prohibited (1,234)" in counts


def test_legend_leaves_out_categories_not_drawn() -> None:
    text = legend_html({"reserves": {"core"}}, title="x")
    assert "核心区" in text and "缓冲区" not in text and "Proposed sites" not in text


def test_value_labels_come_from_the_schema() -> None:
    assert value_label_zh("zoning", "zone", "prohibited") == "禁止开发区域"
    assert value_label_zh("water_sources", "level", "quasi") == "准保护区"


# -- sites, findings, popups ---------------------------------------------------------------------
def test_site_popup_data_carries_each_finding(world_page: str, world_screening: Screening) -> None:
    sites = {
        f["properties"]["i"]: f["properties"] for f in layer_data(world_page, "sites")["features"]
    }
    assert set(sites) == {"core", "ws1"}  # the site without geometry is not drawn
    rules = config(world_page)["rules"]
    core = sites["core"]
    assert core["k"] == "prohibited"
    titles = [rules[row[0]]["t"] for row in core["f"]]
    assert titles[0].startswith("NR-CORE")
    rule, severity, overlap_m2, overlap_m, share, distance_m, feature = core["f"][0]
    assert schema.SEVERITIES[severity] == "prohibited"
    # a 200 m × 200 m site wholly inside the core zone (share in 1/10,000)
    assert (overlap_m2, overlap_m, share, distance_m) == (40_000, 0.0, 10_000, 0.0)
    assert config(world_page)["strings"][feature] == "核心区"
    clause = world_screening.sites.set_index("site_id").loc["core", "decisive_clause"]
    assert rules[rule]["c"] == clause
    nothing = world_screening.sites.set_index("site_id").loc["nothing"]
    assert nothing["verdict"] == "not_assessed"


def test_texts_are_html_escaped(world_page: str) -> None:
    assert "<img src=x" not in world_page
    assert "&lt;img src=x onerror=alert(1)&gt;" in world_page
    assert "水源 &amp; &#x27;quotes&#x27;" in world_page


def test_sites_without_geometry_are_named_in_the_legend(world_page: str) -> None:
    assert "1 sites have no drawable geometry and are not shown: nothing" in legend(world_page)


def test_finding_overlaps_are_drawn_on_top_strictest_last(
    world_page: str, world_screening: Screening
) -> None:
    findings = layer_data(world_page, "findings")["features"]
    severities = [f["properties"]["k"] for f in findings]
    ranks = [schema.severity_rank(s) for s in severities]
    assert ranks == sorted(ranks, reverse=True)
    core_site = world_screening.sites.set_index("site_id").loc["core", "geometry"]
    core_overlap = next(f for f in findings if f["properties"]["k"] == "prohibited")
    assert shapely.hausdorff_distance(drawn(core_overlap), core_site) < 0.15  # rounding only
    # the core site lies wholly inside the feature it overlaps: its overlap is its own outline,
    # sent as the severity's code alone
    data = _decode_after(world_page, "redline.addSites(")
    found = world_screening.findings.query("site_id == 'core' and overlap_m2 > 0")
    assert (found["overlap_share"] > 1 - 1e-9).all()
    assert data["o"][data["c"]["i"].index("core")] == str(data["os"].index("prohibited"))


def test_a_site_wholly_inside_several_features_sends_its_outline_once(
    sample_screening: Screening,
) -> None:
    """Findings whose overlap is the whole site (inside a red line, a reserve's core, forest
    land, …) are drawn as the site's outline once, in the strictest severity."""
    found = sample_screening.findings
    whole = found[(found["overlap_share"] > 1 - 1e-9) & (found["overlap_m2"] > 0)]
    counts = whole.groupby("site_id")["severity"].agg(["size", "nunique"])
    site_id = counts[(counts["size"] >= 3) & (counts["nunique"] >= 2)].index[0]
    data = _decode_after(render(screening_map(sample_screening)), "redline.addSites(")
    codes = data["o"][data["c"]["i"].index(site_id)].split(",")
    strictest = min(whole.loc[whole["site_id"] == site_id, "severity"],
                    key=schema.severity_rank)
    assert str(data["os"].index(strictest)) in codes
    assert sum(len(c) == 1 for c in codes) == 1  # the outline once, not once per finding


def test_display_simplification_stays_within_tolerance(sample_screening: Screening) -> None:
    reserves = sample_screening.planning["reserves"]
    page = render(screening_map(sample_screening, kinds=["reserves"], simplify_m=50.0))
    features = layer_data(page, "reserves")["features"]
    shown = [drawn(f) for f in features]
    original = list(reserves.geometry)
    # Douglas-Peucker keeps removed vertices within the tolerance, except GEOS's ring-endpoint
    # step, which can exceed it a little: the documented bound is 1.5 x simplify_m.
    distance = shapely.hausdorff_distance(original, shown)
    assert distance.max() < 1.5 * 50.0 and np.median(distance) <= 50.0
    assert sum(shapely.get_num_coordinates(shown)) < sum(shapely.get_num_coordinates(original))
    exact = layer_data(
        render(screening_map(sample_screening, kinds=["reserves"], simplify_m=0)), "reserves"
    )["features"]
    assert sum(shapely.get_num_coordinates([drawn(f) for f in exact])) == sum(
        shapely.get_num_coordinates(original)
    )


def test_coordinates_are_rounded_to_six_decimals(sample_page: str) -> None:
    data = json.dumps(layer_data(sample_page, "farmland"))
    numbers = re.findall(r"-?\d+\.(\d+)", data)
    assert numbers and max(len(n) for n in numbers) <= 6


def test_kinds_selects_planning_layers(sample_screening: Screening) -> None:
    page = render(screening_map(sample_screening, kinds=["reserves"]))
    assert LAYER_LABELS["reserves"] in page and LAYER_LABELS["zoning"] not in page
    with pytest.raises(LayerError, match=r"unknown map layer kinds \['rivers'\]"):
        screening_map(sample_screening, kinds=["rivers"])
    with pytest.raises(TypeError, match="not the string"):
        screening_map(sample_screening, kinds="reserves")


def test_absent_kinds_are_refused(make_planning: Any) -> None:
    with pytest.raises(LayerError, match=r"no \['farmland'\] layer\(s\) to draw"):
        planning_map(make_planning(farmland=None), kinds=["farmland", "reserves"])


def test_a_screening_without_findings(world: Planning) -> None:
    sites = gpd.GeoDataFrame(
        {"site_id": ["empty"]}, geometry=[shapely.box(0, 0, 1_000, 1_000)], crs=WORKING_CRS
    )
    page = render(screening_map(screen(sites, world)))
    (site,) = layer_data(page, "sites")["features"]
    assert site["properties"]["k"] == "clear" and site["properties"]["f"] == []
    assert layer_data(page, "findings")["features"] == [] and config(page)["rules"] == []


def test_clear_sites_can_be_drawn_as_dots_only(world: Planning) -> None:
    sites = gpd.GeoDataFrame(
        {"site_id": ["empty", "core"]},
        geometry=[shapely.box(0, 0, 1_000, 1_000), inside("core")],
        crs=WORKING_CRS,
    )
    result = screen(sites, world)
    outlined = layer_data(render(screening_map(result)), "sites")["features"]
    assert all(f["geometry"] is not None for f in outlined)  # few sites: outlines by default
    page = render(screening_map(result, clear_as_points=True))
    shapes = {f["properties"]["i"]: f["geometry"] for f in layer_data(page, "sites")["features"]}
    assert shapes["empty"] is None and shapes["core"] is not None
    assert "drawn as dots" in legend(page)


def test_small_sites_get_a_dot_until_they_span_ten_pixels(world: Planning) -> None:
    """The zoom from which a 1 km square spans 10 px on screen, by the ground resolution of
    Web Mercator tiles (156,543.03 m per pixel at zoom 0 on the equator, times cos(lat))."""
    square_m = 1_000.0
    sites = gpd.GeoDataFrame(
        {"site_id": ["a"]}, geometry=[shapely.box(0, 0, square_m, square_m)], crs=WORKING_CRS
    )
    page = render(screening_map(screen(sites, world)))
    data = _decode_after(page, "redline.addSites(")
    lat = sites.to_crs(4326).geometry.iloc[0].centroid.y
    metres_per_pixel_z0 = 156_543.03 * np.cos(np.radians(lat))
    expected = int(np.ceil(np.log2(MIN_SITE_PX * metres_per_pixel_z0 / square_m)))
    assert data["b"] == [expected]
    point = sites.assign(geometry=[shapely.Point(500, 500)])
    assert _decode_after(render(screening_map(screen(point, world))), "redline.addSites(")[
        "b"
    ] == [99]  # a point site is always a dot


def test_known_verdict_and_declared_absent_kinds_are_shown(
    world_screening: Screening, make_planning: Any
) -> None:
    sites = world_screening.sites.assign(
        known_verdict=[None, None, "prohibited"], geometry=world_screening.sites.geometry
    )
    sites.loc[2, "geometry"] = inside("ws1")
    planning = make_planning()
    planning.absent = frozenset({"reserves"})  # Planning(absent=...) from the onemaps work
    result = dataclasses.replace(world_screening, sites=sites, planning=planning)
    page = render(screening_map(result))
    shown = {f["properties"]["i"]: f["properties"] for f in layer_data(page, "sites")["features"]}
    assert shown["nothing"]["k"] == "not_assessed" and shown["nothing"]["kv"] == "prohibited"
    assert shown["core"]["kv"] is None
    text = legend(page)
    assert "声明不存在的图层 Declared absent" in text
    assert f"{schema.LAYER_SPECS['reserves'].label_zh} " in text.split("Declared absent")[1]


def test_every_styled_kind_is_drawn_and_has_a_legend_heading() -> None:
    styled = {kind for kind in PALETTES if kind in schema.VECTOR_KINDS}
    assert styled <= set(PLANNING_ORDER)
    assert set(PLANNING_ORDER) <= set(LAYER_LABELS)
    assert PLANNING_ORDER[0] == "zoning" and PLANNING_ORDER[-1] == "boundary"


def test_title_names_the_planning_and_the_ruleset(
    sample_page: str, sample_screening: Screening
) -> None:
    rules = sample_screening.rules
    source = f"{rules.id} {rules.version}"
    assert source in config(sample_page)["title"] and source in legend(sample_page)
    assert html.escape(sample_screening.planning.name) in config(sample_page)["title"]


def test_not_assessed_sites_carry_their_reason(
    sample_page: str, sample_screening: Screening
) -> None:
    reasons = sample_screening.sites.set_index("site_id")["not_assessed_reason"].dropna()
    assert len(reasons)
    shown = {
        f["properties"]["i"]: f["properties"] for f in layer_data(sample_page, "sites")["features"]
    }
    for site_id, reason in reasons.items():
        assert shown[site_id]["k"] == "not_assessed" and shown[site_id]["r"] == reason


def test_bad_simplify_tolerance_is_refused(sample_screening: Screening) -> None:
    with pytest.raises(LayerError, match="simplify_m must be a finite number"):
        screening_map(sample_screening, simplify_m=-1)


def test_sites_without_crs_need_crs(world_screening: Screening) -> None:
    bare = world_screening.sites.copy()
    bare.geometry.values.crs = None
    result = dataclasses.replace(world_screening, sites=bare)
    with pytest.raises(CRSError, match="declares no CRS"):
        screening_map(result)
    page = render(screening_map(result, crs=WORKING_CRS))
    assert len(layer_data(page, "sites")["features"]) == 2


def test_view_fits_the_sites(world_page: str, world_screening: Screening) -> None:
    (lon0, lat0, lon1, lat1) = world_screening.sites.to_crs(4326).total_bounds
    match = re.search(r"fitBounds\(\s*(\[\[.*?\]\])", world_page, re.S)
    assert match is not None
    (south, west), (north, east) = json.loads(match[1])
    assert np.allclose([south, west, north, east], [lat0, lon0, lat1, lon1], atol=1e-5)


# -- basemaps ------------------------------------------------------------------------------------
def test_no_basemap_means_no_tiles(world: Planning) -> None:
    page = render(planning_map(world))
    assert "L.tileLayer" not in page and "{z}" not in page


def test_osm_basemap(world: Planning) -> None:
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in render(
        planning_map(world, basemap="osm")
    )


def test_tianditu_needs_a_key(world: Planning) -> None:
    with pytest.raises(LayerError, match="needs your Tianditu key: pass tianditu_key"):
        planning_map(world, basemap="tianditu")
    with pytest.raises(LayerError, match="letters and digits only"):
        planning_map(world, basemap="tianditu", tianditu_key="abc&x=1")
    page = render(planning_map(world, basemap="tianditu", tianditu_key="0123abcd"))
    assert "t{s}.tianditu.gov.cn/vec_w/wmts" in page and "/cva_w/wmts" in page
    assert "TILEMATRIXSET=w" in page and "tk=0123abcd" in page


def test_custom_xyz_url_is_used_as_given(world: Planning) -> None:
    page = render(planning_map(world, basemap=INTRANET, attribution="市自然资源局"))
    assert INTRANET in page and json.dumps("市自然资源局") in page


def test_basemap_must_be_a_string(world: Planning) -> None:
    with pytest.raises(TypeError, match="basemap must be None or a string, not int"):
        planning_map(world, basemap=1)  # type: ignore[arg-type]


def test_unknown_basemap_is_refused(world: Planning) -> None:
    with pytest.raises(LayerError, match=r"unknown basemap 'gaode'.*\['osm', 'tianditu'\]"):
        planning_map(world, basemap="gaode")


@pytest.mark.parametrize(
    "url",
    [
        AMAP,
        "https://wprd02.amap.com/appmaptile?x={x}&y={y}&z={z}&style=7",
        "https://rt0.map.gtimg.com/tile?z={z}&x={x}&y={-y}",
        "https://maponline0.bdimg.com/tile/?qt=vtile&x={x}&y={y}&z={z}",
    ],
)
def test_gcj02_basemaps_are_refused(world: Planning, url: str) -> None:
    with pytest.raises(CRSError, match=r"GCJ-02.*hundreds of metres.*allow_gcj02=True"):
        planning_map(world, basemap=url)


def test_gcj02_basemap_is_drawn_with_a_warning_when_insisted_on(world: Planning) -> None:
    with pytest.warns(RedlineWarning, match=r"autonavi\.com.*GCJ-02.*allow_gcj02=True"):
        m = planning_map(world, basemap=AMAP, allow_gcj02=True)
    assert AMAP.replace("&", "\\u0026") in render(m) or AMAP in render(m)


def test_gcj02_check_matches_host_names_only(world: Planning) -> None:
    url = "http://amap.com.intranet.local/qq.com/{z}/{x}/{y}.png"
    assert url in render(planning_map(world, basemap=url))


# -- page size, notebooks ------------------------------------------------------------------------
def test_offline_page_carries_only_leaflet_and_the_plugins(
    world_screening: Screening, tmp_path: Path
) -> None:
    page = save_map(screening_map(world_screening), tmp_path / "m.html").read_text("utf-8")
    for absent in ("jQuery", "Bootstrap", "Font Awesome", "glyphicon", "awesome-marker"):
        assert absent not in page, absent
    assert len(page.encode()) < 400_000


def test_notebook_html_shows_the_summary_and_the_map(world_screening: Screening) -> None:
    text = notebook_html(world_screening)
    assert "<table" in text and "未评估" in text and "<iframe srcdoc=" in text
    assert "cdn.jsdelivr.net" not in text
    small = notebook_html(world_screening, max_sites=2)
    assert "<iframe" not in small and "call <code>.map()</code>" in small


def test_notebook_html_of_a_planning(world: Planning) -> None:
    text = notebook_html(world, table_html="<p>head</p>")
    assert text.startswith("<p>head</p><div><iframe")


def test_map_iframe_online_keeps_cdn_links(world: Planning) -> None:
    assert "cdn.jsdelivr.net" in map_iframe(planning_map(world), offline=False)


def test_layers_added_after_building_render_before_the_layer_control(world: Planning) -> None:
    """A planner adds a layer to a redline map; the control must come after it on the page
    (before it, Leaflet stops with "Cannot read properties of undefined")."""
    m = planning_map(world)
    extra = folium.FeatureGroup(name="my parcels").add_to(m)
    page = render_html(m, offline=False)
    control = next(c for c in m._children.values() if isinstance(c, folium.LayerControl))
    assert page.index(f"var {extra.get_name()} = ") < page.index(control.get_name())
    assert '"my parcels"' in page


# -- in Chromium ---------------------------------------------------------------------------------
READY = "() => window.redline !== undefined && redline.legendControl !== undefined"
VIEWPORT = (1400, 900)
# Sites visible at the current zoom: a dot on the map, or an outline of at least MIN_SITE_PX.
VISIBLE_SITES = """
() => { const S = redline.sites, m = redline.map, z = m.getZoom(), seen = new Set();
  S.dots.forEach(d => { if (m.hasLayer(d)) d._shown.forEach(i => seen.add(i)); });
  S.group.eachLayer(g => { if (g.eachLayer) g.eachLayer(l => { if (!l.getBounds) return;
      const b = l.getBounds(), a = m.project(b.getNorthWest(), z);
      const c = m.project(b.getSouthEast(), z);
      if (Math.max(c.x - a.x, c.y - a.y) >= MIN_PX)
        seen.add(S.data.c.i.indexOf(l.feature.properties.i)); }); });
  return [S.data.b.length, seen.size]; }
""".replace("MIN_PX", str(MIN_SITE_PX))
GO = """([lat, lon, zoom]) => new Promise(done => {
  redline.map.setView([lat, lon], zoom, {animate: false});
  requestAnimationFrame(() => requestAnimationFrame(() => done(null))); })"""
RECT = (
    "(s) => { const r = document.querySelector(s).getBoundingClientRect();"
    " return [r.left, r.top, r.right, r.bottom]; }"
)


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def drawn_pixels(png: bytes) -> int:
    """Pixels of the map area (controls and legend left out) that are not the background."""
    from io import BytesIO

    from PIL import Image

    image = np.asarray(Image.open(BytesIO(png)).convert("RGB")).astype(int)
    area = image[120:780, 420:1300]  # between the legend and the right-hand controls
    background = np.array([0xF4, 0xF4, 0xF0])
    return int((np.abs(area - background).sum(axis=2) > 12).sum())


@pytest.mark.browser
def test_sample_map_in_chromium(sample_screening: Screening, tmp_path: Path) -> None:
    """At 1400×900: every site visible and coloured by verdict at the opening (province) view,
    a complete draw after a pan, labels close in, a popup and the layer control clear of the
    legend, and the search box finding sites by id and by name."""
    sites = sample_screening.sites
    path = save_map(screening_map(sample_screening), tmp_path / "sample.html", offline=True)
    candidates = sites[(sites["verdict"] == "prohibited") & (sites.geom_type == "Polygon")]
    # the one farthest from any other site, so that its dot stands alone at province zoom
    metric = sites.to_crs(WORKING_CRS)
    alone = [metric.drop(index=i).distance(metric.geometry[i]).min() for i in candidates.index]
    target = candidates.iloc[int(np.argmax(alone))]
    point = gpd.GeoSeries([target.geometry], crs=sites.crs).to_crs(4326).iloc[0]
    lon, lat = point.representative_point().coords[0]
    with open_page(path, ready=READY, viewport=VIEWPORT) as session:
        page = session.page
        # Province view: polygon sites are far below 10 px, yet every site can be seen.
        assert page.evaluate("redline.map.getZoom()") <= 8
        assert page.evaluate(VISIBLE_SITES) == [len(sites), len(sites)]
        # ... in its verdict's colour: the dot of an isolated prohibited site, on screen
        colour = page.evaluate(
            """(id) => { const S = redline.sites, i = S.data.c.i.indexOf(id);
               const p = redline.map.latLngToContainerPoint(S.points[i]);
               const c = document.querySelector('canvas.leaflet-zoom-animated');
               const r = c.getBoundingClientRect(), ctx = c.getContext('2d');
               const k = c.width / r.width;
               const box = redline.map.getContainer().getBoundingClientRect();
               return Array.from(ctx.getImageData((p.x + box.left - r.left) * k,
                 (p.y + box.top - r.top) * k, 1, 1).data.slice(0, 3)); }""",
            target["site_id"],
        )
        fills = {
            verdict: np.array([int(swatch.fill[i : i + 2], 16) for i in (1, 3, 5)])
            for verdict, swatch in PALETTES["sites"].items()
            if swatch.fill is not None
        }
        nearest = min(fills, key=lambda v: np.abs(fills[v] - colour).sum())
        assert nearest == "prohibited" and np.abs(fills[nearest] - colour).max() <= 12
        dot = page.evaluate(
            "(id) => { const S = redline.sites, i = S.data.c.i.indexOf(id);"
            " const p = redline.map.latLngToContainerPoint(S.points[i]);"
            " const box = redline.map.getContainer().getBoundingClientRect();"
            " return [p.x + box.left, p.y + box.top]; }",
            target["site_id"],
        )
        page.mouse.move(dot[0] - 3, dot[1] - 1)
        page.mouse.move(*dot)
        tooltip = page.wait_for_selector(".leaflet-tooltip", timeout=5_000)
        assert tooltip is not None and target["site_id"] in tooltip.inner_text()

        # Large polygons drawn completely, also after a 20 px drag (zoomed in on a county),
        # where stacked fills fade so that outlines stay readable.
        page.evaluate(GO, [43.88, 125.32, 11])
        faded = page.evaluate("redline.layers.farmland.getLayers()[0].options.fillOpacity")
        assert faded == pytest.approx(PALETTES["farmland"]["farmland"].fill_opacity * 0.4)
        before = drawn_pixels(page.screenshot())
        page.mouse.move(860, 450)
        page.mouse.down()
        page.mouse.move(880, 460, steps=5)
        page.mouse.up()
        page.wait_for_timeout(300)
        after = drawn_pixels(page.screenshot())
        assert before > 0.8 * 660 * 880 and after > 0.95 * before

        # Close in: the site is an outline with its id as a label; its popup clears the legend.
        page.evaluate(GO, [lat, lon, 15])
        assert page.evaluate(VISIBLE_SITES)[1] >= 1
        labels = page.locator(".rl-label").all_inner_texts()
        assert target["site_id"] in labels and len(labels) <= 300
        x, y = page.evaluate(
            "([lat, lon]) => { const p = redline.map.latLngToContainerPoint([lat, lon]);"
            " const box = redline.map.getContainer().getBoundingClientRect();"
            " return [p.x + box.left, p.y + box.top]; }",
            [lat, lon],
        )
        page.mouse.click(x, y)
        popup = page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
        assert popup is not None
        text = popup.inner_text()
        assert target["site_id"] in text and "禁止 prohibited" in text
        assert target["decisive_clause"] in text
        page.wait_for_timeout(400)  # the popup's pan
        legend = page.evaluate(RECT, f"#{LEGEND_CLASS}")
        assert page.evaluate(f"document.querySelector('#{LEGEND_CLASS} details').open")
        popup_box = page.evaluate(RECT, ".leaflet-popup")
        assert not overlap(popup_box, legend)
        assert not overlap(popup_box, page.evaluate(RECT, ".redline-title"))
        page.hover(".leaflet-control-layers")
        assert page.locator(".leaflet-control-layers-expanded").count() == 1
        assert not overlap(page.evaluate(RECT, ".leaflet-control-layers"), legend)
        assert "N" in page.inner_text(".redline-north")
        assert "jilin 2.0" in page.inner_text(".redline-title")

        # Search by id and by (part of the) name: the map goes to the site, its popup opens.
        other = sites[sites.geom_type == "Polygon"].iloc[-1]
        page.click(".search-button")
        for query in (other["site_id"], other["name"]):
            page.fill("input.search-input", "")
            page.type("input.search-input", query, delay=20)
            tip = page.locator(".search-tip", has_text=other["site_id"]).first
            page.evaluate("() => { redline.map.closePopup(); }")
            tip.click()
            page.wait_for_function(
                "(id) => (document.querySelector('.leaflet-popup-content') || {}).innerText"
                " ?.includes(id)",
                arg=other["site_id"],
            )
            centre = page.evaluate("redline.map.getCenter()")
            here = gpd.GeoSeries([other.geometry], crs=sites.crs).to_crs(4326).iloc[0]
            assert shapely.Point(centre["lng"], centre["lat"]).distance(here) < 0.01

        assert session.errors == []
        assert session.external_requests == []
