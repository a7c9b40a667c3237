"""Krippendorff's alpha_U: the published worked examples (1995, 2004) and the contract."""

from __future__ import annotations

import numpy as np
import pytest

from labeling.agreement import unitizing_alpha
from labeling.agreement.unitizing import category_disagreements, merged_spans

# Krippendorff (2004), Content Analysis 2nd ed., p. 254: continuum [150, 450), two coders.
EXAMPLE_2004 = [
    (0, 225, 295, "c"),
    (0, 370, 400, "c"),
    (1, 220, 300, "c"),
    (1, 355, 375, "c"),
    (1, 400, 420, "c"),
    (0, 180, 240, "k"),
    (0, 300, 350, "k"),
    (1, 180, 240, "k"),
    (1, 300, 350, "k"),
]

# Krippendorff (1995), Sociological Methodology 25, p. 57: four pairs of coders on a
# continuum of 24 positions, one category each (offset, length, coder, category).
EXAMPLE_1995 = [
    (2, 8, 0, "A"), (14, 6, 0, "A"), (4, 4, 1, "A"), (15, 2, 1, "A"),
    (0, 18, 0, "B"), (0, 2, 1, "B"), (2, 1, 1, "B"), (3, 1, 1, "B"), (4, 1, 1, "B"),
    (5, 1, 1, "B"), (6, 3, 1, "B"), (9, 1, 1, "B"),
    (2, 6, 0, "C"), (10, 2, 0, "C"), (14, 4, 0, "C"), (20, 2, 0, "C"), (0, 2, 1, "C"),
    (4, 4, 1, "C"), (10, 4, 1, "C"), (16, 2, 1, "C"), (20, 2, 1, "C"),
    (0, 2, 0, "D"), (2, 8, 0, "D"), (10, 4, 0, "D"), (14, 6, 0, "D"), (20, 4, 0, "D"),
    (0, 4, 1, "D"), (4, 4, 1, "D"), (8, 7, 1, "D"), (15, 2, 1, "D"), (17, 7, 1, "D"),
]  # fmt: skip


def example_1995(stretch: int = 1) -> list[tuple]:
    return [(r, o * stretch, (o + n) * stretch, c) for o, n, r, c in EXAMPLE_1995]


def disagreements(units: list[tuple], begin: int, length: int) -> dict:
    out = {}
    for category in dict.fromkeys(u[3] for u in units):
        per = [
            merged_spans([(s, e) for a, s, e, c in units if a == r and c == category])
            for r in (0, 1)
        ]
        out[category] = category_disagreements(per, begin, length)
    return out


def test_krippendorff_2004_worked_example() -> None:
    result = unitizing_alpha(EXAMPLE_2004, begin=150, length=300)
    assert set(result) == {"alpha", "per_category"}
    assert result["per_category"]["c"] == pytest.approx(0.7286, abs=1e-4)
    assert result["per_category"]["k"] == pytest.approx(1.0)
    assert result["alpha"] == pytest.approx(0.8591, abs=5e-4)
    d = disagreements(EXAMPLE_2004, 150, 300)
    assert d["c"] == pytest.approx((0.0144, 0.0532), abs=1e-4)
    assert d["k"] == pytest.approx((0.0, 0.0490), abs=1e-4)


def test_overall_alpha_pools_disagreements_not_the_mean_of_category_alphas() -> None:
    result = unitizing_alpha(EXAMPLE_2004, begin=150, length=300)
    d = disagreements(EXAMPLE_2004, 150, 300)
    pooled = 1 - sum(o for o, _ in d.values()) / sum(e for _, e in d.values())
    assert result["alpha"] == pytest.approx(pooled)
    assert result["alpha"] != pytest.approx(np.mean(list(result["per_category"].values())))


def test_krippendorff_1995_worked_example() -> None:
    # Observed disagreements do not depend on the continuum's resolution.
    d = disagreements(example_1995(), 0, 24)
    observed = {c: o for c, (o, _) in d.items()}
    assert observed == pytest.approx(
        {"A": 0.03125, "B": 2.26736, "C": 0.02777, "D": 0.38715}, abs=1e-5
    )
    # The published alphas assume a fine continuum (the 2004 expected disagreement
    # corrects a small slip of 1995, hence the tolerance DKPro Agreement also uses).
    fine = unitizing_alpha(example_1995(50_000), begin=0, length=24 * 50_000)
    assert fine["per_category"] == pytest.approx(
        {"A": 0.553, "B": -0.926, "C": 0.679, "D": 0.066}, abs=0.02
    )


def test_perfect_agreement_and_everyone_marking_nothing() -> None:
    units = [("x", 2, 5, "src"), ("y", 2, 5, "src")]
    assert unitizing_alpha(units, begin=0, length=20) == {
        "alpha": 1.0,
        "per_category": {"src": 1.0},
    }
    assert unitizing_alpha([], begin=0, length=20, annotators=["x", "y"]) == {
        "alpha": None,
        "per_category": {},
    }
    assert unitizing_alpha(units[:1], begin=0, length=20)["alpha"] is None  # one annotator


def test_an_annotator_who_marked_nothing_is_disagreement() -> None:
    units = [("x", 2, 5, "src"), ("y", 2, 5, "src")]
    with_silent = unitizing_alpha(units, begin=0, length=20, annotators=["x", "y", "z"])
    assert with_silent["alpha"] < 1.0


def test_boundaries_matter_where_token_alpha_is_blind() -> None:
    """One content span against the same characters split in two is disagreement."""
    whole = [("x", 0, 10, "content"), ("y", 0, 10, "content")]
    split = [("x", 0, 10, "content"), ("y", 0, 5, "content"), ("y", 5, 10, "content")]
    assert unitizing_alpha(whole, begin=0, length=30)["alpha"] == 1.0
    assert unitizing_alpha(split, begin=0, length=30)["alpha"] < 1.0


def test_offsets_are_code_points_of_text_outside_the_bmp() -> None:
    text = "Er sagte: 👍 die 🇺🇦 Lage 👩‍💻 例えば café\u0301 bleibt."
    quote = text.index("die")
    end = text.index("bleibt")
    units = [("x", quote, end, "content"), ("y", quote, end, "content")]
    assert unitizing_alpha(units, begin=0, length=len(text))["alpha"] == 1.0
    shifted = [("x", quote, end, "content"), ("y", quote + 1, end, "content")]
    assert unitizing_alpha(shifted, begin=0, length=len(text))["alpha"] < 1.0


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ([("x", 5, 5, "c")], "empty"),
        ([("x", 0, 31, "c")], "outside"),
        ([("x", 1, 2)], "annotator, start, end, category"),
    ],
)
def test_bad_units_are_refused(units: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        unitizing_alpha(units, begin=0, length=30)


def test_unit_of_an_unlisted_annotator_is_refused() -> None:
    with pytest.raises(ValueError, match="annotators"):
        unitizing_alpha([("x", 0, 3, "c")], begin=0, length=30, annotators=["y", "z"])
