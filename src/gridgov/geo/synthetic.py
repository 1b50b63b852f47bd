"""Synthetic cities for tests and benchmarks: irregular grids that tile without gaps.

A jittered lattice: every lattice vertex and every edge midpoint is moved at random, and
neighbouring cells share those moved points, so the octagon-like cells share edges
exactly, as real grids should (无缝拼接).
"""

import numpy as np
import shapely


def jittered_lattice(columns, rows, *, lon0=116.8, lat0=36.5, step=0.005, jitter=0.3, seed=1):
    """`columns` x `rows` shapely Polygons, west→east then south→north."""
    rng = np.random.default_rng(seed)
    wiggle = jitter * step

    def moved(shape, base_x, base_y, amount):
        return base_x + rng.uniform(-amount, amount, shape), base_y + rng.uniform(-amount, amount, shape)

    ix, iy = np.meshgrid(np.arange(columns + 1), np.arange(rows + 1), indexing="ij")
    vx, vy = moved(ix.shape, lon0 + ix * step, lat0 + iy * step, wiggle)
    # Midpoints of the horizontal (along x) and vertical (along y) lattice edges.
    hx, hy = moved(vx[:-1, :].shape, (vx[:-1, :] + vx[1:, :]) / 2, (vy[:-1, :] + vy[1:, :]) / 2, wiggle / 3)
    ux, uy = moved(vx[:, :-1].shape, (vx[:, :-1] + vx[:, 1:]) / 2, (vy[:, :-1] + vy[:, 1:]) / 2, wiggle / 3)
    polygons = []
    for j in range(rows):
        for i in range(columns):
            ring = [
                (vx[i, j], vy[i, j]), (hx[i, j], hy[i, j]), (vx[i + 1, j], vy[i + 1, j]),
                (ux[i + 1, j], uy[i + 1, j]), (vx[i + 1, j + 1], vy[i + 1, j + 1]), (hx[i, j + 1], hy[i, j + 1]),
                (vx[i, j + 1], vy[i, j + 1]), (ux[i, j], uy[i, j]), (vx[i, j], vy[i, j]),
            ]
            polygons.append(shapely.Polygon(ring))
    return polygons
