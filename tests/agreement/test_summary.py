"""summarize_labels output contract, per-item disagreement, and the no-Django rule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from labeling.agreement import (
    LEVELS,
    fleiss_kappa,
    gwet_ac1,
    item_disagreement,
    krippendorff_alpha,
    scott_pi,
    summarize_labels,
)

from .test_alpha_reference import K2011_CODES, K2011_VALUES

KEYS = {
    "alpha",
    "alpha_ci95",
    "percent_agreement",
    "n_items",
    "n_pairable_items",
    "n_annotations",
    "n_annotators",
    "cohen_kappa",
    "fleiss_kappa",
    "scott_pi",
    "gwet_ac1",
    "pairwise",
    "per_label",
    "coincidence",
    "item_disagreement",
    "level",
}


@pytest.mark.parametrize("level", LEVELS)
def test_summary_contract_on_krippendorff_example(level: str) -> None:
    labels = ["1", "2", "3", "4", "5"]
    calls: list[float] = []
    s = summarize_labels(
        K2011_CODES, labels, level, values=K2011_VALUES, bootstrap_draws=300, progress=calls.append
    )
    text = json.dumps(s, allow_nan=False)
    assert json.loads(text) == s
    assert set(s) >= KEYS
    assert s["level"] == level
    assert s["alpha"] == pytest.approx(krippendorff_alpha(K2011_CODES, level, values=K2011_VALUES))
    low, high = s["alpha_ci95"]
    assert low <= s["alpha"] <= high
    assert (s["n_items"], s["n_pairable_items"], s["n_annotations"], s["n_annotators"]) == (
        12,
        11,
        41,
        4,
    )
    assert s["fleiss_kappa"] == pytest.approx(fleiss_kappa(K2011_CODES, 5))
    assert s["gwet_ac1"] == pytest.approx(gwet_ac1(K2011_CODES, 5))
    assert s["scott_pi"] == pytest.approx(scott_pi(K2011_CODES, 5))
    assert len(s["pairwise"]) == 6
    assert {(e["a"], e["b"]) for e in s["pairwise"]} == {
        (a, b) for a in range(4) for b in range(a + 1, 4)
    }
    assert s["coincidence"]["labels"] == labels
    assert np.asarray(s["coincidence"]["matrix"]).sum() == pytest.approx(40)
    assert list(s["per_label"]) == labels
    assert len(s["item_disagreement"]) == 12
    assert s["item_disagreement"][11] is None
    assert calls[0] == 0.0
    assert calls[-1] == 1.0
    assert calls == sorted(calls)
    for e in s["pairwise"]:
        assert all(type(e[k]) is int for k in ("a", "b", "n_shared"))


def test_item_disagreement_nominal_ordering() -> None:
    codes = np.array([[0, 0, 0], [0, 0, 1], [0, 1, 2], [0, 1, -1], [2, -1, -1]])
    dis = item_disagreement(codes, "nominal", n_categories=3)
    assert dis == pytest.approx([0.0, 2 / 3, 1.0, 1.0, None])


def test_item_disagreement_interval_uses_schema_range() -> None:
    codes = np.array([[0, 4], [0, 1], [2, 2], [1, 3]])
    dis = item_disagreement(codes, "interval", n_categories=5)
    assert dis == pytest.approx([1.0, 1 / 16, 0.0, 4 / 16])
    ranked = sorted(range(4), key=lambda u: -dis[u])
    assert ranked == [0, 3, 1, 2]


@pytest.mark.parametrize("level", LEVELS)
def test_item_disagreement_bounded(level: str) -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(-1, 5, (300, 6))
    dis = np.array(
        [np.nan if d is None else d for d in item_disagreement(codes, level, n_categories=5)]
    )
    finite = dis[np.isfinite(dis)]
    assert finite.min() >= 0.0
    assert finite.max() <= 1.0 + 1e-12


def test_package_does_not_import_django() -> None:
    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, labeling.agreement; "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, timeout=60)
