"""Shared by every layer kind: paths, seeds, places, field names, geometry and noise helpers,
the reference outlines."""

from __future__ import annotations

import filecmp
import itertools
import logging
import shutil
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from redline.crs import WORKING_CRS

log = logging.getLogger("make_sample")

HERE = Path(__file__).resolve().parents[1]  # data/
REPO = HERE.parent
SHARED_REFERENCE = REPO.parent / "shared" / "reference"
REFERENCE = HERE / "reference"
OUT = HERE / "sample_shapefiles"
REFERENCE_FILES = ("jilin_boundary.geojson", "songhua_course.geojson", "yalu_tumen_border.geojson")

SEED = 20140101  # the 2014 Jilin opinions; every random stream is derived from it by name
OUT_CRS = "EPSG:4490"
FIXED_DATE = "2014-01-01T00:00:00Z"  # written as the files' last-update date
KM = 1000.0

PLANNING_NAME = "吉林省生态城镇化“一张图”示例数据 (illustrative sample, not official)"

# Prefecture-level units: name, seat (lon, lat), administrative code, level, key-zone radius km.
PREFECTURES = (
    ("长春市", (125.3245, 43.8868), "220100", "市", 24.0),
    ("吉林市", (126.5496, 43.8378), "220200", "市", 16.0),
    ("四平市", (124.3504, 43.1664), "220300", "市", 11.0),
    ("辽源市", (125.1437, 42.8880), "220400", "市", 10.0),
    ("通化市", (125.9399, 41.7286), "220500", "市", 10.0),
    ("白山市", (126.4141, 41.9436), "220600", "市", 8.0),
    ("松原市", (124.8250, 45.1411), "220700", "市", 13.0),
    ("白城市", (122.8388, 45.6196), "220800", "市", 11.0),
    ("延边朝鲜族自治州", (129.5090, 42.8913), "222400", "州", 12.0),  # seat Yanji
)
# County-level towns: (lon, lat), key-zone radius km (0 = no key zone; name only).
TOWNS = {
    "公主岭": ((124.8200, 43.5040), 7.0),
    "梅河口": ((125.6890, 42.5370), 7.0),
    "敦化": ((128.2320, 43.3720), 7.0),
    "珲春": ((130.3660, 42.8620), 7.0),
    "图们": ((129.8440, 42.9680), 5.0),
    "龙井": ((129.4270, 42.7660), 5.0),
    "九台": ((125.8390, 44.1520), 6.0),
    "德惠": ((125.7030, 44.5370), 5.0),
    "榆树": ((126.5330, 44.8400), 0.0),
    "农安": ((125.1840, 44.4320), 0.0),
    "舒兰": ((126.9650, 44.4060), 0.0),
    "蛟河": ((127.3440, 43.7240), 0.0),
    "桦甸": ((126.7460, 42.9720), 0.0),
    "磐石": ((126.0600, 42.9460), 0.0),
    "双辽": ((123.5020, 43.5180), 0.0),
    "梨树": ((124.3350, 43.3070), 0.0),
    "伊通": ((125.3050, 43.3450), 0.0),
    "东丰": ((125.5310, 42.6770), 0.0),
    "辉南": ((126.0460, 42.6850), 0.0),
    "柳河": ((125.7440, 42.2850), 0.0),
    "集安": ((126.1940, 41.1260), 0.0),
    "临江": ((126.9180, 41.8110), 0.0),
    "抚松": ((127.2800, 42.2210), 0.0),
    "靖宇": ((126.8130, 42.3890), 0.0),
    "长白": ((128.2000, 41.4200), 0.0),
    "安图": ((128.8990, 43.1110), 0.0),
    "汪清": ((129.7710, 43.3130), 0.0),
    "和龙": ((129.0100, 42.5460), 0.0),
    "扶余": ((126.0490, 44.9860), 0.0),
    "长岭": ((123.9670, 44.2760), 0.0),
    "乾安": ((124.0240, 45.0040), 0.0),
    "大安": ((124.2920, 45.5070), 0.0),
    "洮南": ((122.7880, 45.3350), 0.0),
    "镇赉": ((123.1990, 45.8470), 0.0),
    "通榆": ((123.0880, 44.8130), 0.0),
    "二道白河": ((128.1000, 42.4200), 0.0),
}


