"""Proposed construction sites: placed to exercise every rule and verdict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from redline.crs import WORKING_CRS
from sample.common import (
    GRID_BOUNDS,
    KM,
    PREFECTURES,
    TOWNS,
    meander,
    polygons_of,
    rng_for,
    to_lonlat,
    xy,
)
from sample.grid import Grid
from sample.layers import Layers
from sample.plan import PlanLayers
from sample.zoning import prefecture_of

# The eight old industrial areas the 2014 opinions name for relocation / renewal (二(一)2). The
# last three come after every other site (their ids follow the general projects'), so that the
# ids of the sites made before them did not change when they were added.
RELOCATION_SITES = (
    ("长春宽城区铁北老工业区改造", "商业", (125.338, 43.918), 14.0),
    ("吉林哈达湾老工业区搬迁改造", "住宅", (126.505, 43.872), 16.0),
    ("四平铁东老工业区改造", "工业", (124.385, 43.158), 12.0),
    ("通化江东老工业区改造", "工业", (125.962, 41.738), 10.0),
    ("辽源西安区老工业区改造", "住宅", (125.158, 42.925), 9.0),
)
LATE_RELOCATION_SITES = (
    ("辽源龙山区辽河两岸老工业区改造", "商业", (125.128, 42.880), 11.0),
    ("白城洮北区铁东老工业区改造", "工业", (122.858, 45.612), 12.0),
    ("洮南洮东老工业区改造", "住宅", (122.812, 45.338), 8.0),
)


@dataclass
class Context:
    """Prepared geometries and rasters the site placement checks against."""

    layers: Layers
    grid: Grid
    slope: np.ndarray
    lc_grid: Grid
    landcover: np.ndarray
    key: BaseGeometry
    key_cores: BaseGeometry
    agri_zone: BaseGeometry
    eco_zone: BaseGeometry
    redlines: BaseGeometry
    reserves_all: BaseGeometry
    water_all: BaseGeometry
    scenic_all: BaseGeometry
    farmland: BaseGeometry
    rivers_prov: BaseGeometry
    rivers_sec: BaseGeometry
    roads: BaseGeometry
    builtup: BaseGeometry

    def slope_max(self, geom: BaseGeometry) -> float:
        return float(self._sample(geom, self.slope, self.grid).max())

    def classes(self, geom: BaseGeometry) -> set[int]:
        return {int(v) for v in self._sample(geom, self.landcover, self.lc_grid)}

    @staticmethod
    def _sample(geom: BaseGeometry, arr: np.ndarray, grid: Grid) -> np.ndarray:
        ll = to_lonlat(geom.buffer(grid.res * 60_000))
        minx, miny, maxx, maxy = ll.bounds
        west, _s, _e, north = GRID_BOUNDS
        c0, c1 = int((minx - west) / grid.res), int((maxx - west) / grid.res) + 1
        r0, r1 = int((north - maxy) / grid.res), int((north - miny) / grid.res) + 1
        return arr[max(r0, 0) : r1, max(c0, 0) : c1].ravel()


def make_context(
    layers: Layers, grid: Grid, slope: np.ndarray, lc_grid: Grid, landcover: np.ndarray
) -> Context:
    z = layers.zoning
    w = layers.rivers
    geoms = {
        "key": shapely.union_all(z.geometry[z["zone"] == "重点开发区域"].values),
        "key_cores": shapely.union_all([c for _, _, c in layers.key_shapes if not c.is_empty]),
        "agri_zone": shapely.union_all(z.geometry[z["subtype"] == "农产品主产区"].values),
        "eco_zone": shapely.union_all(z.geometry[z["subtype"] == "重点生态功能区"].values),
        "redlines": shapely.union_all(layers.redlines.geometry.values),
        "reserves_all": shapely.union_all(layers.reserves.geometry.values),
        "water_all": shapely.union_all(layers.water.geometry.values),
        "scenic_all": shapely.union_all(layers.scenic.geometry.values),
        "farmland": shapely.union_all(layers.farmland.geometry.values),
        "rivers_prov": shapely.union_all(w.geometry[w["corridor"] == "省级"].values),
        "rivers_sec": shapely.union_all(w.geometry[w["corridor"] == "次级"].values),
        "roads": shapely.union_all(layers.roads.geometry.values),
        "builtup": shapely.union_all(
            [Point(xy(p)).buffer(rad * 0.4 * KM) for _, p, _, _, rad in PREFECTURES]
        ),
    }
    for g in geoms.values():
        shapely.prepare(g)
    return Context(layers, grid, slope, lc_grid, landcover, **geoms)


@dataclass
class SiteMaker:
    ctx: Context
    rows: list[dict[str, object]]
    geoms: list[BaseGeometry]

    def add(self, geom: BaseGeometry, *, name: str, project_type: str, note: str) -> None:
        pref = prefecture_of(self.ctx.layers.cells, geom)
        if not self.ctx.layers.ref.outline.intersects(geom):
            pref = "省外"
        self.rows.append(
            {
                "site_id": f"JL-{len(self.rows) + 1:04d}",
                "name": name,
                "project_type": project_type,
                "县市": pref,
                "note": note,
            }
        )
        self.geoms.append(geom)

    def clear_of_others(self, geom: BaseGeometry, gap: float = 300.0) -> bool:
        return all(geom.distance(g) > gap for g in self.geoms[-400:])


def site_polygon(c: tuple[float, float], area_ha: float, rng: np.random.Generator) -> Polygon:
    """A jittered rotated rectangle of about ``area_ha`` hectares."""
    aspect = rng.uniform(1.0, 2.4)
    w = np.sqrt(area_ha * 1e4 * aspect)
    h = area_ha * 1e4 / w
    corners = np.array([(-w, -h), (w, -h), (w, h), (-w, h)]) / 2
    corners *= 1 + rng.uniform(-0.08, 0.08, corners.shape)
    a = rng.uniform(0, np.pi)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    poly = Polygon(corners @ rot.T + np.asarray(c))
    return affinity.scale(poly, *(np.sqrt(area_ha * 1e4 / poly.area),) * 2)


def nearest_town(geom: BaseGeometry) -> str:
    pt = geom.centroid
    places = {n.removesuffix("市").removesuffix("朝鲜族自治州"): p for n, p, *_ in PREFECTURES}
    places["延吉"] = places.pop("延边")
    places.update({n: p for n, (p, _r) in TOWNS.items()})
    return min(places, key=lambda n: Point(xy(places[n])).distance(pt))


NAME_TEMPLATES = {
    "住宅": ("{t}{n}号住宅小区", "{t}安置房项目{n}期", "{t}新区住宅{n}号地块"),
    "工业": ("{t}经济开发区{n}号厂房", "{t}产业园{n}号地块", "{t}农产品加工厂{n}号"),
    "商业": ("{t}商业综合体{n}号", "{t}物流商贸中心{n}号", "{t}商业街区{n}期"),
    "旅游": ("{t}旅游服务中心{n}号", "{t}生态旅游度假区{n}期", "{t}游客接待站{n}号"),
    "水利设施": ("{t}取水泵站{n}号", "{t}防洪堤加固{n}段", "{t}灌区渠首{n}号"),
    "能源": ("{t}风电场{n}号风机", "{t}光伏电站{n}期", "{t}变电站{n}号"),
    "采矿": ("{t}采石场{n}号", "{t}铁矿{n}号采区", "{t}砂石料场{n}号"),
    "农业": ("{t}现代农业园{n}号", "{t}设施农业大棚{n}号", "{t}畜牧养殖场{n}号"),
    "生态修复": ("{t}矿山生态修复{n}号", "{t}退化湿地修复{n}期", "{t}退耕还林{n}号"),
    "科研监测": ("{t}生态监测站{n}号", "{t}巡护站{n}号", "{t}科研样地{n}号"),
    "公共服务": ("{t}中心小学{n}号", "{t}社区医院{n}号", "{t}污水处理厂{n}期"),
    "线性基础设施": ("{t}公路拓宽{n}号地块", "{t}铁路站场{n}号", "{t}高速公路服务区{n}号"),
    "": ("{t}建设项目{n}号", "{t}待定项目{n}号", "{t}综合开发{n}号地块"),
}
#: Linear projects by type: (name between two towns, name within one town).
LINE_TEMPLATES = {
    "线性基础设施": ("{t}至{u}公路改建工程", "{t}绕城公路{n}标段"),
    "道路": ("{t}至{u}公路", "{t}城区道路{n}号"),
    "输电线路": ("{t}至{u}220千伏输电线路", "{t}66千伏输电线路{n}号"),
    "管线": ("{t}至{u}输气管道", "{t}供水管线{n}号"),
    "铁路": ("{t}至{u}铁路专用线", "{t}工业园铁路专用线{n}号"),
}


def site_name(
    geom: BaseGeometry,
    project_type: str,
    rng: np.random.Generator,
    other: BaseGeometry | None = None,
) -> str:
    """A plausible Chinese project name from the nearest town(s) and the project type."""
    t, n = nearest_town(geom), int(rng.integers(1, 20))
    if other is not None:
        u = nearest_town(other)
        return LINE_TEMPLATES[project_type][u == t].format(t=t, u=u, n=n)
    return NAME_TEMPLATES[project_type][int(rng.integers(3))].format(t=t, n=n)


def sample_in(
    region: BaseGeometry,
    rng: np.random.Generator,
    ok: Callable[[Point], bool],
    *,
    tries: int = 40000,
) -> Point:
    """A random point of ``region`` that passes ``ok``."""
    minx, miny, maxx, maxy = region.bounds
    shapely.prepare(region)
    for _ in range(tries // 200):
        xs, ys = rng.uniform(minx, maxx, 200), rng.uniform(miny, maxy, 200)
        for x, y in zip(
            xs[shapely.contains_xy(region, xs, ys)],
            ys[shapely.contains_xy(region, xs, ys)],
            strict=True,
        ):
            p = Point(x, y)
            if ok(p):
                return p
    raise RuntimeError("no position found for a sample site; loosen the constraints")


def make_sites(ctx: Context, plan: PlanLayers) -> gpd.GeoDataFrame:
    lay = ctx.layers
    mk = SiteMaker(ctx, [], [])
    res = lay.reserves

    def poly_site(
        region: BaseGeometry,
        rng: np.random.Generator,
        area: tuple[float, float],
        check: Callable[[Polygon], bool],
    ) -> Polygon:
        found: list[Polygon] = []

        def ok(p: Point) -> bool:
            g = site_polygon((p.x, p.y), rng.uniform(*area), rng)
            if check(g) and mk.clear_of_others(g):
                found.append(g)
                return True
            return False

        sample_in(region, rng, ok)
        return found[-1]

    def untouched(g: BaseGeometry, *layers: BaseGeometry, gap: float = 0.0) -> bool:
        return not any(
            shapely.dwithin(layer, g, gap) if gap else layer.intersects(g) for layer in layers
        )

    protected = (ctx.redlines, ctx.reserves_all, ctx.water_all, ctx.scenic_all)

    # 1. Old industrial areas named for relocation and renewal (2014 opinions).
    r = rng_for("sites-relocation")
    for name, ptype, lonlat, area in RELOCATION_SITES:
        g = site_polygon(xy(lonlat), area, r)
        if not ctx.key.contains(g):
            raise ValueError(f"relocation site {name} is not inside a key zone")
        mk.add(
            g,
            name=name,
            project_type=ptype,
            note="2014年意见点名的老工业区搬迁改造（重点开发区域内，城区更新）",
        )

    # 2. Prohibited: reserve core and buffer zones, red lines, level-1 water source zones.
    r = rng_for("sites-prohibited")
    for zone, count, types in (
        ("核心区", 4, ("旅游", "住宅", "采矿", "")),
        ("缓冲区", 3, ("旅游", "工业", "商业")),
    ):
        zones = res[res["zone"] == zone]
        for i in range(count):
            geom = zones.geometry.iloc[i % len(zones)]
            inner = geom.buffer(-60.0)
            g = poly_site(inner, r, (0.5, 6.0), inner.contains)
            t = types[i]
            mk.add(
                g,
                name=site_name(g, t, r),
                project_type=t,
                note=f"检验：自然保护区{zone}内建设（{zones['reserve'].iloc[i % len(zones)]}；"
                f"预期禁止）" + ("；未填项目类型，按一般建设项目判定" if not t else ""),
            )
    redline_only = shapely.difference(
        ctx.redlines,
        shapely.union_all([ctx.reserves_all.buffer(1 * KM), ctx.water_all, ctx.scenic_all]),
    ).buffer(-80.0)
    for t in ("采矿", "工业", "住宅", "能源", "商业", "采矿"):
        g = poly_site(redline_only, r, (0.5, 10.0), redline_only.contains)
        mk.add(
            g,
            name=site_name(g, t, r),
            project_type=t,
            note="检验：生态保护红线内不允许的开发建设（预期禁止）",
        )
    water1 = lay.water[lay.water["level"] == "一级保护区"]
    for i, t in enumerate(("工业", "住宅", "旅游", "商业")):
        name = water1["source"].iloc[i]
        shore = shapely.difference(
            water1.geometry.iloc[i], lay.lakes[name.removesuffix("饮用水水源地")]
        ).buffer(-25.0)
        g = poly_site(shore, r, (0.25, 0.6), shore.contains)
        mk.add(
            g,
            name=site_name(g, t, r),
            project_type=t,
            note=f"检验：饮用水水源一级保护区内建设（{name}；预期禁止）",
        )

    # 3. Conditional: linear infrastructure across red lines, tourism in experimental zones,
    #    building on permanent basic farmland.
    r = rng_for("sites-conditional")
    lines_made = 0
    patches = [
        g
        for g in lay.redlines.geometry
        if g.area > 20e6 and not g.intersects(ctx.reserves_all) and not g.intersects(ctx.water_all)
    ]
    for patch in patches:
        if lines_made == 4:
            break
        c = patch.representative_point()
        for _ in range(40):
            a = r.uniform(0, np.pi)
            half = np.sqrt(patch.area) * 0.9
            d = np.array([np.cos(a), np.sin(a)]) * half
            line = meander(
                [
                    to_lonlat(Point(c.x - d[0], c.y - d[1])).coords[0],
                    (to_lonlat(c).x, to_lonlat(c).y),
                    to_lonlat(Point(c.x + d[0], c.y + d[1])).coords[0],
                ],
                r,
                amp=400.0,
            )
            ends = shapely.get_point(line, [0, -1])
            if (
                not any(ctx.redlines.contains(e) for e in ends)
                and untouched(line, ctx.reserves_all, ctx.water_all, ctx.scenic_all)
                and lay.ref.outline.contains(line)
                and mk.clear_of_others(line, 1000.0)
            ):
                t = ("线性基础设施", "输电线路", "管线", "道路")[lines_made]
                mk.add(
                    line,
                    name=site_name(ends[0], t, r, ends[1]),
                    project_type=t,
                    note="检验：线性基础设施穿越生态保护红线（预期有条件）",
                )
                lines_made += 1
                break
    if lines_made < 4:
        raise RuntimeError(f"only {lines_made} red-line crossings placed")
    exp = res[res["zone"] == "实验区"]
    for i in range(4):
        geom = exp.geometry.iloc[i].buffer(-60.0)
        g = poly_site(geom, r, (0.5, 4.0), geom.contains)
        mk.add(
            g,
            name=site_name(g, "旅游", r),
            project_type="旅游",
            note=f"检验：自然保护区实验区内旅游设施（{exp['reserve'].iloc[i]}；预期有条件）",
        )
    farm = ctx.farmland.buffer(-40.0)
    farm_types = (
        "住宅",
        "工业",
        "水利设施",
        "",
        "农业",
        "公共服务",
        "能源",
        "线性基础设施",
        "商业",
    )
    for t in (*farm_types, "水利设施"):
        g = poly_site(
            farm,
            r,
            (1.0, 16.0),
            lambda g: (
                farm.contains(g)
                and untouched(g, *protected, ctx.rivers_prov, ctx.rivers_sec, ctx.roads, gap=1500.0)
            ),
        )
        mk.add(
            g,
            name=site_name(g, t, r),
            project_type=t,
            note="检验：占用永久基本农田（预期有条件或禁止，视项目类型）"
            + ("；未填项目类型，按一般建设项目判定" if not t else ""),
        )
    steep = ctx.eco_zone.buffer(-200.0)
    for t in ("住宅", "旅游", "工业", "采矿"):
        g = poly_site(
            steep,
            r,
            (1.0, 6.0),
            lambda g: (
                steep.contains(g)
                and ctx.slope_max(g) > 28.0
                and untouched(g, *protected, gap=1500.0)
            ),
        )
        mk.add(
            g,
            name=site_name(g, t, r),
            project_type=t,
            note="检验：限制开发区域内坡度大于25°的山地建设（坡度规则）",
        )

    # 4. Advisory: close to a red line or reserve without touching it, in zones that add no
    #    stricter finding of their own (key zones; the agricultural zone for residential,
    #    commercial and public-service projects).
    r = rng_for("sites-advisory")
    near_reserve = shapely.union_all([lay.reserve_outer["查干湖"], lay.reserve_outer["龙湾"]])
    advisory_groups: tuple[tuple[BaseGeometry, BaseGeometry, tuple[str, ...], str], ...] = (
        (
            ctx.redlines,
            ctx.key,
            ("住宅", "工业", "商业", "公共服务", "住宅", "商业"),
            "生态保护红线",
        ),
        (near_reserve, ctx.agri_zone, ("住宅", "公共服务", "商业"), "自然保护区"),
    )
    for ring, zone, adv_types, label in advisory_groups:
        band = shapely.intersection(
            shapely.difference(ring.buffer(700.0), ring.buffer(250.0)), zone
        )

        def near_ok(g: Polygon, ring: BaseGeometry = ring, zone: BaseGeometry = zone) -> bool:
            return (
                120.0 < ring.distance(g) < 800.0
                and zone.contains(g)
                and untouched(g, *protected, ctx.farmland)
                and untouched(g, ctx.rivers_prov, ctx.rivers_sec, ctx.roads, gap=2000.0)
                and ctx.slope_max(g) < 12.0
                and not ({2, 9, 5} & ctx.classes(g))
            )

        for t in adv_types:
            g = poly_site(band, r, (0.5, 5.0), near_ok)
            mk.add(
                g,
                name=site_name(g, t, r),
                project_type=t,
                note=f"检验：距{label}约{ring.distance(g):.0f}米但不相交（预期提示）",
            )

    # 5. Clear: key zones, far from every protected feature, on flat built-up land.
    r = rng_for("sites-clear")
    cores = shapely.intersection(ctx.key, ctx.builtup)
    clear_types = ("住宅", "商业", "工业", "公共服务", "住宅", "商业", "工业", "", "住宅", "商业")
    for i in range(30):
        t = clear_types[i % len(clear_types)]

        def clear_ok(g: Polygon) -> bool:
            return (
                ctx.key.contains(g)
                and untouched(g, *protected, ctx.farmland, gap=3000.0)
                and untouched(g, ctx.rivers_prov, gap=5000.0)
                and untouched(g, ctx.rivers_sec, ctx.roads, gap=2000.0)
                and ctx.slope_max(g) < 8.0
                and ctx.classes(g) == {8}
            )

        g = poly_site(cores, r, (0.5, 16.0), clear_ok)
        mk.add(
            g,
            name=site_name(g, t, r),
            project_type=t,
            note="检验：重点开发区域城区内、远离各类保护要素（预期未发现冲突）"
            + ("；未填项目类型，按一般建设项目判定" if not t else ""),
        )

    # 6. Corridor severance: a road across the whole Songhua corridor near Jilin city.
    s2 = lay.ref.songhua2
    at = s2.project(Point(xy((126.52, 43.98))))
    p0, p1 = s2.interpolate(at - 500.0), s2.interpolate(at + 500.0)
    tangent = np.array([p1.x - p0.x, p1.y - p0.y]) / 1000.0
    normal = np.array([-tangent[1], tangent[0]])
    mid = s2.interpolate(at)
    crossing = LineString(
        [
            (mid.x - 8 * KM * normal[0], mid.y - 8 * KM * normal[1]),
            (mid.x, mid.y),
            (mid.x + 8 * KM * normal[0], mid.y + 8 * KM * normal[1]),
        ]
    )
    mk.add(
        crossing,
        name="吉林市松花江北部跨江公路及连接线",
        project_type="道路",
        note="检验：道路横穿松花江省级生态廊道全宽（廊道连通性）",
    )

    # 7. Outside the province (inside the lon/lat window): must come out not assessed.
    for lonlat, where in (((124.10, 42.55), "辽宁省铁岭市"), ((122.20, 44.00), "内蒙古通辽市")):
        g = site_polygon(xy(lonlat), 6.0, r)
        if lay.ref.outline.distance(g) < 1 * KM:
            raise ValueError(f"out-of-province site at {lonlat} is too close to Jilin")
        mk.add(
            g,
            name=f"{where}境内项目（省外）",
            project_type="工业",
            note=f"检验：位于吉林省界外（{where}），预期未评估",
        )

    # 8. Points and further lines.
    r = rng_for("sites-points")
    for i in range(3):
        core = res[res["zone"] == "核心区"].geometry.iloc[i].buffer(-200.0)
        p = sample_in(core, r, lambda p: True)
        mk.add(
            p,
            name=site_name(p, "科研监测", r),
            project_type="科研监测",
            note="检验：自然保护区核心区内的科研监测点（点要素）",
        )
    for i in range(2):
        lvl1 = water1.geometry.iloc[i + 1].buffer(-20.0)
        p = sample_in(lvl1, r, lambda p: True)
        mk.add(
            p,
            name=site_name(p, "水利设施", r),
            project_type="水利设施",
            note="检验：饮用水水源一级保护区内的取水设施（点要素）",
        )
    for t in ("能源", "能源", "能源"):
        west = shapely.intersection(ctx.eco_zone, lay.ref.outline.buffer(-2 * KM))
        p = sample_in(
            west, r, lambda p: p.x < xy((123.5, 45.0))[0] and untouched(p, *protected, gap=3000.0)
        )
        mk.add(p, name=site_name(p, t, r), project_type=t, note="西部风电项目风机机位（点要素）")
    for t in ("公共服务", "商业", "住宅", "公共服务"):
        p = sample_in(
            cores,
            r,
            lambda p: (
                untouched(p, *protected, ctx.farmland, gap=3000.0)
                and untouched(p, ctx.rivers_prov, gap=5000.0)
                and untouched(p, ctx.rivers_sec, ctx.roads, gap=2000.0)
                and ctx.key.contains(p)
                and mk.clear_of_others(p)
            ),
        )
        mk.add(
            p,
            name=site_name(p, t, r),
            project_type=t,
            note="检验：重点开发区域城区内的点状项目（预期未发现冲突）",
        )
    band = shapely.intersection(
        shapely.difference(ctx.redlines.buffer(600.0), ctx.redlines.buffer(200.0)), ctx.key
    )
    for t in ("公共服务", "农业", "能源"):
        p = sample_in(
            band,
            r,
            lambda p: (
                untouched(p, *protected, ctx.farmland)
                and ctx.slope_max(p) < 12.0
                and not ({2, 9, 5} & ctx.classes(p))
                and untouched(p, ctx.rivers_prov, ctx.rivers_sec, ctx.roads, gap=2500.0)
            ),
        )
        mk.add(
            p,
            name=site_name(p, t, r),
            project_type=t,
            note=f"检验：距生态保护红线约{ctx.redlines.distance(p):.0f}米的点状项目（预期提示）",
        )
    r = rng_for("sites-lines")
    for i in range(15):
        t = ("线性基础设施", "输电线路", "管线", "道路", "铁路")[i % 5]
        region = ctx.key if i < 6 else lay.ref.outline.buffer(-10 * KM)
        for _ in range(200):
            p = sample_in(region, r, lambda p: True)
            a = r.uniform(0, np.pi)
            length = r.uniform(3 * KM, 25 * KM) if i >= 6 else r.uniform(2 * KM, 6 * KM)
            d = np.array([np.cos(a), np.sin(a)]) * length / 2
            ends = [
                to_lonlat(Point(p.x - d[0], p.y - d[1])),
                to_lonlat(p),
                to_lonlat(Point(p.x + d[0], p.y + d[1])),
            ]
            line = meander([(e.x, e.y) for e in ends], r, amp=300.0)
            if region.contains(line) and mk.clear_of_others(line, 1000.0):
                break
        ends_g = shapely.get_point(line, [0, -1])
        note = "检验：重点开发区域内的线性工程" if i < 6 else "一般线性工程（随机分布）"
        mk.add(line, name=site_name(ends_g[0], t, r, ends_g[1]), project_type=t, note=note)

    # 9. General projects spread over the province to make up about 200 polygons.
    r = rng_for("sites-general")
    general = (
        "住宅",
        "工业",
        "商业",
        "旅游",
        "水利设施",
        "能源",
        "采矿",
        "农业",
        "生态修复",
        "科研监测",
        "公共服务",
        "",
        "住宅用地",
        "工业用地",
        "旅游设施",
        "水利",
        "矿产",
    )
    inner = lay.ref.outline.buffer(-3 * KM)
    n_poly = sum(1 for g in mk.geoms if g.geom_type == "Polygon")
    for i in range(200 - n_poly):
        t = general[i % len(general)]
        region = ctx.key if i % 3 == 0 else inner
        g = poly_site(region, r, (0.25, 16.0), region.contains)
        label = (
            t
            if t in NAME_TEMPLATES
            else {
                "住宅用地": "住宅",
                "工业用地": "工业",
                "旅游设施": "旅游",
                "水利": "水利设施",
                "矿产": "采矿",
            }[t]
        )
        mk.add(g, name=site_name(g, label, r), project_type=t, note="一般项目（随机分布）")
    plan_sites(mk, ctx, plan, poly_site)
    return gpd.GeoDataFrame(mk.rows, geometry=mk.geoms, crs=WORKING_CRS)


def plan_sites(
    mk: SiteMaker,
    ctx: Context,
    plan: PlanLayers,
    poly_site: Callable[..., Polygon],
) -> None:
    """Sites of the territorial-plan layers, after every other site (so the ids before them
    stay): the last three old industrial areas the 2014 opinions name, and one site per new
    rule."""
    urban = shapely.union_all(plan.urban_boundary.geometry.values)
    r = rng_for("sites-relocation-late")
    for name, ptype, lonlat, area in LATE_RELOCATION_SITES:
        g = site_polygon(xy(lonlat), area, r)
        if not urban.contains(g):
            raise ValueError(f"relocation site {name} is not inside the urban development boundary")
        mk.add(g, name=name, project_type=ptype,
               note="2014年意见点名的老工业区搬迁改造（城镇开发边界内，城区更新）")
    r = rng_for("sites-plan-layers")
    protected = shapely.union_all([ctx.redlines, ctx.reserves_all, ctx.water_all, ctx.scenic_all])

    def of(kind: str, column: str, value: str) -> BaseGeometry:
        gdf = getattr(plan, kind)
        return shapely.union_all(gdf.geometry[gdf[column] == value].values)

    forest = shapely.union_all(plan.forest_land.geometry.values)
    nothing = Polygon()
    cases: tuple[tuple[BaseGeometry, str, str, BaseGeometry], ...] = (  # region, type, note, avoid
        (of("forest_land", "protection_level", "Ⅰ级"), "工业", "Ⅰ级保护林地内建设（预期禁止）",
         nothing),
        (of("national_parks", "zone", "核心保护区"), "旅游",
         "国家公园核心保护区内旅游设施（预期禁止）", nothing),
        (of("national_parks", "zone", "一般控制区"), "旅游",
         "国家公园一般控制区内生态旅游设施（预期有条件）", forest),
        (of("heritage", "zone", "保护范围"), "商业", "文物保护范围内建设（预期禁止）", nothing),
        (of("heritage", "zone", "建设控制地带"), "公共服务", "文物建设控制地带内建设（预期有条件）",
         nothing),
        (of("geohazard", "level", "危险区"), "住宅", "地质灾害危险区内住宅（预期禁止）", nothing),
        (of("cultivated_land", "black_soil", "黑土地"), "公共服务",
         "占用黑土地（非永久基本农田，预期有条件）", ctx.farmland.buffer(300.0)),
        (of("ecological_barrier", "category", "绿心"), "工业",
         "长吉“绿心”内工业项目（预期有条件：绿心与耕地）",
         shapely.union_all([forest, ctx.farmland]).buffer(300.0)),
    )
    for region, ptype, note, avoid in cases:
        inner = shapely.difference(region.buffer(-60.0),
                                   shapely.union_all([protected.buffer(300.0), avoid]))
        inner = max(polygons_of(inner), key=lambda part: part.area)  # sampled in its bounds
        g = poly_site(inner, r, (0.5, 3.0), inner.contains)
        mk.add(g, name=site_name(g, ptype, r), project_type=ptype, note=f"检验：{note}")
    # a housing estate across the edge of Changchun's urban development boundary
    changchun = plan.urban_boundary.geometry[plan.urban_boundary["name"] == "长春市城镇开发边界"]
    edge = shapely.get_exterior_ring(max(polygons_of(changchun.iloc[0]), key=lambda p: p.area))
    for _ in range(200):
        at = edge.interpolate(r.uniform(0, edge.length))
        g = site_polygon((at.x, at.y), 6.0, r)
        if not g.intersects(protected.buffer(500.0)) and mk.clear_of_others(g, 1000.0):
            break
    mk.add(g, name=site_name(g, "住宅", r), project_type="住宅",
           note="检验：一半在城镇开发边界外的住宅（预期有条件，边界外面积见三线表）")

