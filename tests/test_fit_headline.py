"""The headline-weight fitter finds the cue that tells the headline from other lines."""

from __future__ import annotations

import numpy as np

from bench.fit_headline import Choice, accuracy, fit
from daemon.parse.headline import CUES


def _page(split: str, right_at: int, rng: np.random.Generator) -> Choice:
    """Five candidates with random cues; only the headline has "byline or date below"."""
    cues = rng.random((5, len(CUES)))
    below = CUES.index("byline or date below")
    cues[:, below] = 0.0
    cues[right_at, below] = 1.0
    right = np.zeros(5, dtype=bool)
    right[right_at] = True
    return Choice(split, cues, right)


def test_the_fitted_weights_favour_the_cue_only_headlines_show() -> None:
    rng = np.random.default_rng(7)
    data = [_page("dev", int(rng.integers(5)), rng) for _ in range(60)]
    data += [_page("heldout", int(rng.integers(5)), rng) for _ in range(20)]
    weights = fit(data, l2=0.001)
    below = CUES.index("byline or date below")
    assert weights[below] > 0
    assert weights[below] == max(weights)
    assert accuracy(data, weights, "heldout") == (20, 20)
    assert accuracy(data, np.zeros(len(CUES)), "heldout")[0] < 20
