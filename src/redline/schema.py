"""The product vocabulary: layer kinds, canonical values and their Chinese names, severities,
verdicts and project types.

This module is the single source of these names; every other module imports them from here.
Chinese source values map onto canonical values through :data:`VALUE_ALIASES` (built in) and a
manifest's own ``values`` tables (per dataset).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

__all__ = [
    "BARRIER_KINDS",
    "CORRIDOR_CLASSES",
    "FOREST_LEVELS",
    "GENERAL_CONSTRUCTION",
    "GEOHAZARD_LEVELS",
    "HERITAGE_ZONES",
    "INPUT_PROBLEM",
    "INPUT_WARNING",
    "LANDCOVER_CLASSES",
    "LAYER_SPECS",
    "OPEN_VOCABULARIES",
    "PARK_ZONES",
    "PROJECT_TYPES",
    "PROJECT_TYPE_ALIASES",
    "PROJECT_TYPE_KINDS",
    "RASTER_KINDS",
    "RESERVE_ZONES",
    "SEVERITIES",
    "SEVERITY_LABELS",
    "SITE_FIELDS",
    "SITE_FIELD_ALIASES",
    "VALUE_ALIASES",
    "VALUE_SUCCESSORS",
    "VECTOR_KINDS",
    "VERDICTS",
    "VERDICT_LABELS",
    "WATER_LEVELS",
    "ZONES",
    "ZONE_LABELS",
    "LayerSpec",
    "canonical_value",
    "project_type_listing",
    "severity_rank",
    "site_column",
    "vocabulary",
]

GeomFamily = Literal["polygon", "line"]


@dataclass(frozen=True)
class LayerSpec:
    """What a vector layer kind holds once it is in the canonical schema.

    Parameters
    ----------
    kind
        Canonical kind name (also the manifest key and the map layer name).
    label_zh, label_en
        Names shown in reports and maps.
    geometry
        ``"polygon"`` or ``"line"``.
    required
        Canonical fields every feature must have, mapped to their allowed values
        (``None`` where any non-empty value is allowed).
    optional
        Canonical fields kept when present.

    Examples
    --------
    >>> spec = LAYER_SPECS["water_sources"]
    >>> spec.label_zh, spec.geometry, spec.required
    ('饮用水水源保护区', 'polygon', {'level': ('1', '2', 'quasi')})
    """

    kind: str
    label_zh: str
    label_en: str
    geometry: GeomFamily
    required: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    optional: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """Every canonical attribute field of the kind, in output order.

        Examples
        --------
        >>> LAYER_SPECS["reserves"].fields
        ('feature_id', 'name', 'zone', 'reserve', 'level')
        """
        return ("feature_id", "name", *self.required, *self.optional)


ZONES: Final = ("key", "restricted", "prohibited", "optimized")
#: Chinese names of the main functional zone classes (and of area no zone covers).
ZONE_LABELS: Final = MappingProxyType({
    "key": "重点开发区域", "restricted": "限制开发区域", "prohibited": "禁止开发区域",
    "optimized": "优化开发区域", "unzoned": "未划定",
})
RESERVE_ZONES: Final = ("core", "buffer", "experimental", "core_protection", "general_control")
WATER_LEVELS: Final = ("1", "2", "quasi")
CORRIDOR_CLASSES: Final = ("provincial", "secondary")
#: 林地保护等级 Ⅰ–Ⅳ (Ⅰ: closed to every construction project).
FOREST_LEVELS: Final = ("I", "II", "III", "IV")
#: 国家公园 zones: 核心保护区, 一般控制区.
PARK_ZONES: Final = ("core_protection", "general_control")
#: 地质灾害危险区, then the 易发区 by susceptibility (高、中、低易发区).
GEOHAZARD_LEVELS: Final = ("danger", "high", "medium", "low")
#: 文物保护单位的保护范围 and 建设控制地带.
HERITAGE_ZONES: Final = ("protection", "construction_control")
#: Kinds of ecological barrier the 2014 opinions name (二(四)5): the 长吉 "green heart" and the
#: barrier belts.
BARRIER_KINDS: Final = ("green_heart", "barrier_belt")

_SPECS = (
    LayerSpec(
        "zoning", "主体功能区", "Main functional zones", "polygon",
        required={"zone": ZONES}, optional=("subtype",),
    ),
    LayerSpec("redlines", "生态保护红线", "Ecological protection red lines", "polygon",
              optional=("category",)),
    LayerSpec(
        "reserves", "自然保护区", "Nature reserves", "polygon",
        required={"zone": RESERVE_ZONES}, optional=("reserve", "level"),
    ),
    LayerSpec(
        "water_sources", "饮用水水源保护区", "Drinking-water source protection zones", "polygon",
        required={"level": WATER_LEVELS}, optional=("source",),
    ),
    LayerSpec("farmland", "永久基本农田", "Permanent basic farmland", "polygon"),
    LayerSpec("scenic", "风景名胜区与森林公园", "Scenic areas and forest parks", "polygon",
              optional=("category",)),
    LayerSpec(
        "rivers", "河流", "Rivers", "line",
        required={"corridor": CORRIDOR_CLASSES},
    ),
    LayerSpec(
        "roads_rails", "铁路与高速公路", "Railways and highways", "line",
        required={"corridor": CORRIDOR_CLASSES}, optional=("category",),
    ),
    LayerSpec("boundary", "行政区划", "Administrative boundaries", "polygon",
              required={"level": ("province", "prefecture", "county")}),
    LayerSpec("urban_boundary", "城镇开发边界", "Urban development boundary", "polygon"),
    LayerSpec(
        "forest_land", "林地", "Forest land", "polygon",
        required={"protection_level": FOREST_LEVELS}, optional=("public_welfare",),
    ),
    LayerSpec(
        "national_parks", "国家公园", "National parks", "polygon",
        required={"zone": PARK_ZONES}, optional=("park",),
    ),
    LayerSpec("cultivated_land", "耕地", "Cultivated land", "polygon",
              optional=("black_soil",)),
    LayerSpec(
        "geohazard", "地质灾害易发区与危险区", "Geological hazard prone and danger zones",
        "polygon", required={"level": GEOHAZARD_LEVELS}, optional=("hazard",),
    ),
    LayerSpec(
        "heritage", "文物保护范围与建设控制地带",
        "Heritage protection ranges and construction-control zones", "polygon",
        required={"zone": HERITAGE_ZONES}, optional=("site", "level"),
    ),
    LayerSpec("river_management", "河湖管理范围", "River and lake management zones", "polygon",
              optional=("waterbody",)),
    LayerSpec(
        "ecological_barrier", "生态屏障与绿心", "Ecological barriers and green heart", "polygon",
        required={"category": BARRIER_KINDS},
    ),
)


#: Vector layer kinds, by canonical name, in drawing order.
LAYER_SPECS: Final = MappingProxyType({spec.kind: spec for spec in _SPECS})
VECTOR_KINDS: Final = tuple(LAYER_SPECS)
#: Raster layer kinds.
RASTER_KINDS: Final = ("landcover", "dem")

#: Canonical land-cover classes a ``landcover`` raster's codes map onto.
LANDCOVER_CLASSES: Final = MappingProxyType({
    "cropland": "耕地",
    "forest": "林地",
    "shrub": "灌木地",
    "grassland": "草地",
    "water": "水体",
    "wetland": "湿地",
    "built_up": "建设用地",
    "barren": "裸地",
    "snow_ice": "冰雪",
})

#: Built-in Chinese (and common English) spellings of canonical values, by (kind, field).
#: A manifest's ``values`` tables add to these for one dataset.
VALUE_ALIASES: Final = MappingProxyType({
    ("zoning", "zone"): {
        "重点开发区域": "key", "重点开发区": "key", "重点开发": "key",
        "限制开发区域": "restricted", "限制开发区": "restricted", "限制开发": "restricted",
        "禁止开发区域": "prohibited", "禁止开发区": "prohibited", "禁止开发": "prohibited",
        "优化开发区域": "optimized", "优化开发区": "optimized", "优化开发": "optimized",
    },
    ("zoning", "subtype"): {
        "农产品主产区": "agricultural", "重点生态功能区": "ecological",
        "城市化地区": "urban", "城市化区域": "urban", "城镇化地区": "urban",
        "重点开发城镇": "urban",
    },
    ("reserves", "zone"): {
        "核心区": "core", "缓冲区": "buffer", "实验区": "experimental", "试验区": "experimental",
        "核心保护区": "core_protection", "一般控制区": "general_control",
    },
    ("water_sources", "level"): {
        "一级保护区": "1", "一级": "1", "一级区": "1", "Ⅰ级": "1", "Ⅰ级保护区": "1",
        "二级保护区": "2", "二级": "2", "二级区": "2", "Ⅱ级": "2", "Ⅱ级保护区": "2",
        "准保护区": "quasi", "准": "quasi", "准保护": "quasi",
    },
    ("scenic", "category"): {
        **dict.fromkeys(("风景名胜区", "国家级风景名胜区", "省级风景名胜区", "风景名胜"),
                        "scenic_area"),
        **dict.fromkeys(("森林公园", "国家森林公园", "国家级森林公园", "省级森林公园"),
                        "forest_park"),
        **dict.fromkeys(("地质公园", "国家地质公园", "国家级地质公园", "省级地质公园",
                         "世界地质公园"), "geopark"),
        **dict.fromkeys(("湿地公园", "国家湿地公园", "国家级湿地公园", "省级湿地公园"),
                        "wetland_park"),
    },
    ("rivers", "corridor"): {
        "省级": "provincial", "省级生态廊道": "provincial",
        "二级": "secondary", "次级": "secondary", "次级生态廊道": "secondary",
    },
    ("roads_rails", "corridor"): {
        "省级": "provincial", "省级生态廊道": "provincial",
        "二级": "secondary", "次级": "secondary", "次级生态廊道": "secondary",
    },
    ("boundary", "level"): {"省": "province", "省级": "province", "市": "prefecture",
                            "地级": "prefecture", "州": "prefecture", "县": "county",
                            "县级": "county"},
    ("forest_land", "protection_level"): {
        **{f"{roman}{suffix}": level
           for level, romans in (("I", ("Ⅰ", "I", "一", "1")), ("II", ("Ⅱ", "II", "二", "2")),
                                 ("III", ("Ⅲ", "III", "三", "3")), ("IV", ("Ⅳ", "IV", "四", "4")))
           for roman in romans for suffix in ("级", "级保护林地", "级林地")},
        "Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IV", "1": "I", "2": "II", "3": "III", "4": "IV",
    },
    ("forest_land", "public_welfare"): {
        "国家级一级公益林": "national_1", "一级国家级公益林": "national_1",
        "国家一级公益林": "national_1",
        "国家级二级公益林": "national_2", "二级国家级公益林": "national_2",
        "国家二级公益林": "national_2",
        "国家级三级公益林": "national_3", "三级国家级公益林": "national_3",
        "国家级公益林": "national", "地方公益林": "local", "省级公益林": "local",
        "商品林": "commercial", "非公益林": "commercial",
    },
    ("national_parks", "zone"): {"核心保护区": "core_protection", "核心区": "core_protection",
                                 "一般控制区": "general_control"},
    ("cultivated_land", "black_soil"): {
        "黑土地": "yes", "黑土": "yes", "是": "yes", "1": "yes", "true": "yes", "True": "yes",
        "非黑土地": "no", "否": "no", "0": "no", "false": "no", "False": "no",
    },
    ("geohazard", "level"): {
        "危险区": "danger", "地质灾害危险区": "danger",
        "高易发区": "high", "地质灾害高易发区": "high", "高易发": "high",
        "中易发区": "medium", "地质灾害中易发区": "medium", "中易发": "medium",
        "低易发区": "low", "地质灾害低易发区": "low", "低易发": "low",
    },
    ("heritage", "zone"): {
        "保护范围": "protection", "文物保护范围": "protection",
        "建设控制地带": "construction_control", "建控地带": "construction_control",
    },
    ("ecological_barrier", "category"): {"绿心": "green_heart", "生态绿心": "green_heart",
                                         "生态屏障": "barrier_belt", "生态屏障带": "barrier_belt",
                                         "屏障带": "barrier_belt"},
})

#: Fields whose values are free text, with conventional canonical values (the built-in aliases
#: map Chinese spellings onto them): a feature's unknown value is kept verbatim and a rule may
#: select any text, where a field with a closed vocabulary refuses both.
OPEN_VOCABULARIES: Final = frozenset({("scenic", "category")})

#: Values of a superseded zoning scheme and the value of the scheme in force that takes their
#: place: a rule selecting the new value selects features still drawn with the old one, and its
#: findings say so (``value_mapping``). Nature reserves: the 2026 regulation (国务院令第830号)
#: has two zones; three-zone data is read core and buffer → core protection zone, experimental
#: → general control zone (redline's mapping: no official transitional rule was found).
VALUE_SUCCESSORS: Final = MappingProxyType({
    ("reserves", "zone"): MappingProxyType({
        "core": "core_protection", "buffer": "core_protection",
        "experimental": "general_control",
    }),
})

#: Severity of a finding, strictest first, with Chinese labels.
SEVERITIES: Final = ("prohibited", "conditional", "advisory")
SEVERITY_LABELS: Final = MappingProxyType({
    "prohibited": "禁止", "conditional": "需审批/有条件", "advisory": "提示",
})
#: Verdict of a site: the strictest severity among its findings, ``clear`` when there is none,
#: ``not_assessed`` when the site could not be assessed (never read as clear).
VERDICTS: Final = ("not_assessed", "prohibited", "conditional", "advisory", "clear")
VERDICT_LABELS: Final = MappingProxyType({
    "not_assessed": "未评估", **SEVERITY_LABELS, "clear": "未发现冲突",
})

#: A site with no project type is judged as general construction, the strictest reading.
GENERAL_CONSTRUCTION: Final = "general"
PROJECT_TYPES: Final = MappingProxyType({
    "residential": "住宅",
    "industrial": "工业",
    "commercial": "商业",
    "tourism": "旅游",
    "linear_infrastructure": "线性基础设施",
    "water_infrastructure": "水利设施",
    "energy": "能源",
    "mining": "采矿",
    "agriculture": "农业",
    "ecological_restoration": "生态修复",
    "research_monitoring": "科研监测",
    "public_service": "公共服务",
    "solar_pv": "光伏",
    "wind": "风电",
    "power_grid": "输变电",
    "facility_agriculture": "设施农业",
    "national_major": "国家重大项目",
    GENERAL_CONSTRUCTION: "一般建设项目",
})
#: General project types and the finer types they stand for: a site of the general type gets
#: the strictest severity a rule gives it or any of its kinds (an energy project may be a solar
#: farm).
PROJECT_TYPE_KINDS: Final = MappingProxyType({"energy": ("solar_pv", "wind", "power_grid")})
#: Chinese spellings of project types (the canonical names and the labels above also match).
PROJECT_TYPE_ALIASES: Final = MappingProxyType({
    **{label: name for name, label in PROJECT_TYPES.items()},
    "居住": "residential", "住宅用地": "residential", "工业用地": "industrial",
    "商服": "commercial", "商业服务": "commercial", "旅游设施": "tourism",
    "道路": "linear_infrastructure", "铁路": "linear_infrastructure",
    "管线": "linear_infrastructure",
    "交通": "linear_infrastructure", "水利": "water_infrastructure", "供水": "water_infrastructure",
    "防洪": "water_infrastructure", "矿产": "mining", "采矿用地": "mining",
    "科研": "research_monitoring", "监测": "research_monitoring", "巡护": "research_monitoring",
    "生态保护修复": "ecological_restoration", "公共设施": "public_service",
    "公共管理与公共服务": "public_service", "能源设施": "energy", "农业设施": "agriculture",
    "光伏发电": "solar_pv", "光伏电站": "solar_pv", "太阳能发电": "solar_pv",
    "风力发电": "wind", "风电场": "wind", "输变电工程": "power_grid", "电网": "power_grid",
    "变电站": "power_grid", "输电线路": "power_grid", "设施农业用地": "facility_agriculture",
    "国家重大战略项目": "national_major", "国家重大建设项目": "national_major",
    "商住": "commercial", "商住用地": "commercial", "商服用地": "commercial",
    "商业用地": "commercial", "商业服务业": "commercial", "工矿": "industrial",
    "工矿仓储": "industrial", "仓储": "industrial", "物流": "industrial",
    "公路": "linear_infrastructure", "高速公路": "linear_infrastructure",
    "交通运输": "linear_infrastructure", "输油管道": "linear_infrastructure",
    "输气管道": "linear_infrastructure", "水库": "water_infrastructure",
    "水电站": "energy", "电站": "energy", "发电": "energy",
    "景区": "tourism", "文旅": "tourism", "旅游开发": "tourism",
    "矿山": "mining", "采石场": "mining", "砂石料场": "mining",
    "养殖": "agriculture", "种植": "agriculture", "生态修复工程": "ecological_restoration",
    "学校": "public_service", "医院": "public_service", "公共服务设施": "public_service",
})

#: Column of a site (or parcel) that its reader found cannot be assessed as drawn (e.g. a
#: boundary-point ring that crosses itself): the reason. Screening and classification read it
#: and mark the row ``not_assessed`` with that reason; empty where the row is fine.
INPUT_PROBLEM: Final = "input_problem"
#: Column of a site whose file disagrees with itself (declared area or point count): the note.
#: Kept in the outputs; it does not change the verdict.
INPUT_WARNING: Final = "input_warning"

#: Canonical site fields and the column names they are found under in a sites file, first
#: match wins (English names compared case-insensitively). ``project_ty`` is the Shapefile
#: cut of ``project_type``.
SITE_FIELD_ALIASES: Final = MappingProxyType({
    "site_id": ("site_id", "项目编号", "编号", "地块编号", "项目代码", "地块号", "序号", "id"),
    "name": ("name", "项目名称", "名称", "地块名称", "项目名"),
    "project_type": ("project_type", "project_ty", "项目类型", "类型", "建设类型", "项目性质",
                     "用途", "用地用途", "type"),
})
SITE_FIELDS: Final = tuple(SITE_FIELD_ALIASES)


def site_column(columns: object, field_name: str) -> str | None:
    """The column of a sites table holding a canonical site field, found by its aliases.

    Parameters
    ----------
    columns
        The table's column labels.
    field_name
        ``"site_id"``, ``"name"`` or ``"project_type"`` (:data:`SITE_FIELDS`).

    Returns
    -------
    str or None
        The first column named by :data:`SITE_FIELD_ALIASES` (English names case-insensitive),
        ``None`` when there is none.

    Examples
    --------
    >>> site_column(["项目编号", "项目名称", "项目类型", "geometry"], "site_id")
    '项目编号'
    >>> site_column(["ID", "geometry"], "site_id"), site_column(["geometry"], "name")
    ('ID', None)
    """
    labels = [c for c in columns if isinstance(c, str)]  # type: ignore[attr-defined]
    folded = {label.strip().lower(): label for label in reversed(labels)}
    for alias in SITE_FIELD_ALIASES[field_name]:
        if alias in folded:
            return folded[alias]
    return None


def project_type_listing() -> str:
    """The project types with their Chinese names, for messages.

    Returns
    -------
    str
        ``"residential 住宅, industrial 工业, …"``: every key of :data:`PROJECT_TYPES` but the
        general construction a blank type means.

    Examples
    --------
    >>> project_type_listing().split(", ")[:3]
    ['residential 住宅', 'industrial 工业', 'commercial 商业']
    """
    return ", ".join(f"{name} {label}" for name, label in PROJECT_TYPES.items()
                     if name != GENERAL_CONSTRUCTION)


def severity_rank(value: str) -> int:
    """Rank of a severity or verdict: 0 for the strictest (``not_assessed``), larger is milder.

    Parameters
    ----------
    value
        A severity (:data:`SEVERITIES`) or verdict (:data:`VERDICTS`).

    Returns
    -------
    int
        Its position in :data:`VERDICTS`.

    Raises
    ------
    ValueError
        ``value`` is neither a severity nor a verdict.

    Examples
    --------
    >>> severity_rank("prohibited") < severity_rank("advisory") < severity_rank("clear")
    True
    """
    return VERDICTS.index(value)


def vocabulary(kind: str, field_name: str) -> tuple[str, ...] | None:
    """Closed vocabulary of a canonical field, or ``None`` where any non-empty text is allowed.

    A field's allowed values (:attr:`LayerSpec.required`), else the canonical values of its
    built-in aliases (``zoning.subtype``) unless the field is one of :data:`OPEN_VOCABULARIES`.

    Parameters
    ----------
    kind, field_name
        The layer kind and canonical field.

    Returns
    -------
    tuple of str or None

    Examples
    --------
    >>> vocabulary("zoning", "subtype")
    ('agricultural', 'ecological', 'urban')
    >>> vocabulary("scenic", "category") is None
    True
    """
    spec = LAYER_SPECS.get(kind)
    allowed = spec.required.get(field_name) if spec else None
    if allowed is not None:
        return tuple(allowed)
    aliases = VALUE_ALIASES.get((kind, field_name))
    if not aliases or (kind, field_name) in OPEN_VOCABULARIES:
        return None
    return tuple(dict.fromkeys(aliases.values()))


def canonical_value(kind: str, field_name: str, value: object,
                    extra: dict[str, str] | None = None) -> str | None:
    """Map a source value onto its canonical spelling, or ``None`` if it is not recognised.

    Parameters
    ----------
    kind, field_name
        The layer kind and canonical field.
    value
        The source value (Chinese, English, or a number such as ``1`` for a water level).
    extra
        A manifest's own ``{source value: canonical value}`` table, consulted first.

    Returns
    -------
    str or None
        The canonical value; for a field with an open vocabulary (``name``, ``category``) the
        stripped text itself.

    Examples
    --------
    >>> canonical_value("reserves", "zone", "核心区")
    'core'
    >>> canonical_value("water_sources", "level", 2)
    '2'
    >>> canonical_value("zoning", "zone", "城市") is None
    True
    """
    if value is None:
        return None
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():  # numbers read back from DBF as floats
        text = text[:-2]
    if extra and text in extra:
        return str(extra[text])
    spec = LAYER_SPECS.get(kind)
    allowed = spec.required.get(field_name) if spec else None
    if allowed is not None and text in allowed:
        return text
    aliases = VALUE_ALIASES.get((kind, field_name), {})
    if text in aliases:
        return aliases[text]
    if allowed is None and text:
        return text
    return None
