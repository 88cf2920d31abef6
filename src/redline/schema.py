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
    "CORRIDOR_CLASSES",
    "GENERAL_CONSTRUCTION",
    "LANDCOVER_CLASSES",
    "LAYER_SPECS",
    "PROJECT_TYPES",
    "PROJECT_TYPE_ALIASES",
    "RASTER_KINDS",
    "RESERVE_ZONES",
    "SEVERITIES",
    "SEVERITY_LABELS",
    "VALUE_ALIASES",
    "VECTOR_KINDS",
    "VERDICTS",
    "VERDICT_LABELS",
    "WATER_LEVELS",
    "ZONES",
    "LayerSpec",
    "canonical_value",
    "severity_rank",
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
RESERVE_ZONES: Final = ("core", "buffer", "experimental", "core_protection", "general_control")
WATER_LEVELS: Final = ("1", "2", "quasi")
CORRIDOR_CLASSES: Final = ("provincial", "secondary")

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
        "城市化地区": "urban", "重点开发城镇": "urban",
    },
    ("reserves", "zone"): {
        "核心区": "core", "缓冲区": "buffer", "实验区": "experimental",
        "核心保护区": "core_protection", "一般控制区": "general_control",
    },
    ("water_sources", "level"): {
        "一级保护区": "1", "一级": "1", "二级保护区": "2", "二级": "2",
        "准保护区": "quasi", "准": "quasi",
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
    GENERAL_CONSTRUCTION: "一般建设项目",
})
#: Chinese spellings of project types (the canonical names and the labels above also match).
PROJECT_TYPE_ALIASES: Final = MappingProxyType({
    **{label: name for name, label in PROJECT_TYPES.items()},
    "居住": "residential", "住宅用地": "residential", "工业用地": "industrial",
    "商服": "commercial", "商业服务": "commercial", "旅游设施": "tourism",
    "道路": "linear_infrastructure", "铁路": "linear_infrastructure",
    "管线": "linear_infrastructure", "输电线路": "linear_infrastructure",
    "交通": "linear_infrastructure", "水利": "water_infrastructure", "供水": "water_infrastructure",
    "防洪": "water_infrastructure", "矿产": "mining", "采矿用地": "mining",
    "科研": "research_monitoring", "监测": "research_monitoring", "巡护": "research_monitoring",
    "生态保护修复": "ecological_restoration", "公共设施": "public_service",
    "公共管理与公共服务": "public_service", "能源设施": "energy", "农业设施": "agriculture",
})


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
