"""Tables and files a reviewer reads: the verdict summary, the 三线 table, GeoPackage and CSV.

Everything here reads a :class:`~redline.screening.Screening`; nothing recomputes geometry.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from redline.io import staged, write_layer

if TYPE_CHECKING:
    from redline.screening import Screening

__all__ = ["OUTPUT_FILES", "three_lines_table", "write_screening"]

#: Files :func:`write_screening` writes, by role.
OUTPUT_FILES = {
    "geopackage": "screening.gpkg",
    "sites": "sites.csv",
    "findings": "findings.csv",
    "three_lines": "three_lines.csv",
    "summary": "summary.csv",
}
#: CSVs carry a byte-order mark so that Excel on Chinese Windows reads them as UTF-8.
CSV_ENCODING = "utf-8-sig"

_YES, _NO = "是 yes", "否 no"
#: Controlled layers in the 三线 table besides red lines and farmland: column key → label.
_OTHER_CONTROLLED = {
    "reserves": "自然保护区 nature reserve",
    "water_sources": "饮用水水源保护区 water source zone",
    "scenic": "风景名胜区/森林公园 scenic area",
    "prohibited_zone": "禁止开发区域 prohibited zone",
}


def three_lines_table(screening: Screening) -> pd.DataFrame:
    """The 三线 table reviewers expect: per site, whether it occupies the ecological red line,
    permanent basic farmland and other controlled layers, with areas in m².

    Areas are the site's overlap with each layer as drawn, whatever the rules decide (an
    exempt project type still occupies the layer).

    Parameters
    ----------
    screening
        The result of :func:`redline.screen`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``screening.sites``; bilingual column names. Sites that were not assessed
        read "未评估 not assessed" and have no areas (never "no").

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> table = three_lines_table(screen(gpd.read_file(datasets.get_path("sites")).head(8)))
    >>> table[["项目编号 site_id", "占用红线面积 red line m²"]].tail(3)
      项目编号 site_id  占用红线面积 red line m²
    5      JL-0006             44611.65
    6      JL-0007             17229.81
    7      JL-0008              5887.94
    """
    sites = screening.sites
    overlaps = screening.layer_overlaps.reindex(
        columns=["redlines", "farmland", *_OTHER_CONTROLLED], fill_value=np.nan
    ).copy()
    assessed = sites["verdict"].to_numpy() != "not_assessed"
    overlaps.loc[~assessed] = np.nan  # no area beside "not assessed": 0 would read as none

    def occupied(area: pd.Series) -> np.ndarray:
        labels = np.where(area.to_numpy() > 0, _YES, _NO).astype(object)
        labels[~assessed | area.isna().to_numpy()] = "未评估 not assessed"
        return labels

    others = overlaps[list(_OTHER_CONTROLLED)]
    names = np.array(list(_OTHER_CONTROLLED.values()), dtype=object)
    other_hits = [
        "; ".join(names[row > 0]) if row_assessed else "未评估 not assessed"
        for row, row_assessed in zip(others.fillna(0).to_numpy(), assessed, strict=True)
    ]
    return pd.DataFrame(
        {
            "项目编号 site_id": sites["site_id"].to_numpy(),
            "项目名称 name": sites["name"].to_numpy() if "name" in sites else None,
            "结论 verdict": (sites["verdict_zh"].astype(str) + " "
                           + sites["verdict"].astype(str)).to_numpy(),
            "占用生态保护红线 occupies red line": occupied(overlaps["redlines"]),
            "占用红线面积 red line m²": overlaps["redlines"].round(2).to_numpy(),
            "占用永久基本农田 occupies basic farmland": occupied(overlaps["farmland"]),
            "占用农田面积 farmland m²": overlaps["farmland"].round(2).to_numpy(),
            "涉及其他管控图层 other controlled layers": other_hits,
            "其他管控面积 other controlled m²": others.sum(axis=1, min_count=1).round(2).to_numpy(),
        },
        index=sites.index,
    )


def write_screening(screening: Screening, directory: str | Path) -> dict[str, Path]:
    """Write a screening's outputs into ``directory`` (created if needed), each atomically.

    The files are staged and moved into place together (:func:`redline.io.staged`): a failure
    leaves earlier outputs in ``directory`` as they were. CSVs are UTF-8 with a byte-order mark
    (:data:`CSV_ENCODING`) so that Excel reads the Chinese text.

    Parameters
    ----------
    screening
        The result of :func:`redline.screen`.
    directory
        Output folder.

    Returns
    -------
    dict
        Role → path, for the roles of :data:`OUTPUT_FILES`.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(8))
    >>> paths = write_screening(result, Path(tempfile.mkdtemp()) / "run")
    >>> paths["three_lines"].name, len(pd.read_csv(paths["sites"], encoding=CSV_ENCODING))
    ('three_lines.csv', 8)
    """
    directory = Path(directory)
    sites = gpd.GeoDataFrame(screening.sites).reset_index(drop=True)
    tables = {
        "sites": pd.DataFrame(sites.drop(columns=sites.geometry.name)),
        "findings": pd.DataFrame(screening.findings.drop(columns="geometry")),
        "three_lines": screening.three_lines(),
        "summary": screening.summary(),
    }
    with staged(directory) as folder:  # all files move into place together, or none
        gpkg = folder / OUTPUT_FILES["geopackage"]
        write_layer(sites, gpkg, layer="sites")
        write_layer(screening.findings, gpkg, layer="findings")
        for role, table in tables.items():
            write_layer(table, folder / OUTPUT_FILES[role], encoding=CSV_ENCODING)
    return {role: directory / name for role, name in OUTPUT_FILES.items()}