LANDCOVER_CODES = {  # CLCD-style code: (Chinese, canonical class)
    1: ("耕地", "cropland"),
    2: ("林地", "forest"),
    3: ("灌木", "shrub"),
    4: ("草地", "grassland"),
    5: ("水体", "water"),
    7: ("裸地", "barren"),
    8: ("建设用地", "built_up"),
    9: ("湿地", "wetland"),
}


GRID_BOUNDS = (121.6, 40.85, 131.3, 46.3)  # west, south, east, north (degrees)

# Source field names per layer (canonical field -> DBF field, <= 10 UTF-8 bytes).
FIELDS = {
    "boundary": {"feature_id": "BSM", "name": "名称", "level": "级别"},
    "zoning": {"feature_id": "BSM", "name": "名称", "zone": "功能区", "subtype": "类型"},
    "redlines": {"feature_id": "BSM", "name": "名称", "category": "类型"},
    "reserves": {
        "feature_id": "BSM",
        "name": "名称",
        "zone": "功能区",
        "reserve": "保护区",
        "level": "级别",
    },
    "water_sources": {"feature_id": "BSM", "name": "名称", "level": "级别", "source": "水源地"},
    "farmland": {"feature_id": "BSM", "name": "名称"},
    "scenic": {"feature_id": "BSM", "name": "名称", "category": "类别"},
    "rivers": {"feature_id": "BSM", "name": "名称", "corridor": "廊道"},
    "roads_rails": {"feature_id": "BSM", "name": "名称", "corridor": "廊道", "category": "类别"},
    "urban_boundary": {"feature_id": "BSM", "name": "名称"},
    "forest_land": {
        "feature_id": "BSM", "name": "名称", "protection_level": "保护", "public_welfare": "公益林",
    },
    "national_parks": {"feature_id": "BSM", "name": "名称", "zone": "功能区", "park": "公园"},
    "cultivated_land": {"feature_id": "BSM", "name": "名称", "black_soil": "黑土地"},
    "geohazard": {"feature_id": "BSM", "name": "名称", "level": "分区", "hazard": "灾种"},
    "heritage": {
        "feature_id": "BSM", "name": "名称", "zone": "范围", "site": "文物", "level": "级别",
    },
    "river_management": {"feature_id": "BSM", "name": "名称", "waterbody": "水体"},
    "ecological_barrier": {"feature_id": "BSM", "name": "名称", "category": "类型"},
}
# Values not covered by redline.schema.VALUE_ALIASES: manifest [values] tables.
EXTRA_VALUES = {
    ("reserves", "level"): {"国家级": "national", "省级": "provincial"},
    ("scenic", "category"): {
        "风景名胜区": "scenic_area",
        "森林公园": "forest_park",
        "地质公园": "geopark",
        "湿地公园": "wetland_park",
    },
    ("roads_rails", "category"): {"铁路": "railway", "高速公路": "expressway"},
}


def rng_for(name: str) -> np.random.Generator:
    """An independent random stream per purpose, so adding one never shifts the others."""
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


TO_M = Transformer.from_crs("EPSG:4326", WORKING_CRS, always_xy=True)
TO_LL = Transformer.from_crs(WORKING_CRS, "EPSG:4326", always_xy=True)


def xy(lonlat: tuple[float, float]) -> tuple[float, float]:
    """Working-CRS metres of a (lon, lat) pair."""
    x, y = TO_M.transform(*lonlat)
    return float(x), float(y)


def to_metres(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda c: np.column_stack(TO_M.transform(c[:, 0], c[:, 1])))


def to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda c: np.column_stack(TO_LL.transform(c[:, 0], c[:, 1])))


