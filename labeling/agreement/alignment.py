"""Exact minimum-disorder alignment of a continuum (Mathet, Widlöcher & Métivier 2015, sec. 4-5).

Y. Mathet, A. Widlöcher, J.-P. Métivier (2015), "The Unified and Holistic Method Gamma
for Inter-Annotator Agreement Measure and Alignment", Computational Linguistics 41(3):
437-479. An alignment partitions the units into unitary alignments (at most one unit per
annotator, the other annotators contributing an empty unit); a unitary alignment's
disorder is the mean dissimilarity over its ``C(m, 2)`` annotator pairs, ``delta_empty``
for a pair with an empty side. The observed disorder is the minimum over alignments of the
summed disorders divided by the mean number of units per annotator.

Dissimilarity between two units (pygamma-agreement's default combined dissimilarity):
``alpha * ((|s1 - s2| + |e1 - e2|) / (l1 + l2))^2 * delta_empty + beta * [c1 != c2] * delta_empty``.

Exactness without an integer-programming solver: a unitary alignment is only worth keeping
when it beats splitting it, and in an optimal alignment every unit of a unitary alignment
lies within ``delta_empty * (1 + C(m, 2))`` of another unit of it, and no unitary
alignment splits into two parts without such a link (splitting would lower the disorder).
So units split into independent connected components under that link; two annotators give
an assignment problem (Hungarian method); three or more a small set partitioning solved by
branch and bound with the per-unit lower bound ``min over candidates of disorder / size``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

UNIT_FIELDS = 4  # annotator index, start, end, category index


def dissimilarity(
    a: np.ndarray, b: np.ndarray, alpha: float, beta: float, delta_empty: float = 1.0
) -> np.ndarray:
    """Combined positional-categorical dissimilarity of unit rows ``a`` and ``b`` (broadcast)."""
    la = a[..., 2] - a[..., 1]
    lb = b[..., 2] - b[..., 1]
    pos = (np.abs(a[..., 1] - b[..., 1]) + np.abs(a[..., 2] - b[..., 2])) / (la + lb)
    cat = (a[..., 3] != b[..., 3]).astype(np.float64)
    return (alpha * pos * pos + beta * cat) * delta_empty


def _components(
    units: np.ndarray, m: int, alpha: float, beta: float, delta_empty: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Component label of each unit, plus the linked pairs ``(i, j)`` and their dissimilarities."""
    n = units.shape[0]
    threshold = delta_empty * (1.0 + m * (m - 1) / 2.0)
    order = np.argsort(units[:, 1], kind="stable")
    starts = units[order, 1]
    lengths = units[order, 2] - units[order, 1]
    if alpha > 0:
        reach = math.sqrt(threshold / (alpha * delta_empty)) * (lengths + lengths.max())
        lo = np.searchsorted(starts, starts - reach, side="left")
        hi = np.searchsorted(starts, starts + reach, side="right")
    else:  # position never separates units
        lo = np.zeros(n, dtype=np.int64)
        hi = np.full(n, n, dtype=np.int64)
    lo = np.maximum(lo, np.arange(n) + 1)  # each pair once, i < j in sorted order
    counts = np.maximum(hi - lo, 0)
    ii = np.repeat(np.arange(n), counts)
    jj = np.repeat(lo, counts) + (
        np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    )
    a, b = order[ii], order[jj]
    keep = units[a, 0] != units[b, 0]
    a, b = a[keep], b[keep]
    d = dissimilarity(units[a], units[b], alpha, beta, delta_empty)
    linked = d <= threshold
    a, b, d = a[linked], b[linked], d[linked]
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in zip(a.tolist(), b.tolist(), strict=True):
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    labels = np.array([find(x) for x in range(n)], dtype=np.int64)
    return labels, a, b, d


def hungarian(cost: np.ndarray) -> np.ndarray:
    """Column assigned to each row minimising the total of a square cost matrix (Kuhn-Munkres).

    Shortest augmenting paths with potentials (Jonker & Volgenant 1987 style), O(n^3).
    """
    cost = np.asarray(cost, dtype=np.float64)
    n = cost.shape[0]
    u = np.zeros(n + 1)
    v = np.zeros(n + 1)
    p = np.zeros(n + 1, dtype=np.int64)  # p[j]: row matched to column j (1-based), 0 = free
    way = np.zeros(n + 1, dtype=np.int64)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = np.full(n + 1, np.inf)
        used = np.zeros(n + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = p[j0]
            cur = cost[i0 - 1, :] - u[i0] - v[1:]
            free = ~used[1:]
            better = free & (cur < minv[1:])
            minv[1:][better] = cur[better]
            way[1:][better] = j0
            cand = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(cand)) + 1
            delta = cand[j1 - 1]
            u[p[used]] += delta
            v[used] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    assignment = np.empty(n, dtype=np.int64)
    assignment[p[1:] - 1] = np.arange(n)
    return assignment


