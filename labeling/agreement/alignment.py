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

Exactness without an integer-programming solver: in an optimal alignment any two units of
one unitary alignment lie within ``(m - 1 + C(m, 2)) * delta_empty`` of each other
(:func:`link_threshold`), so units split into independent connected components under that
link; two annotators give an assignment problem (Hungarian method); three or more a set
partitioning over the admissible unitary alignments, solved exactly by dynamic
programming along the continuum (:func:`_set_partition_cost`).
"""

from __future__ import annotations

import math
from typing import Literal, overload

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
    out: np.ndarray = (alpha * pos * pos + beta * cat) * delta_empty
    return out


def link_threshold(m: int, delta_empty: float = 1.0) -> float:
    """Largest dissimilarity between two units of one unitary alignment of an optimal alignment.

    Removing unit ``w`` from a unitary alignment ``T`` of ``k <= m`` units changes the
    summed disorder by ``sum_{v in T, v != w} (d(v, w) - delta) / C(m, 2) - delta``; in an
    optimum that is never a gain, so ``d(v, w) <= (k - 1 + C(m, 2)) delta`` for every pair.
    """
    return delta_empty * (m - 1 + m * (m - 1) / 2.0)


def _components(
    units: np.ndarray, m: int, alpha: float, beta: float, delta_empty: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Component label of each unit, plus the linked pairs ``(i, j)`` and their dissimilarities."""
    n = units.shape[0]
    threshold = link_threshold(m, delta_empty)
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
    if len(annotators) == 1:
        return k * delta_empty
    if m == 2:
        a = sub[sub[:, 0] == annotators[0]]
        b = sub[sub[:, 0] == annotators[1]]
        d = dissimilarity(a[:, None, :], b[None, :, :], alpha, beta, delta_empty)
        return _two_annotator_cost(d, delta_empty)
    return _set_partition_cost(sub, m, alpha, beta, delta_empty)


def _set_partition_cost(
    sub: np.ndarray, m: int, alpha: float, beta: float, delta_empty: float
) -> float:
    """Exact minimum over partitions of ``sub`` into unitary alignments (three+ annotators).

    Candidates are the cliques (distinct annotators, every pair within
    :func:`link_threshold`) that beat their singletons and lose nothing when any one unit
    leaves. Units are ordered by start; a dynamic programme over "covered" sets, always
    covering the first uncovered unit next, finds the optimum: its states are few because
    unitary alignments are local in that order.
    """
    order = np.argsort(sub[:, 1], kind="stable")
    sub = sub[order]
    k = sub.shape[0]
    pairs = m * (m - 1) / 2.0
    d_all = dissimilarity(sub[:, None, :], sub[None, :, :], alpha, beta, delta_empty)
    near = (d_all <= link_threshold(m, delta_empty)) & (sub[:, None, 0] != sub[None, :, 0])
    excess = d_all - delta_empty
    options: list[list[tuple[float, int, list[int]]]] = [
        [(delta_empty, 1 << i, [i])] for i in range(k)
    ]
    # Cliques of 2..m units grown one unit at a time, members in increasing order.
    i, j = np.nonzero(np.triu(near, 1))
    cliques = np.column_stack([i, j])
    while cliques.shape[0]:
        size = cliques.shape[1]
        # Excess dissimilarity of each member to the others of its clique.
        member_excess = np.zeros(cliques.shape)
        for x in range(size):
            for y in range(size):
                if x != y:
                    member_excess[:, x] += excess[cliques[:, x], cliques[:, y]]
        cost = delta_empty + member_excess.sum(axis=1) / 2.0 / pairs
        keep = (cost < size * delta_empty) & (member_excess <= pairs * delta_empty + 1e-12).all(
            axis=1
        )
        for row, c in zip(cliques[keep].tolist(), cost[keep].tolist(), strict=True):
            mask = 0
            for unit in row:
                mask |= 1 << unit
            options[row[0]].append((c, mask, row))
        if size == m:
            break
        grow = near[cliques[:, 0]]
        for x in range(1, size):
            grow &= near[cliques[:, x]]
        grow &= np.arange(k)[None, :] > cliques[:, -1][:, None]
        rows, extra = np.nonzero(grow)
        cliques = np.column_stack([cliques[rows], extra])
    full = (1 << k) - 1
    # Lower bound: each unit pays at least its cheapest share (disorder / size) of an
    # option containing it; upper bound: a greedy partition. States that cannot beat the
    # bound are dropped, which keeps the programme small without losing the optimum.
    share = [delta_empty] * k
    expanded: list[list[tuple[float, int, float]]] = []
    for low in range(k):
        for cost, _, members in options[low]:
            for u in members:
                share[u] = min(share[u], cost / len(members))
    for low in range(k):
        ranked = [
            (cost, mask, sum(share[u] for u in members)) for cost, mask, members in options[low]
        ]
        ranked.sort(key=lambda r: r[0] - r[2])
        expanded.append(ranked)
    total_share = sum(share)
    covered, best = 0, 0.0
    while covered != full:
        low = (~covered & (covered + 1)).bit_length() - 1
        cost, mask, _ = next(r for r in expanded[low] if not r[1] & covered)
        covered |= mask
        best += cost
    levels: list[dict[int, tuple[float, float]]] = [{} for _ in range(k + 1)]
    levels[0][0] = (0.0, 0.0)
    for low in range(k):
        for covered, (cost, got) in levels[low].items():
            for option_cost, mask, option_share in expanded[low]:
                if mask & covered:
                    continue
                total = cost + option_cost
                paid = got + option_share
                if total + (total_share - paid) > best + 1e-9:
                    continue
                nxt = covered | mask
                nxt_low = (~nxt & (nxt + 1)).bit_length() - 1 if nxt != full else k
                seen = levels[nxt_low].get(nxt)
                if seen is None or total < seen[0]:
                    levels[nxt_low][nxt] = (total, paid)
        levels[low] = {}
    found = levels[k].get(full)
    return best if found is None else min(best, found[0])