def polygons_of(geom: BaseGeometry, *, min_area: float = 0.0) -> list[Polygon]:
    """Polygon parts of ``geom`` above ``min_area`` (lines/points from edge contact dropped)."""
    parts = shapely.get_parts(geom)
    out: list[Polygon] = []
    for part in parts:
        if isinstance(part, Polygon):
            if part.area > min_area:
                out.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out.extend(polygons_of(part, min_area=min_area))
    return out


def polygonal(geom: BaseGeometry, *, min_area: float = 0.0) -> BaseGeometry:
    """``geom`` reduced to a (Multi)Polygon; empty Polygon when nothing is left."""
    parts = polygons_of(geom, min_area=min_area)
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def radial_profile(rng: np.random.Generator, *, rough: float, n: int = 256) -> np.ndarray:
    """A wiggly radius multiplier around 1 (always > 0.45) sampled at ``n`` angles."""
    theta = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, 24):
        amp = rough * rng.uniform(0.3, 1.0) / k**1.1
        r += amp * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    return np.maximum(r, 0.45)


def star(
    centre: tuple[float, float], radii: tuple[float, float], angle: float, profile: np.ndarray
) -> Polygon:
    """A star-shaped polygon: ellipse radii (m) times ``profile``, rotated ``angle`` degrees."""
    n = len(profile)
    theta = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    x = radii[0] * profile * np.cos(theta)
    y = radii[1] * profile * np.sin(theta)
    a = np.radians(angle)
    xr = centre[0] + x * np.cos(a) - y * np.sin(a)
    yr = centre[1] + x * np.sin(a) + y * np.cos(a)
    return Polygon(np.column_stack([xr, yr]))


def blob(
    centre_ll: tuple[float, float],
    radii_km: tuple[float, float],
    rng: np.random.Generator,
    *,
    angle: float = 0.0,
    rough: float = 0.18,
) -> Polygon:
    """A wiggly ellipse around a (lon, lat) centre with radii in km."""
    return star(
        xy(centre_ll), (radii_km[0] * KM, radii_km[1] * KM), angle, radial_profile(rng, rough=rough)
    )


class Warp:
    """A smooth displacement field (gradient < 1, so shared edges stay shared and valid)."""

    def __init__(self, rng: np.random.Generator, *, amp: float, wavelengths: Iterable[float]):
        waves = []
        for wl in wavelengths:
            k = 2 * np.pi / wl
            a = rng.uniform(0, 2 * np.pi, 2)
            waves.append(
                (
                    k * np.cos(a[0]),
                    k * np.sin(a[0]),
                    k * np.cos(a[1]),
                    k * np.sin(a[1]),
                    rng.uniform(0, 2 * np.pi),
                    rng.uniform(0, 2 * np.pi),
                    amp * wl / max(wavelengths),
                )
            )
        self.waves = waves
        slope = sum(w[-1] * 2 * np.pi / wl for w, wl in zip(waves, wavelengths, strict=True))
        if slope >= 0.9:
            raise ValueError(f"warp gradient {slope:.2f} >= 0.9 could fold edges")

    def __call__(self, coords: np.ndarray) -> np.ndarray:
        x, y = coords[:, 0], coords[:, 1]
        dx = np.zeros_like(x)
        dy = np.zeros_like(y)
        for kx1, ky1, kx2, ky2, p1, p2, a in self.waves:
            dx += a * np.sin(kx1 * x + ky1 * y + p1)
            dy += a * np.sin(kx2 * x + ky2 * y + p2)
        return np.column_stack([x + dx, y + dy])

    def apply(self, geom: BaseGeometry, *, step: float) -> BaseGeometry:
        return shapely.transform(shapely.segmentize(geom, step), self)


