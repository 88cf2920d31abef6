"""Build the bundled Jilin "one map" sample data: ILLUSTRATIVE, NOT OFFICIAL.

Run from the repository root::

    .venv/bin/python data/make_sample.py

Everything is derived from three reference files (province outline, Songhua, Yalu/Tumen courses;
copied from ``../shared/reference`` into ``data/reference`` so the repository is self-contained)
plus fixed place coordinates and fixed random seeds, so re-running gives the same content.
Geometry is built in redline's working CRS (Albers, metres) and written in CGCS2000
(EPSG:4490). Every zone, boundary, patch, site and raster value is invented to be plausible, not
copied from any official plan; ``sample_shapefiles/PROVENANCE.md`` says what is real.
"""

from __future__ import annotations

import argparse
import filecmp
import itertools
import logging
import shutil
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.features import rasterize
from shapely import affinity, ops
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from redline.crs import WORKING_CRS

log = logging.getLogger("make_sample")

HERE = Path(__file__).resolve().parent
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


@dataclass(frozen=True)
class Reserve:
    """A nature reserve drawn as three nested wiggly rings around ``centre``."""

    name: str
    short: str
    centre: tuple[float, float]
    radii_km: tuple[float, float]
    angle: float
    redline_margin_km: float  # 0: the red line follows the reserve boundary exactly


RESERVES = (
    Reserve("吉林长白山国家级自然保护区", "长白山", (128.08, 42.15), (19.0, 24.0), 0.0, 6.0),
    Reserve("吉林向海国家级自然保护区", "向海", (122.40, 44.95), (16.0, 12.0), 20.0, 3.0),
    Reserve("吉林莫莫格国家级自然保护区", "莫莫格", (123.60, 45.90), (13.0, 17.0), -15.0, 3.0),
    Reserve("吉林查干湖国家级自然保护区", "查干湖", (124.30, 45.25), (15.0, 17.0), 10.0, 0.0),
    Reserve(
        "吉林珲春东北虎国家级自然保护区", "珲春东北虎", (130.90, 43.10), (17.0, 24.0), 35.0, 4.0
    ),
    Reserve("吉林龙湾国家级自然保护区", "龙湾", (126.40, 42.30), (8.0, 7.0), 0.0, 0.0),
)
RESERVE_RING = (0.42, 0.68)  # core and buffer outer radius as a share of the reserve radius

# Scenic areas: name, category, level, centre, radii km (0 = built from the Songhua lake).
SCENIC = (
    ("净月潭国家森林公园", "森林公园", "国家级", (125.47, 43.78), (5.5, 4.5)),
    ("松花湖风景名胜区", "风景名胜区", "国家级", (126.75, 43.60), (0.0, 0.0)),
    ("六鼎山风景名胜区", "风景名胜区", "省级", (128.20, 43.33), (3.0, 2.5)),
    ("长白山火山国家地质公园", "地质公园", "国家级", (128.06, 42.06), (12.0, 10.0)),
    ("长春北湖国家湿地公园", "湿地公园", "国家级", (125.39, 43.99), (3.0, 2.5)),
)

# Drinking-water reservoirs: name, centre (lon, lat), lake radii km, angle (0 radii: Songhua lake).
RESERVOIRS = (
    ("松花湖", (126.68, 43.72), (0.0, 0.0), 0.0),
    ("石头口门水库", (125.75, 43.95), (3.6, 1.8), 30.0),
    ("新立城水库", (125.35, 43.63), (3.0, 1.4), -20.0),
    ("二龙湖水库", (124.62, 43.22), (4.0, 1.5), 10.0),
)
WATER_RINGS_M = (300.0, 2000.0, 5000.0)  # level 1, level 2, quasi: distance from the lake shore

# Tributaries (corridor 次级): waypoints; ``None`` end = snapped onto the Second Songhua.
TRIBUTARIES = (
    (
        "伊通河",
        (
            (125.52, 43.10),
            (125.38, 43.40),
            (125.35, 43.63),
            (125.33, 43.88),
            (125.40, 44.15),
            (125.55, 44.40),
            (125.80, 44.62),
        ),
        False,
    ),
    (
        "饮马河",
        (
            (126.05, 43.15),
            (125.95, 43.50),
            (125.80, 43.80),
            (125.75, 43.95),
            (125.85, 44.25),
            (125.80, 44.62),
            (126.05, 44.90),
        ),
        True,
    ),
    (
        "辉发河",
        (
            (125.45, 42.45),
            (125.70, 42.55),
            (126.05, 42.70),
            (126.45, 42.90),
            (126.75, 42.97),
            (127.00, 43.10),
        ),
        True,
    ),
    (
        "洮儿河",
        (
            (121.90, 45.95),
            (122.30, 45.55),
            (122.79, 45.36),
            (123.20, 45.42),
            (123.60, 45.55),
            (123.95, 45.66),
        ),
        False,
    ),
    (
        "东辽河",
        (
            (125.45, 42.55),
            (125.15, 42.86),
            (124.85, 43.12),
            (124.62, 43.22),
            (124.20, 43.40),
            (123.80, 43.48),
            (123.30, 43.35),
        ),
        False,
    ),
    (
        "浑江",
        (
            (126.75, 42.05),
            (126.42, 41.93),
            (126.10, 41.80),
            (125.94, 41.72),
            (125.60, 41.50),
            (125.35, 41.15),
        ),
        False,
    ),
)
ROADS_RAILS = (
    (
        "京哈高速铁路",
        "铁路",
        (
            (126.20, 45.40),
            (126.05, 44.99),
            (125.70, 44.53),
            (125.26, 43.90),
            (124.82, 43.50),
            (124.37, 43.15),
            (124.00, 42.70),
        ),
    ),
    ("长吉城际铁路", "铁路", ((125.32, 43.90), (125.69, 43.99), (126.10, 43.93), (126.55, 43.86))),
    (
        "G12珲乌高速公路",
        "高速公路",
        (
            (125.32, 43.86),
            (125.90, 43.82),
            (126.55, 43.80),
            (127.34, 43.70),
            (128.23, 43.36),
            (128.90, 43.10),
            (129.51, 42.87),
            (129.84, 42.95),
            (130.37, 42.84),
        ),
    ),
    (
        "长白铁路",
        "铁路",
        ((125.32, 43.89), (125.18, 44.43), (124.82, 45.14), (124.29, 45.51), (122.84, 45.62)),
    ),
)

