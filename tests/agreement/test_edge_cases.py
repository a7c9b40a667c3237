"""Degenerate inputs give defined answers (mostly None), never exceptions or NaN."""

from __future__ import annotations

import json

import numpy as np
import pytest

from labeling.agreement import (
    LEVELS,
    bootstrap_alpha_ci,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    item_disagreement,
    krippendorff_alpha,
    pairwise_agreement,
    percent_agreement,
    scott_pi,
    summarize_labels,
)

LABELS = ["a", "b", "c"]


def everything(codes: np.ndarray, level: str = "nominal") -> dict:
    summary = summarize_labels(codes, LABELS, level, bootstrap_draws=50)
    json.dumps(summary, allow_nan=False)  # no NaN/inf anywhere, plain types only
    return summary


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    "codes",
    [
        np.zeros((0, 0), dtype=np.int64),
        np.zeros((0, 3), dtype=np.int64),
        np.zeros((4, 0), dtype=np.int64),
        np.full((4, 3), -1),
        [],
    ],
    ids=["empty", "no-items", "no-annotators", "all-missing", "empty-list"],
)
def test_empty_input(codes, level: str) -> None:
    s = everything(codes, level)
    assert s["alpha"] is None
    assert s["alpha_ci95"] is None
    assert s["percent_agreement"] is None
    assert s["n_pairable_items"] == 0
    assert s["pairwise"] == []
    assert krippendorff_alpha(codes, level, n_categories=3) is None


def test_single_annotator_is_not_pairable() -> None:
    codes = np.array([[0], [1], [2], [1]])
    s = everything(codes)
    assert s["n_items"] == 4
    assert s["n_annotators"] == 1
    assert s["n_pairable_items"] == 0
    for key in ("alpha", "percent_agreement", "cohen_kappa", "fleiss_kappa", "scott_pi"):
        assert s[key] is None, key
    assert s["item_disagreement"] == [None] * 4


def test_no_pairable_items_with_several_annotators() -> None:
    codes = np.array([[0, -1, -1], [-1, 1, -1], [-1, -1, 2]])
    s = everything(codes)
    assert s["alpha"] is None
    assert s["n_annotators"] == 3
    assert s["pairwise"] == []
    assert bootstrap_alpha_ci(codes, n_categories=3) is None


@pytest.mark.parametrize("level", LEVELS)
def test_all_identical_values_alpha_undefined(level: str) -> None:
    """One value everywhere: D_e = 0, alpha = 0/0 is None (the krippendorff package gives
    NaN/raises), while percent agreement is 1."""
    codes = np.ones((6, 3), dtype=np.int64)
    s = everything(codes, level)
    assert s["alpha"] is None
    assert s["alpha_ci95"] is None
    assert s["percent_agreement"] == 1.0
    assert s["fleiss_kappa"] is None
    assert s["cohen_kappa"] is None
    assert s["scott_pi"] is None
    assert s["item_disagreement"] == [0.0] * 6
    assert s["per_label"]["b"] is None


@pytest.mark.parametrize("level", LEVELS)
def test_perfect_agreement_with_variation_is_one(level: str) -> None:
    codes = np.array([[0, 0, 0], [1, 1, 1], [2, 2, -1], [0, 0, 0]])
    s = everything(codes, level)
    assert s["alpha"] == pytest.approx(1.0)
    assert s["alpha_ci95"] == pytest.approx([1.0, 1.0])
    assert s["percent_agreement"] == 1.0
    assert s["fleiss_kappa"] == pytest.approx(1.0)
    assert s["gwet_ac1"] == pytest.approx(1.0)


def test_single_category_schema() -> None:
    codes = np.zeros((3, 2), dtype=np.int64)
    s = summarize_labels(codes, ["only"], "nominal", bootstrap_draws=10)
    json.dumps(s, allow_nan=False)
    assert s["alpha"] is None
    assert s["gwet_ac1"] is None
    assert s["percent_agreement"] == 1.0


def test_two_annotators_cohen_and_light() -> None:
    codes = np.array([[0, 0], [1, 1], [2, 1], [0, 0], [1, 2]])
    s = everything(codes)
    assert s["cohen_kappa_method"] == "cohen"
    assert s["cohen_kappa"] == pytest.approx(cohen_kappa(codes, 3))
    codes3 = np.concatenate([codes, codes[:, :1]], axis=1)
    s3 = everything(codes3)
    assert s3["cohen_kappa_method"] == "light_mean_pairwise"
    pair_kappas = [e["kappa"] for e in s3["pairwise"]]
    assert s3["cohen_kappa"] == pytest.approx(np.mean(pair_kappas))


def test_functions_on_degenerate_input_return_none() -> None:
    empty = np.zeros((0, 2), dtype=np.int64)
    assert cohen_kappa(empty, 3) is None
    assert fleiss_kappa(empty, 3) is None
    assert gwet_ac1(empty, 3) is None
    assert scott_pi(empty, 3) is None
    assert percent_agreement(empty, 3) is None
    assert item_disagreement(empty, n_categories=3) == []
    assert pairwise_agreement(empty, n_categories=3) == []


def test_pairwise_min_shared() -> None:
    codes = np.array([[0, 0, -1], [1, 1, 1], [2, 2, -1], [0, 1, -1]])
    entries = {(e["a"], e["b"]): e for e in pairwise_agreement(codes, n_categories=3)}
    assert entries[(0, 1)]["n_shared"] == 4
    assert entries[(0, 1)]["alpha"] is not None
    assert entries[(0, 2)]["n_shared"] == 1
    assert entries[(0, 2)]["alpha"] is None
    assert entries[(0, 2)]["kappa"] is None
    loose = {(e["a"], e["b"]): e for e in pairwise_agreement(codes, n_categories=3, min_shared=1)}
    assert loose[(0, 2)]["n_shared"] == 1
    assert loose[(0, 2)]["alpha"] is None  # one item, one value: D_e = 0


def test_invalid_input_raises_value_error() -> None:
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(np.zeros((2, 2), dtype=int), "cardinal")
    with pytest.raises(ValueError, match="out of range"):
        krippendorff_alpha(np.array([[0, 5]]), n_categories=3)
    with pytest.raises(ValueError, match=">= -1"):
        krippendorff_alpha(np.array([[0, -2]]))