def meander(
    waypoints_ll: Iterable[tuple[float, float]],
    rng: np.random.Generator,
    *,
    amp: float,
    step: float = 400.0,
) -> LineString:
    """A line through the waypoints with a smooth sideways meander that is zero at each one."""
    pts = np.array([xy(p) for p in waypoints_ll])
    out = [pts[:1]]
    for a, b in itertools.pairwise(pts):
        seg = b - a
        length = float(np.hypot(*seg))
        n = max(int(length // step), 2)
        t = np.linspace(0, 1, n + 1)[1:]
        normal = np.array([-seg[1], seg[0]]) / length
        wig = np.zeros_like(t)
        for wl in (length / 1.7, length / 3.4, length / 6.3):
            wig += np.sin(2 * np.pi * t * length / wl + rng.uniform(0, 2 * np.pi))
        off = amp * np.sin(np.pi * t) * wig / 3 * min(1.0, length / (20 * KM))
        out.append(a + np.outer(t, seg) + np.outer(off, normal))
    return LineString(np.vstack(out))


def noise1d(t: np.ndarray, rng: np.random.Generator, wavelengths: Iterable[float]) -> np.ndarray:
    """Smooth 1-D noise in about [-1, 1]: normalised sum of sines."""
    wls = list(wavelengths)
    acc = sum(np.sin(2 * np.pi * t / wl + rng.uniform(0, 2 * np.pi)) for wl in wls)
    return np.asarray(acc) / np.sqrt(len(wls) * 0.5) / 2


def bspline_matrix(n: int, knots: int) -> np.ndarray:
    """(n, knots) cubic B-spline weights sampling a knot grid smoothly at n points."""
    t = np.linspace(1.0, knots - 2.0 - 1e-9, n)
    i = np.floor(t).astype(int)
    u = t - i
    w = (
        np.stack([(1 - u) ** 3, 3 * u**3 - 6 * u**2 + 4, -3 * u**3 + 3 * u**2 + 3 * u + 1, u**3])
        / 6
    )
    m = np.zeros((n, knots))
    rows = np.arange(n)
    for j in range(4):
        m[rows, i - 1 + j] = w[j]
    return m


def noise2d(shape: tuple[int, int], cells: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Smooth value noise with unit standard deviation: ``cells`` knots per (row, col) axis."""
    knots = rng.standard_normal((cells[0] + 3, cells[1] + 3))
    field = (
        bspline_matrix(shape[0], cells[0] + 3) @ knots @ bspline_matrix(shape[1], cells[1] + 3).T
    )
    return (field - field.mean()) / field.std()


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def sync_reference() -> None:
    """Refresh data/reference from ../shared/reference when that folder is present."""
    if not SHARED_REFERENCE.is_dir():
        return
    REFERENCE.mkdir(exist_ok=True)
    for name in REFERENCE_FILES:
        src, dst = SHARED_REFERENCE / name, REFERENCE / name
        if not dst.exists() or not filecmp.cmp(src, dst, shallow=False):
            shutil.copyfile(src, dst)
            log.info("copied %s into data/reference", name)


@dataclass
class Reference:
    outline: Polygon
    songhua2: LineString  # 第二松花江, oriented downstream
    songhua: LineString  # 松花江 main stem
    yalu: LineString
    tumen: LineString


def read_reference() -> Reference:
    outline = gpd.read_file(REFERENCE / "jilin_boundary.geojson").geometry.iloc[0]
    rivers = gpd.read_file(REFERENCE / "songhua_course.geojson").set_index("name").geometry
    border = gpd.read_file(REFERENCE / "yalu_tumen_border.geojson").set_index("name").geometry
    outline_m = polygons_of(to_metres(outline))
    if len(outline_m) != 1:
        raise ValueError(f"expected a one-part province outline, got {len(outline_m)} parts")
    return Reference(
        outline_m[0],
        to_metres(rivers["第二松花江"]),
        to_metres(rivers["松花江"]),
        to_metres(border["鸭绿江"]),
        to_metres(border["图们江"]),
    )


def frame(rows: Sequence[Mapping[str, object]], geoms: list[BaseGeometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=WORKING_CRS)


def per_prefecture(
    cells: dict[str, BaseGeometry], geom: BaseGeometry, *, min_area: float = 1e5
) -> list[tuple[str, BaseGeometry]]:
    """``geom`` cut along the prefecture cells: (prefecture, part) for the non-trivial parts."""
    parts = [(name, polygonal(shapely.intersection(geom, cell), min_area=min_area))
             for name, cell in cells.items()]
    return [(name, part) for name, part in parts if not part.is_empty]