# Old industrial areas the 2014 opinions name for relocation / renewal.
RELOCATION_SITES = (
    ("长春宽城区铁北老工业区改造", "商业", (125.338, 43.918), 14.0),
    ("吉林哈达湾老工业区搬迁改造", "住宅", (126.505, 43.872), 16.0),
    ("四平铁东老工业区改造", "工业", (124.385, 43.158), 12.0),
    ("通化二道江老工业区改造", "工业", (126.030, 41.770), 10.0),
    ("辽源西安区老工业区改造", "住宅", (125.158, 42.925), 9.0),
)

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
LC_RES, DEM_RES = 0.0025, 0.005
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


# ----------------------------------------------------------------------------------------------
# Small helpers


def rng_for(name: str) -> np.random.Generator:
    """An independent random stream per purpose, so adding one never shifts the others."""
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


_TO_M = Transformer.from_crs("EPSG:4326", WORKING_CRS, always_xy=True)
_TO_LL = Transformer.from_crs(WORKING_CRS, "EPSG:4326", always_xy=True)


def xy(lonlat: tuple[float, float]) -> tuple[float, float]:
    """Working-CRS metres of a (lon, lat) pair."""
    x, y = _TO_M.transform(*lonlat)
    return float(x), float(y)


def to_metres(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda c: np.column_stack(_TO_M.transform(c[:, 0], c[:, 1])))


def to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda c: np.column_stack(_TO_LL.transform(c[:, 0], c[:, 1])))


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


def _bspline_matrix(n: int, knots: int) -> np.ndarray:
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
        _bspline_matrix(shape[0], cells[0] + 3) @ knots @ _bspline_matrix(shape[1], cells[1] + 3).T
    )
    return (field - field.mean()) / field.std()


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


# ----------------------------------------------------------------------------------------------
# Reference data


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


# ----------------------------------------------------------------------------------------------
# Planning layers


@dataclass
class Layers:
    ref: Reference
    cells: dict[str, BaseGeometry]  # prefecture name -> cell (working CRS)
    key_shapes: list[tuple[str, Polygon, Polygon]]  # (name, key zone shape, city core)
    agri_region: Polygon
    reserves: gpd.GeoDataFrame
    reserve_outer: dict[str, BaseGeometry]
    scenic: gpd.GeoDataFrame
    lakes: dict[str, BaseGeometry]
    water: gpd.GeoDataFrame
    zoning: gpd.GeoDataFrame
    redlines: gpd.GeoDataFrame
    farmland: gpd.GeoDataFrame
    rivers: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame


def frame(rows: Sequence[Mapping[str, object]], geoms: list[BaseGeometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=WORKING_CRS)


def make_cells(outline: Polygon) -> dict[str, BaseGeometry]:
    """Approximate prefecture units: warped Voronoi cells of the seats, clipped to the outline."""
    seats = [Point(xy(p[1])) for p in PREFECTURES]
    cells = shapely.get_parts(
        shapely.voronoi_polygons(MultiPoint(seats), extend_to=outline.envelope.buffer(300 * KM))
    )
    warp = Warp(rng_for("cells"), amp=6 * KM, wavelengths=(140 * KM, 70 * KM, 23 * KM))
    out: dict[str, BaseGeometry] = {}
    for (name, *_), seat in zip(PREFECTURES, seats, strict=True):
        cell = next(c for c in cells if c.contains(seat))
        out[name] = warp.apply(cell, step=2 * KM)
    names = list(out)
    for name in names[:-1]:  # the last unit takes the remainder so the units tile the outline
        out[name] = polygonal(shapely.intersection(out[name], outline), min_area=1.0)
    out[names[-1]] = polygonal(
        shapely.difference(outline, shapely.union_all([out[n] for n in names[:-1]])), min_area=1.0
    )
    for name, seat in zip(names, seats, strict=True):
        if not out[name].contains(seat):
            raise ValueError(f"warped prefecture cell {name} lost its seat")
    return out


def make_agri_region() -> Polygon:
    """The central plains (农产品主产区 candidates) between a wiggly west and east edge."""
    lat = np.arange(40.0, 47.5, 0.01)
    west = np.interp(
        lat,
        (40.0, 43.0, 43.8, 44.5, 45.0, 45.5, 47.5),
        (123.6, 123.6, 123.8, 123.7, 123.95, 124.4, 124.9),
    )
    east = plains_east_edge(lat)
    r = rng_for("agri-edges")
    west = (
        west
        + 0.13 * noise1d(lat, r, (1.7, 0.9, 0.43, 0.21))
        + 0.015 * noise1d(lat, r, (0.05, 0.031))
    )
    east = (
        east
        + 0.15 * noise1d(lat, r, (1.9, 0.8, 0.37, 0.19))
        + 0.015 * noise1d(lat, r, (0.06, 0.027))
    )
    ring = np.vstack([np.column_stack([west, lat]), np.column_stack([east, lat])[::-1]])
    return to_metres(Polygon(ring))


def plains_east_edge(lat: np.ndarray) -> np.ndarray:
    """Longitude where the central plains meet the eastern mountains (smooth, no noise)."""
    return np.interp(
        lat,
        (40.0, 41.5, 42.5, 43.0, 43.5, 44.0, 44.5, 45.0, 47.5),
        (125.0, 125.0, 125.3, 125.6, 126.0, 126.35, 126.9, 127.3, 127.5),
    )


def make_key_shapes() -> list[tuple[str, Polygon, Polygon]]:
    """Key development zones: wiggly circles around seats and towns, plus the Changchun–Jilin
    corridor. Each comes with its city core (no farmland there)."""
    out = []
    r = rng_for("key-zones")
    places = [(n, p, rad) for n, p, _, _, rad in PREFECTURES]
    places += [(n, p, rad) for n, (p, rad) in TOWNS.items() if rad > 0]
    for name, centre, radius in places:
        profile = radial_profile(r, rough=0.22)
        shape = star(
            xy(centre), (radius * KM, radius * KM * r.uniform(0.8, 1.0)), r.uniform(0, 180), profile
        )
        core = star(
            xy(centre), (radius * 0.45 * KM, radius * 0.45 * KM), 0.0, radial_profile(r, rough=0.1)
        )
        out.append((name, shape, core))
    corridor = meander((PREFECTURES[0][1], (125.9, 43.90), PREFECTURES[1][1]), r, amp=3 * KM)
    shape = Warp(r, amp=1.5 * KM, wavelengths=(30 * KM, 11 * KM)).apply(
        corridor.buffer(7 * KM), step=1 * KM
    )
    out.append(("长吉一体化", polygonal(shape), Polygon()))
    return out


def make_reserves(outline: Polygon) -> tuple[gpd.GeoDataFrame, dict[str, BaseGeometry]]:
    rows, geoms, outer = [], [], {}
    labels = ("核心区", "缓冲区", "实验区")
    for i, res in enumerate(RESERVES):
        r = rng_for(f"reserve-{res.short}")
        c = xy(res.centre)
        radii = (res.radii_km[0] * KM, res.radii_km[1] * KM)
        base = radial_profile(r, rough=0.2)
        core_p = base * RESERVE_RING[0] * (1 + 0.08 * radial_profile(r, rough=0.5) - 0.08)
        buf_p = base * RESERVE_RING[1] * (1 + 0.06 * radial_profile(r, rough=0.5) - 0.06)
        shapes = [star(c, radii, res.angle, p) for p in (core_p, buf_p, base)]
        shapes = [polygonal(shapely.intersection(s, outline)) for s in shapes]
        rings = [
            shapes[0],
            shapely.difference(shapes[1], shapes[0]),
            shapely.difference(shapes[2], shapes[1]),
        ]
        outer[res.short] = shapes[2]
        for j, (zone, ring) in enumerate(zip(labels, rings, strict=True)):
            rows.append(
                {
                    "feature_id": f"ZRBHQ{i + 1:02d}{j + 1}",
                    "name": f"{res.name}{zone}",
                    "zone": zone,
                    "reserve": res.name,
                    "level": "国家级",
                }
            )
            geoms.append(polygonal(ring, min_area=1.0))
    return frame(rows, geoms), outer


def make_lakes(ref: Reference) -> dict[str, BaseGeometry]:
    """Reservoir water surfaces; Songhua lake follows the Second Songhua upstream of Fengman."""
    lakes: dict[str, BaseGeometry] = {}
    for name, centre, radii, angle in RESERVOIRS:
        r = rng_for(f"lake-{name}")
        if radii[0] == 0:
            dam = ref.songhua2.project(Point(xy(centre)))
            axis = ops.substring(ref.songhua2, dam - 75 * KM, dam)
            widths = Warp(r, amp=500.0, wavelengths=(9 * KM, 3.1 * KM))
            lake = widths.apply(axis.buffer(1300.0, quad_segs=12), step=300.0)
        else:
            lake = blob(centre, radii, r, angle=angle, rough=0.35)
        lakes[name] = polygonal(shapely.intersection(lake, ref.outline))
    return lakes


def make_water(lakes: dict[str, BaseGeometry], outline: Polygon) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    labels = ("一级保护区", "二级保护区", "准保护区")
    for i, (name, lake) in enumerate(lakes.items()):
        outers = [
            polygonal(shapely.intersection(lake.buffer(d, quad_segs=8), outline))
            for d in WATER_RINGS_M
        ]
        rings = [
            outers[0],
            shapely.difference(outers[1], outers[0]),
            shapely.difference(outers[2], outers[1]),
        ]
        for j, (label, ring) in enumerate(zip(labels, rings, strict=True)):
            rows.append(
                {
                    "feature_id": f"SYBH{i + 1:02d}{j + 1}",
                    "name": f"{name}饮用水水源{label}",
                    "level": label,
                    "source": f"{name}饮用水水源地",
                }
            )
            geoms.append(polygonal(ring, min_area=1.0))
    return frame(rows, geoms)


def make_scenic(lakes: dict[str, BaseGeometry]) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i, (name, category, level, centre, radii) in enumerate(SCENIC):
        r = rng_for(f"scenic-{name}")
        if radii[0] == 0:
            shape = Warp(r, amp=700.0, wavelengths=(12 * KM, 4 * KM)).apply(
                lakes["松花湖"].buffer(3 * KM, quad_segs=8), step=500.0
            )
        else:
            shape = blob(centre, radii, r, angle=r.uniform(0, 180), rough=0.25)
        rows.append(
            {"feature_id": f"FJMS{i + 1:03d}", "name": name, "category": category, "level": level}
        )
        geoms.append(polygonal(shape))
    return frame(rows, geoms)


def prefecture_of(cells: dict[str, BaseGeometry], geom: BaseGeometry) -> str:
    """The prefecture holding most of ``geom`` (or its representative point)."""
    pt = (
        geom.representative_point()
        if geom.geom_type != "LineString"
        else geom.interpolate(0.5, normalized=True)
    )
    for name, cell in cells.items():
        if cell.contains(pt):
            return name
    return min(cells, key=lambda n: cells[n].distance(pt))


def make_zoning(
    outline: Polygon,
    cells: dict[str, BaseGeometry],
    key_shapes: list[tuple[str, Polygon, Polygon]],
    agri: Polygon,
    reserve_outer: dict[str, BaseGeometry],
    scenic: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Tile the outline: prohibited areas first, key zones next, the rest restricted."""
    rows: list[dict[str, object]] = []
    geoms: list[BaseGeometry] = []
    taken = Polygon()
    protected = [(RESERVES[i].name, g) for i, g in enumerate(reserve_outer.values())]
    protected += list(zip(scenic["name"], scenic.geometry, strict=True))
    for name, geom in protected:
        piece = polygonal(
            shapely.difference(shapely.intersection(geom, outline), taken), min_area=1e4
        )
        if piece.is_empty:
            continue
        taken = shapely.union(taken, piece)
        rows.append({"name": f"{name}（禁止开发区域）", "zone": "禁止开发区域", "subtype": None})
        geoms.append(piece)
    prohibited = taken
    key = shapely.difference(
        shapely.intersection(shapely.union_all([s for _, s, _ in key_shapes]), outline), prohibited
    )
    rest = shapely.difference(shapely.difference(outline, prohibited), key)
    groups = (
        ("重点开发区域", "城市化地区", key),
        ("限制开发区域", "农产品主产区", shapely.intersection(rest, agri)),
        ("限制开发区域", "重点生态功能区", shapely.difference(rest, agri)),
    )
    names = list(cells)
    for zone, subtype, area in groups:
        pieces = {n: shapely.intersection(area, cells[n]) for n in names[:-1]}
        pieces[names[-1]] = shapely.difference(area, shapely.union_all(list(pieces.values())))
        for pref, piece in pieces.items():
            poly = polygonal(piece)
            if poly.area < 1e6:  # under 1 km²: left to the neighbouring unit of the same class
                continue
            if subtype == "城市化地区":
                label = f"{pref}重点开发区域"
            elif subtype == "农产品主产区":
                label = f"{pref}农产品主产区"
            elif poly.centroid.x > xy((125.5, 43.5))[0]:
                label = f"长白山森林生态功能区（{pref}）"
            else:
                label = f"西部草原湿地生态功能区（{pref}）"
            rows.append({"name": label, "zone": zone, "subtype": subtype})
            geoms.append(poly)
    # Pieces under 1 km² that were skipped: merge each into the feature it touches most.
    out = frame(rows, geoms)
    gap = polygonal(shapely.difference(outline, shapely.union_all(out.geometry.values)))
    for part in polygons_of(gap):
        shared = shapely.length(shapely.intersection(out.geometry.values, part.boundary))
        if shared.max() > 0:
            j = int(np.argmax(shared))
            out.loc[out.index[j], "geometry"] = polygonal(shapely.union(out.geometry.iloc[j], part))
    out.insert(0, "feature_id", [f"ZTGN{i + 1:03d}" for i in range(len(out))])
    return out


def make_redlines(
    ref: Reference,
    cells: dict[str, BaseGeometry],
    agri: Polygon,
    reserve_outer: dict[str, BaseGeometry],
    key: BaseGeometry,
    lakes: dict[str, BaseGeometry],
) -> gpd.GeoDataFrame:
    r = rng_for("redlines")
    outline = ref.outline
    parts: list[BaseGeometry] = []
    for res in RESERVES:
        shape = reserve_outer[res.short]
        if res.redline_margin_km > 0:
            grown = Warp(r, amp=res.redline_margin_km * 150, wavelengths=(15 * KM, 6 * KM))
            shape = shapely.union(
                shape,
                grown.apply(shape.buffer(res.redline_margin_km * KM, quad_segs=6), step=600.0),
            )
        parts.append(shape)
    border = shapely.union(ref.yalu, ref.tumen)
    parts.append(
        Warp(r, amp=700.0, wavelengths=(18 * KM, 7 * KM)).apply(
            border.buffer(3 * KM, quad_segs=6), step=600.0
        )
    )
    # Upper Songhua lake catchment (water conservation around the reservoir).
    parts.append(lakes["松花湖"].buffer(1500.0))
    east = shapely.difference(outline, agri.buffer(8 * KM))
    west_lon = xy((124.2, 44.5))[0]
    keep_clear = shapely.union_all(
        [
            reserve_outer["查干湖"].buffer(14 * KM),
            reserve_outer["龙湾"].buffer(14 * KM),
            key.buffer(3 * KM),
        ]
    )
    for region, count, radius, tag in (
        (east, 100, (6.0, 18.0), "east"),
        (outline, 60, (3.0, 8.0), "west"),
    ):
        minx, miny, maxx, maxy = region.bounds
        placed = 0
        while placed < count:
            p = Point(r.uniform(minx, maxx), r.uniform(miny, maxy))
            if not region.contains(p) or keep_clear.contains(p):
                continue
            if tag == "west" and (p.x > west_lon or agri.contains(p)):
                continue
            ll = to_lonlat(p)
            rad = r.uniform(*radius)
            parts.append(
                blob(
                    (ll.x, ll.y),
                    (rad, rad * r.uniform(0.5, 1.0)),
                    r,
                    angle=r.uniform(0, 180),
                    rough=0.3,
                )
            )
            placed += 1
    union = shapely.intersection(shapely.union_all(parts), outline)
    union = shapely.difference(union, key)
    reserves_all = shapely.union_all(list(reserve_outer.values()))
    rows: list[dict[str, object]] = []
    geoms: list[BaseGeometry] = []
    for part in sorted(polygons_of(union, min_area=5e5), key=lambda g: (-g.area, g.centroid.x)):
        if part.intersects(reserves_all):
            category = "生物多样性维护"
        elif part.distance(border) < 4 * KM:
            category = "水土保持"
        elif part.centroid.x < west_lon:
            category = "防风固沙"
        else:
            category = "水源涵养"
        pref = prefecture_of(cells, part)
        rows.append(
            {
                "feature_id": f"STHX{len(rows) + 1:04d}",
                "name": f"{pref}{category}生态保护红线",
                "category": category,
            }
        )
        geoms.append(part)
    return frame(rows, geoms)


def make_farmland(
    outline: Polygon,
    agri: Polygon,
    key_shapes: list[tuple[str, Polygon, Polygon]],
    prohibited: BaseGeometry,
    redlines: BaseGeometry,
    water: BaseGeometry,
    cells: dict[str, BaseGeometry],
) -> gpd.GeoDataFrame:
    r = rng_for("farmland")
    cores = shapely.union_all([c.buffer(1.5 * KM) for _, _, c in key_shapes if not c.is_empty])
    region = shapely.difference(
        shapely.intersection(agri, outline),
        shapely.union_all([cores, prohibited.buffer(500.0), redlines.buffer(500.0), water]),
    )
    shapely.prepare(region)
    minx, miny, maxx, maxy = region.bounds
    pts = np.column_stack([r.uniform(minx, maxx, 6000), r.uniform(miny, maxy, 6000)])
    pts = pts[shapely.contains_xy(region, pts[:, 0], pts[:, 1])][:560]
    cells_v = shapely.get_parts(
        shapely.voronoi_polygons(MultiPoint(pts), extend_to=region.envelope.buffer(50 * KM))
    )
    warp = Warp(r, amp=1.0 * KM, wavelengths=(24 * KM, 9 * KM, 3.3 * KM))
    rows: list[dict[str, object]] = []
    geoms: list[BaseGeometry] = []
    keep = r.random(len(cells_v)) < 0.8
    for cell, kept in zip(cells_v, keep, strict=True):
        if not kept:
            continue
        patch = shapely.intersection(warp.apply(cell, step=700.0), region).buffer(
            -350.0, quad_segs=3
        )
        for part in polygons_of(patch, min_area=2e6):
            part = part.simplify(60.0)
            pref = prefecture_of(cells, part)
            rows.append(
                {
                    "feature_id": f"YJJBNT{len(rows) + 1:05d}",
                    "name": f"{pref}永久基本农田保护片{len(rows) + 1:04d}",
                    "area_ha": round(part.area / 1e4, 2),
                }
            )
            geoms.append(part)
    return frame(rows, geoms)


def make_rivers(ref: Reference) -> gpd.GeoDataFrame:
    rows: list[dict[str, object]] = [
        {"name": "第二松花江", "corridor": "省级"},
        {"name": "松花江", "corridor": "省级"},
        {"name": "鸭绿江", "corridor": "省级"},
        {"name": "图们江", "corridor": "省级"},
    ]
    geoms: list[BaseGeometry] = [ref.songhua2, ref.songhua, ref.yalu, ref.tumen]
    for name, waypoints, snap in TRIBUTARIES:
        pts = list(waypoints)
        if snap:
            end = ref.songhua2.interpolate(ref.songhua2.project(Point(xy(pts[-1]))))
            ll = to_lonlat(end)
            pts[-1] = (ll.x, ll.y)
        line = meander(pts, rng_for(f"river-{name}"), amp=2.0 * KM)
        rows.append({"name": name, "corridor": "次级"})
        geoms.append(shapely.intersection(line, ref.outline))
    out = frame(rows, geoms)
    out.insert(0, "feature_id", [f"HL{i + 1:03d}" for i in range(len(out))])
    return out


def make_roads(outline: Polygon) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i, (name, category, waypoints) in enumerate(ROADS_RAILS):
        line = meander(waypoints, rng_for(f"road-{name}"), amp=0.8 * KM)
        rows.append(
            {"feature_id": f"JT{i + 1:03d}", "name": name, "corridor": "次级", "category": category}
        )
        geoms.append(shapely.intersection(line, outline))
    return frame(rows, geoms)


def make_boundary(outline: Polygon, cells: dict[str, BaseGeometry]) -> gpd.GeoDataFrame:
    rows: list[dict[str, object]] = [{"feature_id": "220000", "name": "吉林省", "level": "省"}]
    geoms: list[BaseGeometry] = [outline]
    for name, _seat, code, level, _r in PREFECTURES:
        rows.append({"feature_id": code, "name": name, "level": level})
        geoms.append(cells[name])
    return frame(rows, geoms)


def build_layers() -> Layers:
    ref = read_reference()
    cells = make_cells(ref.outline)
    agri = make_agri_region()
    key_shapes = make_key_shapes()
    reserves, reserve_outer = make_reserves(ref.outline)
    lakes = make_lakes(ref)
    water = make_water(lakes, ref.outline)
    scenic = make_scenic(lakes)
    scenic["geometry"] = [polygonal(shapely.intersection(g, ref.outline)) for g in scenic.geometry]
    zoning = make_zoning(ref.outline, cells, key_shapes, agri, reserve_outer, scenic)
    key = shapely.union_all(zoning.geometry[zoning["zone"] == "重点开发区域"].values)
    prohibited = shapely.union_all(zoning.geometry[zoning["zone"] == "禁止开发区域"].values)
    redlines = make_redlines(ref, cells, agri, reserve_outer, key, lakes)
    level12 = shapely.union_all(water.geometry[water["level"] != "准保护区"].values)
    farmland = make_farmland(
        ref.outline,
        agri,
        key_shapes,
        prohibited,
        shapely.union_all(redlines.geometry.values),
        level12,
        cells,
    )
    return Layers(
        ref,
        cells,
        key_shapes,
        agri,
        reserves,
        reserve_outer,
        scenic,
        lakes,
        water,
        zoning,
        redlines,
        farmland,
        make_rivers(ref),
        make_roads(ref.outline),
        make_boundary(ref.outline, cells),
    )


# ----------------------------------------------------------------------------------------------
# Rasters


@dataclass
class Grid:
    res: float
    width: int
    height: int
    transform: Affine
    lon: np.ndarray  # (width,) pixel-centre longitudes
    lat: np.ndarray  # (height,) pixel-centre latitudes

    @classmethod
    def at(cls, res: float) -> Grid:
        west, south, east, north = GRID_BOUNDS
        width, height = round((east - west) / res), round((north - south) / res)
        return cls(
            res,
            width,
            height,
            Affine(res, 0.0, west, 0.0, -res, north),
            west + res * (np.arange(width) + 0.5),
            north - res * (np.arange(height) + 0.5),
        )

    def burn(self, geoms: Iterable[BaseGeometry], *, all_touched: bool = False) -> np.ndarray:
        """Boolean mask of pixels covered by the (working-CRS) geometries."""
        shapes = [(to_lonlat(g), 1) for g in geoms if not g.is_empty]
        if not shapes:
            return np.zeros((self.height, self.width), bool)
        return rasterize(
            shapes,
            out_shape=(self.height, self.width),
            transform=self.transform,
            all_touched=all_touched,
            dtype="uint8",
        ).astype(bool)


def make_dem(grid: Grid) -> np.ndarray:
    """Elevation (m): low western plains rising east to the Changbai massif and Tianchi."""
    r = rng_for("dem")
    shape = (grid.height, grid.width)
    lon, lat = np.meshgrid(grid.lon, grid.lat)
    base = 130.0 + 38.0 * np.clip(lon - 121.6, 0, None) + 15 * noise2d(shape, (12, 20), r)
    khingan = 260.0 * smoothstep((122.4 - lon) / 0.8) * smoothstep((lat - 44.6) / 0.6)
    mtn = smoothstep((lon - plains_east_edge(lat)) / 1.0)
    broad = 0.5 + 0.5 * np.tanh(noise2d(shape, (25, 45), r))
    ridged = (1 - np.abs(noise2d(shape, (170, 280), r)).clip(0, 1.6) / 1.6) ** 2
    fine = noise2d(shape, (260, 420), r)
    uplift = mtn * (260.0 + 480.0 * broad + 700.0 * ridged * (0.35 + broad) + 60.0 * fine)
    dxk = (lon - 128.06) * 111.32 * np.cos(np.radians(42.0))
    dyk = (lat - 42.0) * 110.95
    d = np.hypot(dxk, dyk)
    cone = 2150.0 * np.exp(-((d / 18.0) ** 1.3))
    caldera = np.where(
        d < 4.5,
        np.maximum(2189.0, 2189.0 + 500.0 * ((d - 2.0) / 2.5).clip(0) ** 1.5) - (900.0 + cone),
        0.0,
    )
    dem = base + khingan + uplift + cone + np.minimum(caldera, 0.0)
    dem = np.where(d < 2.0, 2189.0, dem)
    return np.clip(np.round(dem), 110, 2745).astype(np.int16)


def slope_degrees(dem: np.ndarray, grid: Grid) -> np.ndarray:
    dy = grid.res * 110950.0
    dx = grid.res * 111320.0 * np.cos(np.radians(grid.lat))[:, None]
    gy, gx = np.gradient(dem.astype(float))
    return np.degrees(np.arctan(np.hypot(gx / dx, gy / dy)))


def make_landcover(grid: Grid, layers: Layers, dem_hi: np.ndarray) -> np.ndarray:
    """CLCD-style classes: forest east, cropland centre, grassland/wetland west, water, towns."""
    r = rng_for("landcover")
    shape = (grid.height, grid.width)
    lon = np.broadcast_to(grid.lon, shape)
    agri = grid.burn([layers.agri_region])
    west = ~agri & (lon < 125.0)
    east = ~agri & ~west
    n1, n2, n3 = (noise2d(shape, (90, 160), r) for _ in range(3))
    n4 = noise2d(shape, (260, 460), r)
    lc = np.full(shape, 1, np.uint8)
    lc[east] = 2
    lc[east & (n1 > 1.0) & (dem_hi < 700)] = 1  # valley fields
    lc[east & (n2 > 1.3)] = 3
    lc[agri & (n2 > 1.5)] = 2  # shelter belts and woods on the plains
    lc[west] = 4
    lc[west & (n1 > -0.2)] = 1
    lc[west & (n3 > 1.1)] = 7  # saline-alkali barren land
    lc[west & (n4 > 1.9)] = 5  # small lakes and ponds
    lc[(dem_hi > 2000)] = 4  # alpine tundra above the tree line
    lc[(dem_hi > 2400)] = 7
    wet = grid.burn([layers.reserve_outer[s] for s in ("向海", "莫莫格", "查干湖")])
    lc[wet & (n3 > -0.4)] = 9
    lc[wet & (n4 > 1.2)] = 5
    lakes = list(layers.lakes.values())
    lakes.append(blob((124.25, 45.27), (8.0, 10.0), r, angle=15.0, rough=0.3))  # Chagan lake
    lakes.append(blob((128.06, 42.005), (1.9, 2.3), r, rough=0.1))  # Tianchi
    rivers = [
        layers.ref.songhua.buffer(450.0),
        layers.ref.songhua2.buffer(220.0),
        layers.ref.yalu.buffer(250.0),
    ]
    lc[grid.burn(rivers)] = 5
    lc[grid.burn(layers.rivers.geometry.iloc[4:], all_touched=True)] = 5
    lc[grid.burn(lakes)] = 5
    towns = [Point(xy(p)).buffer(rad * 0.45 * KM) for _, p, _, _, rad in PREFECTURES]
    towns += [Point(xy(p)).buffer(2.2 * KM) for p, _ in TOWNS.values()]
    lc[grid.burn(towns) & (n4 > -1.2)] = 8
    lc[agri & (n4 > 2.4)] = 8  # villages
    lc[~grid.burn([layers.ref.outline])] = 0
    return lc


def write_tif(path: Path, data: np.ndarray, grid: Grid, *, nodata: float) -> None:
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": data.dtype.name,
        "crs": OUT_CRS,
        "transform": grid.transform,
        "nodata": nodata,
        "compress": "DEFLATE",
        "zlevel": 9,
        "predictor": 2,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)


# ----------------------------------------------------------------------------------------------
# Sites


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


def make_sites(ctx: Context) -> gpd.GeoDataFrame:
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
    return gpd.GeoDataFrame(mk.rows, geometry=mk.geoms, crs=WORKING_CRS)


# ----------------------------------------------------------------------------------------------
# Parcels


PARCEL_BOX = (125.40, 43.69, 125.62, 43.84)  # lon/lat around Jingyuetan, SE of Changchun


def make_parcels(layers: Layers) -> gpd.GeoDataFrame:
    """About 3,000 cadastral-like parcels (1–30 ha) straddling key, restricted and prohibited."""
    r = rng_for("parcels")
    box = to_metres(shapely.box(*PARCEL_BOX))
    minx, miny, maxx, maxy = box.bounds
    step = 300.0
    gx, gy = np.meshgrid(
        np.arange(minx - step, maxx + step, step), np.arange(miny - step, maxy + step, step)
    )
    pts = np.column_stack([gx.ravel(), gy.ravel()]) + r.uniform(-0.38, 0.38, (gx.size, 2)) * step
    pts = pts[r.random(len(pts)) > 0.22]  # merged holdings: larger parcels
    extra = np.column_stack([r.uniform(minx, maxx, 700), r.uniform(miny, maxy, 700)])
    pts = np.vstack([pts, extra])  # subdivided holdings: smaller parcels
    cells = shapely.get_parts(
        shapely.voronoi_polygons(MultiPoint(pts), extend_to=box.buffer(5 * KM))
    )
    warp = Warp(r, amp=25.0, wavelengths=(900.0, 400.0))
    cells = shapely.intersection(np.array([warp.apply(c, step=60.0) for c in cells]), box)
    area = shapely.area(cells)
    cells = cells[(area >= 1e4) & (area <= 30e4)]
    cells = cells[
        np.argsort(
            shapely.get_y(shapely.centroid(cells)) * -1e7 + shapely.get_x(shapely.centroid(cells))
        )
    ]
    z = layers.zoning
    zone_idx = np.full(len(cells), -1)
    tree = shapely.STRtree(z.geometry.values)
    pairs = tree.query(shapely.centroid(cells), predicate="within")
    zone_idx[pairs[0]] = pairs[1]
    zones = np.where(zone_idx >= 0, z["zone"].to_numpy()[zone_idx.clip(0)], "")
    uses = {
        "重点开发区域": (
            ("住宅用地", 0.34),
            ("工业用地", 0.16),
            ("商服用地", 0.14),
            ("公共管理与公共服务用地", 0.1),
            ("交通运输用地", 0.08),
            ("耕地", 0.12),
            ("林地", 0.04),
            ("水域及水利设施用地", 0.02),
        ),
        "限制开发区域": (
            ("耕地", 0.72),
            ("林地", 0.1),
            ("农村宅基地", 0.08),
            ("草地", 0.03),
            ("交通运输用地", 0.04),
            ("水域及水利设施用地", 0.03),
        ),
        "禁止开发区域": (
            ("林地", 0.78),
            ("草地", 0.06),
            ("水域及水利设施用地", 0.08),
            ("耕地", 0.05),
            ("公共管理与公共服务用地", 0.03),
        ),
    }
    land_use = []
    for zname in zones:
        names, p = zip(*uses.get(zname, uses["限制开发区域"]), strict=True)
        land_use.append(names[int(r.choice(len(names), p=np.array(p) / sum(p)))])
    return gpd.GeoDataFrame(
        {"parcel_id": [f"JC{i + 1:06d}" for i in range(len(cells))], "地类": land_use},
        geometry=cells,
        crs=WORKING_CRS,
    )


# ----------------------------------------------------------------------------------------------
# Writing


def lonlat_checked(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """``gdf`` snapped to a 1 cm grid (removing near-touching slivers from the overlays) and
    reprojected to EPSG:4490, refusing geometry that is invalid in either CRS."""
    snapped = gdf.set_geometry(shapely.set_precision(gdf.geometry.values, 0.01))
    out = snapped.to_crs(OUT_CRS)
    back = out.to_crs(WORKING_CRS)
    for label, frame_ in (("EPSG:4490", out), ("the working CRS", back)):
        bad = ~frame_.geometry.is_valid | frame_.geometry.is_empty
        if bad.any():
            raise ValueError(f"{name}: {int(bad.sum())} geometries invalid or empty in {label}")
    return out


def write_shapefile(
    gdf: gpd.GeoDataFrame, out_dir: Path, kind: str, extra: dict[str, str] | None = None
) -> None:
    fields = dict(FIELDS[kind])
    fields.update(extra or {})
    out = lonlat_checked(gdf[[*fields, "geometry"]].rename(columns=fields), kind)
    for name in fields.values():
        if len(name.encode()) > 10:
            raise ValueError(f"{kind}: field name {name!r} exceeds the 10-byte DBF limit")
    for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        (out_dir / f"{kind}{suffix}").unlink(missing_ok=True)
    out.to_file(
        out_dir / f"{kind}.shp",
        driver="ESRI Shapefile",
        encoding="UTF-8",
        engine="pyogrio",
        DBF_DATE_LAST_UPDATE=FIXED_DATE[:10],  # byte-identical re-runs
    )
    cpg = out_dir / f"{kind}.cpg"
    if not cpg.exists() or cpg.read_text().strip() != "UTF-8":
        cpg.write_text("UTF-8\n")


def write_gpkg(gdf: gpd.GeoDataFrame, out_dir: Path, name: str) -> None:
    path = out_dir / f"{name}.gpkg"
    path.unlink(missing_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})  # byte-identical re-runs
    try:
        lonlat_checked(gdf, name).to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def manifest_text() -> str:
    lines = [
        "# Manifest of the bundled sample data. Written by data/make_sample.py; do not edit.",
        "# ILLUSTRATIVE SAMPLE, NOT OFFICIAL DATA: see PROVENANCE.md.",
        "",
        "[planning]",
        f'name = "{PLANNING_NAME}"',
    ]
    for kind, fields in FIELDS.items():
        lines += ["", f"[layers.{kind}]", f'path = "{kind}.shp"', "", f"[layers.{kind}.fields]"]
        lines += [f'{canon} = "{src}"' for canon, src in fields.items()]
        for (k, field), table in EXTRA_VALUES.items():
            if k == kind:
                lines += ["", f"[layers.{kind}.values.{field}]"]
                lines += [f'"{src}" = "{canon}"' for src, canon in table.items()]
    lines += [
        "",
        "[rasters.landcover]",
        'path = "landcover.tif"',
        "",
        "[rasters.landcover.classes]",
    ]
    lines += [f'{code} = "{canon}"  # {zh}' for code, (zh, canon) in LANDCOVER_CODES.items()]
    lines += ["", "[rasters.dem]", 'path = "dem.tif"', ""]
    return "\n".join(lines)


PROVENANCE = """\
# ILLUSTRATIVE SAMPLE, NOT OFFICIAL DATA / 示例数据，非官方数据

> **本目录中的数据是为测试和演示 redline 而编造的示例数据，不是吉林省任何官方规划成果，不得用于
> 规划审批、选址论证或任何决策。**
>
> **These files are an illustrative sample made up to test and demonstrate redline. They are
> not official planning data of Jilin Province and must not be used for any planning approval,
> site selection or decision.**

Generated by `data/make_sample.py` (deterministic: fixed seeds; re-running gives the same
content). CRS: CGCS2000 geographic (EPSG:4490). Attribute names and values are Chinese, as real
data arrives; `manifest.toml` maps them to redline's canonical schema.

## 真实来源 / What is real

- 吉林省省界 (`../reference/jilin_boundary.geojson`; the province feature of `boundary`):
  Natural Earth 10m admin-1, public domain / 公有领域.
- 鸭绿江、图们江 (`../reference/yalu_tumen_border.geojson`): the China–DPRK border from Natural
  Earth 10m, public domain; the border follows both rivers, so it stands for their courses /
  中朝边界沿河，用作河道的近似.
- 第二松花江、松花江干流 (`../reference/songhua_course.geojson`): traced along the national
  1:4,000,000 public basic geographic river lines, smoothed (9 km) and simplified (300 m):
  approximate / 沿国家 1:400 万公开基础地理河流线描绘并平滑简化，近似.
- 各市州驻地、县城、自然保护区、水库、风景区的大致位置 / approximate coordinates of real place
  names (seats, towns, reserves, reservoirs, scenic areas).

The three reference files are copies of `shared/reference/` kept in `data/reference/` so the
repository is self-contained.

## 近似或编造 / What is approximate or invented

除上述内容外，所有边界、主体功能区、保护区分区、生态保护红线、水源保护区、永久基本农田、风景区范围、
支流与交通线走向、栅格数值、拟建项目和地块均为编造，仅求地理上大致合理，与官方成果无关。

Everything else is invented, shaped only to be geographically plausible:

- **行政区划 boundary**: the nine prefecture-level units are warped Voronoi cells of the real
  seats clipped to the province outline — not the legal boundaries.
- **主体功能区 zoning**: key zones are wiggly circles around seats and towns plus a
  Changchun–Jilin corridor; restricted agricultural/ecological areas follow an invented plains
  edge; prohibited areas are the invented reserve and scenic shapes below. Not the 2013 Jilin
  main functional zone plan.
- **自然保护区 reserves**: real names and approximate locations; every outline and every
  核心区/缓冲区/实验区 ring is invented (nested star shapes).
- **生态保护红线 redlines**: invented patches around reserves, along the Yalu/Tumen, in the eastern
  mountains and the western grasslands. Not the approved Jilin red line.
- **饮用水水源保护区 water_sources**: real reservoir names; lake shapes invented (Songhua Lake
  follows the reference Second Songhua upstream of Fengman); zones are plain distance rings
  (300 m / 2 km / 5 km), not the legally delimited zones.
- **永久基本农田 farmland**: invented patches (warped Voronoi cells) on the central plains.
- **风景名胜区与森林公园 scenic**: real names, invented outlines.
- **河流 rivers** (tributaries) and **铁路与高速公路 roads_rails**: lines drawn through real towns
  with an invented meander; only the four reference rivers follow real courses.
- **landcover.tif / dem.tif**: synthetic rasters (smooth noise shaped by the invented regions);
  only the broad pattern (forest east, cropland centre, grassland/wetland west, Changbaishan at
  ~2,700 m) is realistic. Land-cover codes follow CLCD (1 耕地, 2 林地, 3 灌木, 4 草地, 5 水体,
  7 裸地, 8 建设用地, 9 湿地); the values are not CLCD data.
- **sites.gpkg**: invented proposed sites. The `note` field says which rule each special site is
  meant to exercise. The five old industrial areas named in the 2014 opinions are real place
  names with invented outlines.
- **parcels.gpkg**: an invented cadastral-like tessellation around Jingyuetan, SE of Changchun.

## 重新生成 / Rebuilding

`python data/make_sample.py` (about 10 s) rewrites every file here from `data/reference/`;
`tests/test_datasets.py` checks that the committed files match what the script makes.

## Contents / 内容

{contents}
"""


def write_all(
    out_dir: Path,
    layers: Layers,
    sites: gpd.GeoDataFrame,
    parcels: gpd.GeoDataFrame,
    landcover: np.ndarray,
    lc_grid: Grid,
    dem: np.ndarray,
    dem_grid: Grid,
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_shapefile(layers.boundary, out_dir, "boundary")
    write_shapefile(layers.zoning, out_dir, "zoning")
    write_shapefile(layers.redlines, out_dir, "redlines")
    write_shapefile(layers.reserves, out_dir, "reserves")
    write_shapefile(layers.water, out_dir, "water_sources")
    write_shapefile(layers.farmland, out_dir, "farmland", {"area_ha": "面积"})
    write_shapefile(layers.scenic, out_dir, "scenic", {"level": "级别"})
    write_shapefile(layers.rivers, out_dir, "rivers")
    write_shapefile(layers.roads, out_dir, "roads_rails")
    write_gpkg(sites, out_dir, "sites")
    write_gpkg(parcels, out_dir, "parcels")
    write_tif(out_dir / "landcover.tif", landcover, lc_grid, nodata=0)
    write_tif(out_dir / "dem.tif", dem, dem_grid, nodata=-32768)
    (out_dir / "manifest.toml").write_text(manifest_text(), encoding="utf-8")
    counts = {
        "boundary.shp": len(layers.boundary),
        "zoning.shp": len(layers.zoning),
        "redlines.shp": len(layers.redlines),
        "reserves.shp": len(layers.reserves),
        "water_sources.shp": len(layers.water),
        "farmland.shp": len(layers.farmland),
        "scenic.shp": len(layers.scenic),
        "rivers.shp": len(layers.rivers),
        "roads_rails.shp": len(layers.roads),
        "sites.gpkg (layer sites)": len(sites),
        "parcels.gpkg (layer parcels)": len(parcels),
    }
    contents = "\n".join(f"- `{name}`: {n} features" for name, n in counts.items())
    contents += (
        f"\n- `landcover.tif`: {lc_grid.width} × {lc_grid.height} px, {LC_RES}°, uint8,"
        " nodata 0\n"
        f"- `dem.tif`: {dem_grid.width} × {dem_grid.height} px, {DEM_RES}°, int16 m,"
        " nodata -32768\n- `manifest.toml`: field and value mapping for redline"
    )
    (out_dir / "PROVENANCE.md").write_text(PROVENANCE.format(contents=contents), encoding="utf-8")


def build(out_dir: Path) -> None:
    """Build every sample file into ``out_dir`` from the files in data/reference."""
    layers = build_layers()
    log.info(
        "layers built: %d zoning, %d red lines, %d farmland patches",
        len(layers.zoning),
        len(layers.redlines),
        len(layers.farmland),
    )
    dem_grid, lc_grid = Grid.at(DEM_RES), Grid.at(LC_RES)
    dem = make_dem(dem_grid)
    inside = dem_grid.burn([layers.ref.outline.buffer(5 * KM)])
    slope = slope_degrees(dem, dem_grid)
    dem_hi = np.repeat(np.repeat(dem, 2, axis=0), 2, axis=1)[: lc_grid.height, : lc_grid.width]
    landcover = make_landcover(lc_grid, layers, dem_hi)
    dem = np.where(inside, dem, np.int16(-32768)).astype(np.int16)
    ctx = make_context(layers, dem_grid, slope, lc_grid, landcover)
    sites = make_sites(ctx)
    parcels = make_parcels(layers)
    write_all(out_dir, layers, sites, parcels, landcover, lc_grid, dem, dem_grid)
    east = inside & (dem > 500)
    log.info(
        "dem max %d m; %.1f %% of land above 500 m is steeper than 25°",
        dem.max(),
        100 * (slope[east] > 25).mean(),
    )
    log.info("wrote %d sites, %d parcels to %s", len(sites), len(parcels), out_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    sync_reference()
    build(args.out)


if __name__ == "__main__":
    main()
