"""Build the bundled Jilin "one map" sample data: ILLUSTRATIVE, NOT OFFICIAL.

Run from the repository root::

    .venv/bin/python data/make_sample.py

Everything is derived from three reference files (province outline, Songhua, Yalu/Tumen courses;
copied from ``../shared/reference`` into ``data/reference`` so the repository is self-contained)
plus fixed place coordinates and fixed random seeds, so re-running gives the same content.
Geometry is built in redline's working CRS (Albers, metres) and written in CGCS2000
(EPSG:4490). Every zone, boundary, patch, site and raster value is invented to be plausible, not
copied from any official plan; ``sample_shapefiles/PROVENANCE.md`` says what is real.

The generator is the package ``data/sample``, one module per layer kind (``zoning``,
``reserves``, ``water_sources``, ``scenic``, ``redlines``, ``farmland``, ``rivers``,
``roads_rails``, ``boundary``, the territorial-plan layers ``urban_boundary``, ``forest_land``,
``national_parks``, ``cultivated_land``, ``geohazard``, ``heritage``, ``river_management``,
``ecological_barrier``, then ``dem``, ``landcover``, ``sites``, ``parcels``,
``settlements``), with what they
share in ``common`` and ``grid``, the order of the planning layers in ``layers`` and ``plan``
and the writing in ``write``; this file runs it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the generator's package, data/sample

from sample.common import KM, OUT, log, sync_reference
from sample.dem import make_dem, slope_degrees
from sample.grid import DEM_RES, LC_RES, Grid
from sample.landcover import make_landcover, with_built_up_cores
from sample.layers import build_layers
from sample.parcels import make_parcels
from sample.plan import build_plan_layers
from sample.settlements import make_settlements
from sample.sites import make_context, make_sites
from sample.write import write_all


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
    plan = build_plan_layers(layers)
    sites = make_sites(ctx, plan)
    landcover = with_built_up_cores(landcover, lc_grid, sites)
    parcels = make_parcels(layers)
    settlements = make_settlements(layers.reserves, layers.ref.outline)
    write_all(out_dir, layers, plan, sites, parcels, settlements, landcover, lc_grid, dem, dem_grid)
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