@overload
def best_alignment_disorder(
    units: np.ndarray,
    n_annotators: int,
    *,
    alpha: float = ...,
    beta: float = ...,
    delta_empty: float = ...,
    return_components: Literal[False] = ...,
) -> float: ...
@overload
def best_alignment_disorder(
    units: np.ndarray,
    n_annotators: int,
    *,
    alpha: float = ...,
    beta: float = ...,
    delta_empty: float = ...,
    return_components: Literal[True],
) -> tuple[float, np.ndarray, np.ndarray]: ...
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
    sizes = np.diff(bounds)
    costs = np.full(roots.size, delta_empty)  # a lone unit is a singleton alignment
    # Two units: one unitary alignment, or two singletons, whichever is cheaper.
    pairs = n_annotators * (n_annotators - 1) / 2.0

    def together(*rows: np.ndarray) -> np.ndarray:
        """Disorder of one unitary alignment of these units (inf if an annotator repeats)."""
        out = np.full(rows[0].shape[0], delta_empty)
        for x in range(len(rows)):
            for y in range(x + 1, len(rows)):
                d = dissimilarity(rows[x], rows[y], alpha, beta, delta_empty)
                out += (d - delta_empty) / pairs
                out[rows[x][:, 0] == rows[y][:, 0]] = np.inf
        return out

    two = np.flatnonzero(sizes == 2)
    if two.size:
        a, b = units[order[bounds[two]]], units[order[bounds[two] + 1]]
        costs[two] = np.minimum(2.0 * delta_empty, together(a, b))
    three = np.flatnonzero(sizes == 3)
    if three.size:  # the five partitions of three units
        a, b, c = (units[order[bounds[three] + i]] for i in range(3))
        costs[three] = np.minimum.reduce(
            [
                np.full(three.size, 3.0 * delta_empty),
                together(a, b) + delta_empty,
                together(a, c) + delta_empty,
                together(b, c) + delta_empty,
                together(a, b, c),
            ]
        )
    for big in np.flatnonzero(sizes > 3).tolist():
        members = order[bounds[big] : bounds[big + 1]]
        costs[big] = _component_cost(members, units, n_annotators, alpha, beta, delta_empty)
    disorder = float(costs.sum()) / (n / n_annotators)
    if return_components:
        return disorder, costs, comp
    return disorder
