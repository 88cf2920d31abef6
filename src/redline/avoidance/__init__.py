"""Avoidance: better placements for a site, least-conflict alignments for linear projects.

A verdict says "no"; what a planner needs next is a "yes", or the evidence that there is none
(不可避让论证). :func:`alternatives` moves and turns a site within a radius and screens every
candidate; :func:`route` searches the least-conflict alignment of a road, railway or pipeline
between two points and compares it with the straight line and distinct alternatives (比选).
"""

from __future__ import annotations

from redline.avoidance.placements import alternatives
from redline.avoidance.routing import Route, route

__all__ = ["Route", "alternatives", "route"]