def _two_annotator_cost(d: np.ndarray, delta_empty: float) -> float:
    """Minimum summed disorder of two annotators: pairs cost ``d``, unmatched ``delta_empty``."""
    n1, n2 = d.shape
    big = 10.0 * (n1 + n2 + 1) * (float(d.max(initial=0.0)) + delta_empty)
    size = n1 + n2
    cost = np.full((size, size), big)
    cost[:n1, :n2] = d
    cost[:n1, n2:] = np.where(np.eye(n1, dtype=bool), delta_empty, big)
    cost[n1:, :n2] = np.where(np.eye(n2, dtype=bool), delta_empty, big)
    cost[n1:, n2:] = 0.0
    assignment = hungarian(cost)
    return float(cost[np.arange(size), assignment].sum())


def _component_cost(
    members: np.ndarray, units: np.ndarray, m: int, alpha: float, beta: float, delta_empty: float
) -> float:
    """Minimum summed unitary-alignment disorder of one component (exact)."""
    k = members.size
    if k == 1:
        return delta_empty
    sub = units[members]
    annotators = sorted(set(sub[:, 0].astype(np.int64).tolist()))
    pairs = m * (m - 1) / 2.0
    if len(annotators) == 1:
        return k * delta_empty
    if m == 2:
        a = sub[sub[:, 0] == annotators[0]]
        b = sub[sub[:, 0] == annotators[1]]
        d = dissimilarity(a[:, None, :], b[None, :, :], alpha, beta, delta_empty)
        return _two_annotator_cost(d, delta_empty)
    # Candidate unitary alignments: one unit or none per annotator present, kept when
    # cheaper than the singletons they replace (singletons always kept).
    by_annotator = [np.flatnonzero(sub[:, 0] == a) for a in annotators]
    d_all = dissimilarity(sub[:, None, :], sub[None, :, :], alpha, beta, delta_empty)
    grids = np.array(
        list(itertools.product(*[list(idx) + [-1] for idx in by_annotator])), dtype=np.int64
    )
    present = grids >= 0
    size = present.sum(axis=1)
    grids, present, size = grids[size >= 2], present[size >= 2], size[size >= 2]
    extra = np.zeros(grids.shape[0])
    n_present = len(annotators)
    for x in range(n_present):
        for y in range(x + 1, n_present):
            both = present[:, x] & present[:, y]
            extra[both] += d_all[grids[both, x], grids[both, y]] - delta_empty
    disorder = delta_empty + extra / pairs
    useful = disorder < size * delta_empty
    grids, present, size, disorder = grids[useful], present[useful], size[useful], disorder[useful]
    masks = [sum(1 << int(i) for i in row[row >= 0]) for row in grids]
    options: list[list[tuple[float, int]]] = [[(delta_empty, 1 << i)] for i in range(k)]
    for mask, cost in zip(masks, disorder.tolist(), strict=True):
        low = (mask & -mask).bit_length() - 1
        options[low].append((cost, mask))
    share = np.full(k, delta_empty)
    for row, s, cost in zip(grids, size.tolist(), disorder.tolist(), strict=True):
        idx = row[row >= 0]
        share[idx] = np.minimum(share[idx], cost / s)
    for opts in options:
        opts.sort()
    share_list = share.tolist()
    full = (1 << k) - 1
    best = [k * delta_empty]

    def search(covered: int, cost: float, bound_rest: float) -> None:
        if covered == full:
            if cost < best[0]:
                best[0] = cost
            return
        if cost + bound_rest >= best[0] - 1e-12:
            return
        free = ~covered & full
        low = (free & -free).bit_length() - 1
        for option_cost, mask in options[low]:
            if mask & covered:
                continue
            rest = bound_rest
            bits = mask
            while bits:
                bit = bits & -bits
                rest -= share_list[bit.bit_length() - 1]
                bits ^= bit
            search(covered | mask, cost + option_cost, rest)

    # Every option containing unit i has its lowest unit at or before i; options are
    # indexed by their lowest unit, so units are covered in index order.
    for i in range(k):
        options[i] = [o for o in options[i] if (o[1] >> i) & 1]
    search(0, 0.0, float(sum(share_list)))
    return best[0]


def best_alignment_disorder(
    units: np.ndarray,
    n_annotators: int,
    *,
    alpha: float = 1.0,
    beta: float = 1.0,
    delta_empty: float = 1.0,
    return_components: bool = False,
) -> float | tuple[float, np.ndarray, np.ndarray]:
    """Observed disorder of the optimal alignment of unit rows ``(annotator, start, end, cat)``.

    ``sum of unitary disorders / (n_units / n_annotators)`` (Mathet et al. 2015, sec. 4).
    With ``return_components`` also returns each component's summed disorder and the
    component of each unit (components are independent: their disorders add up).
    """
    units = np.asarray(units, dtype=np.float64).reshape(-1, UNIT_FIELDS)
    n = units.shape[0]
    if n == 0 or n_annotators < 2:
        raise ValueError("the disorder needs at least two annotators and one unit")
    labels, _, _, _ = _components(units, n_annotators, alpha, beta, delta_empty)
    roots, comp = np.unique(labels, return_inverse=True)
    order = np.argsort(comp, kind="stable")
    bounds = np.flatnonzero(np.r_[True, np.diff(comp[order]) != 0, True])
    costs = np.empty(roots.size)
    for c in range(roots.size):
        members = order[bounds[c] : bounds[c + 1]]
        costs[c] = _component_cost(members, units, n_annotators, alpha, beta, delta_empty)
    disorder = float(costs.sum()) / (n / n_annotators)
    if return_components:
        return disorder, costs, comp
    return disorder
