"""Fit the weights of the dump reader's headline cues on the dev pages of the reading corpus.

    .venv/bin/python bench/fit_headline.py [--renderers chromium,w3m,inscriptis] [--l2 0.001]

Every candidate line above a dump's first paragraph gets the cues of
``daemon.parse.headline.candidates``; the line whose text is the page's own headline is the
answer. A conditional logit (softmax over each page's candidates) is fitted (L-BFGS)
on the ``dev`` split only, and the weights are printed as the table to put in
``headline._WEIGHTS``. The accuracy of the weights now in the code and of the fitted ones is
printed for dev and, only to report, for the held-out split: nothing here looks at held-out
pages to choose anything.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import numpy as np
from scipy import optimize

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpora import RENDERERS, dump_path, load_labels, split_of
from read_eval import norm

from daemon.errors import ParseError
from daemon.parse import headline as hl
from daemon.parse.dumppage import read_page


@dataclass(frozen=True)
class Choice:
    """One page's candidates: their cues, and which of them read as the headline (a page
    may print it twice, in a trail and as the title)."""

    split: str
    cues: np.ndarray
    right: np.ndarray  # one flag per candidate


def choices(renderers: list[str]) -> list[Choice]:
    out = []
    for label in load_labels():
        if not label["headline"]:
            continue
        truth = norm(label["headline"]).casefold()
        for renderer in renderers:
            path = dump_path(renderer, label["stem"])
            if not path.is_file():
                continue
            text = path.read_bytes().decode("utf-8", "replace")
            if truth not in norm(text).casefold():
                continue  # the renderer dropped it: no reader can find it
            try:
                page = read_page(text, UTC, None)
            except ParseError:
                empty = np.zeros((0, len(hl.CUES)))
                out.append(Choice(split_of(label["file"]), empty, np.zeros(0, dtype=bool)))
                continue
            found = hl.candidates(page)
            right = [norm(hl.title_text(page, i)).casefold() == truth for i, _ in found]
            rows = [cues for _, cues in found]
            cues = np.array(rows, dtype=float).reshape(len(rows), len(hl.CUES))
            out.append(Choice(split_of(label["file"]), cues, np.array(right, dtype=bool)))
    return out


def accuracy(data: list[Choice], weights: np.ndarray, split: str) -> tuple[int, int]:
    pages = [c for c in data if c.split == split]
    right = sum(1 for c in pages if len(c.cues) and c.right[int(np.argmax(c.cues @ weights))])
    return right, len(pages)


def fit(data: list[Choice], l2: float) -> np.ndarray:
    """Weights that make the headline likeliest among each dev page's candidates: the
    negative log of the probability given to its right lines, plus an L2 penalty."""
    train = [c for c in data if c.split == "dev" and c.right.any() and not c.right.all()]

    def loss(weights: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.0, np.zeros_like(weights)
        for c in train:
            scores = c.cues @ weights
            scores -= scores.max()
            p = np.exp(scores)
            p /= p.sum()
            mass = p[c.right].sum()
            q = np.where(c.right, p, 0.0) / mass  # the right lines' share of that mass
            total -= np.log(mass)
            grad += p @ c.cues - q @ c.cues
        n = len(train)
        return total / n + l2 * weights @ weights, grad / n + 2 * l2 * weights

    found = optimize.minimize(loss, np.zeros(len(hl.CUES)), jac=True, method="L-BFGS-B")
    return np.asarray(found.x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renderers", default=",".join(RENDERERS))
    parser.add_argument("--l2", type=float, default=0.001)
    args = parser.parse_args()
    data = choices(args.renderers.split(","))
    if not data:
        sys.exit("no corpus: build it with .venv/bin/python bench/corpus.py")
    now = np.array(list(hl._WEIGHTS.values()), dtype=float)
    reachable = sum(1 for c in data if c.split == "dev" and c.right.any())
    print(
        f"dev pages with a headline truth: {sum(c.split == 'dev' for c in data)}, "
        f"{reachable} with the truth among the candidates"
    )
    fitted = fit(data, args.l2)
    for name, weights in (("in the code", now), ("fitted", fitted)):
        dev = accuracy(data, weights, "dev")
        held = accuracy(data, weights, "heldout")
        print(f"{name:12} dev {dev[0]}/{dev[1]}  held-out {held[0]}/{held[1]}")
    print("_WEIGHTS: dict[str, float] = {")
    for cue, weight in zip(hl.CUES, fitted, strict=True):
        print(f'    "{cue}": {weight:.2f},')
    print("}")


if __name__ == "__main__":
    main()
