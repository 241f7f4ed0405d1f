"""ONI's classification variant: a small classifier trained online on LLM labels.

Captions are featurised by hashing their lower-cased words and word pairs into
``dim`` buckets (Weinberger et al., "Feature Hashing for Large Scale Multitask
Learning", 2009): no vocabulary to fit, so a caption never seen before still gets
features. A logistic regression over them is updated on every new label (a few
minibatch gradient steps over the labels kept, class-balanced, so a labeller that says
"no" to most captions does not teach "always no"). Every ``holdout_every``-th label is held out
and never trained on; ``accuracy`` is measured on those.

Training happens on the labeller's thread; ``predict`` reads one immutable snapshot of
the weights (replaced whole after each update), so the learner's thread never waits.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")


def caption_features(text: str, dim: int) -> np.ndarray:
    """Hashed word and word-pair presence of ``text``, L2-normalised, float32 [dim]."""
    words = _WORD.findall(text.lower())
    grams = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    out = np.zeros(dim, dtype=np.float32)
    for gram in grams:
        out[zlib.crc32(gram.encode()) % dim] = 1.0
    norm = float(np.linalg.norm(out))
    return out / norm if norm > 0 else out


class CaptionClassifier:
    """Logistic regression on hashed caption features, trained online (thread-safe)."""

    def __init__(
        self,
        dim: int = 2048,
        lr: float = 2.0,
        steps: int = 10,
        batch: int = 64,
        l2: float = 1e-4,
        holdout_every: int = 5,
        max_labels: int = 2048,
        seed: int = 0,
    ) -> None:
        self.dim, self.lr, self.steps, self.batch, self.l2 = dim, lr, steps, batch, l2
        self.holdout_every = holdout_every
        self.max_labels = max_labels
        self._rng = np.random.default_rng(seed)
        # Ring buffers of (features, label), so a new label costs no copy of the old ones.
        self._train_x = np.zeros((max_labels, dim), dtype=np.float32)
        self._train_y = np.zeros(max_labels, dtype=np.float32)
        self._test_x = np.zeros((max_labels, dim), dtype=np.float32)
        self._test_y = np.zeros(max_labels, dtype=np.float32)
        self._n_train = self._n_test = 0
        self._seen = 0
        self._weights = (np.zeros(dim, dtype=np.float32), 0.0)
        self.accuracy = float("nan")

    @property
    def labels(self) -> int:
        """Labels received (trained on and held out)."""
        return self._seen

    @property
    def held_out(self) -> int:
        return min(self._n_test, self.max_labels)

    def add(self, text: str, label: bool) -> None:
        """Record one label and take a few training steps (the labeller's thread only)."""
        x = caption_features(text, self.dim)
        self._seen += 1
        if self.holdout_every and self._seen % self.holdout_every == 0:
            row = self._n_test % self.max_labels
            self._test_x[row], self._test_y[row] = x, float(label)
            self._n_test += 1
        else:
            row = self._n_train % self.max_labels
            self._train_x[row], self._train_y[row] = x, float(label)
            self._n_train += 1
        if self._n_train:
            self._fit()
        if self._n_test:
            n = self.held_out
            hits = (self.predict_batch(self._test_x[:n]) > 0.5) == (self._test_y[:n] > 0.5)
            self.accuracy = float(hits.mean())

    def _fit(self) -> None:
        n = min(self._n_train, self.max_labels)
        y_all = self._train_y[:n]
        positives = float(y_all.sum())
        if positives in (0.0, float(n)):
            # One class only: predict its base rate; a slope would be meaningless.
            rate = min(max(positives / n, 1e-3), 1 - 1e-3)
            self._weights = (np.zeros(self.dim, dtype=np.float32), float(np.log(rate / (1 - rate))))
            return
        w, b = self._weights[0].copy(), self._weights[1]
        class_weight = {1.0: 0.5 / positives * n, 0.0: 0.5 / (n - positives) * n}
        for _ in range(self.steps):
            idx = self._rng.integers(0, n, size=min(self.batch, n))
            x, y = self._train_x[idx], y_all[idx]
            weight = np.where(y > 0.5, class_weight[1.0], class_weight[0.0]).astype(np.float32)
            p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
            grad = (p - y) * weight / len(idx)
            w = w - self.lr * (x.T @ grad + self.l2 * w)
            b = b - self.lr * float(grad.sum())
        self._weights = (w.astype(np.float32), float(b))

    def predict_batch(self, x: np.ndarray) -> np.ndarray:
        w, b = self._weights
        return 1.0 / (1.0 + np.exp(-(x @ w + b)))

    def predict(self, text: str) -> float:
        """P(progress | caption); 0.5 before any label."""
        return float(self.predict_batch(caption_features(text, self.dim)[None])[0])
