"""Temperature-based mixing of languages (or tasks), as in XLM-R, mT5 and seqio mixtures.

A language with n examples is drawn with probability proportional to n ** (1 / T): T = 1 follows
the data sizes, large T tends to uniform. Within a language, examples are visited in a fresh
seeded permutation per epoch (no example repeats before all were seen). Every batch is a pure
function of (seed, step), so a resumed run sees exactly the batches an uninterrupted one would.
"""

from __future__ import annotations

import numpy as np


def language_rates(sizes: dict[str, int], temperature: float) -> dict[str, float]:
    weights = {lang: n ** (1.0 / temperature) for lang, n in sizes.items() if n > 0}
    total = sum(weights.values())
    return {lang: w / total for lang, w in weights.items()}


class MixtureSampler:
    def __init__(self, sizes: dict[str, int], temperature: float, batch_size: int, steps: int, seed: int):
        self.sizes = sizes
        self.seed = seed
        rates = language_rates(sizes, temperature)
        self.languages = sorted(rates)
        rng = np.random.default_rng([seed, 0])
        picks = rng.choice(len(self.languages), size=(steps, batch_size), p=[rates[lang] for lang in self.languages])
        self._picks = picks
        # The c-th draw of a language (counted over all earlier steps) selects its c-th shuffled example.
        flat = picks.reshape(-1)
        self._draw = np.zeros_like(flat)
        for code in range(len(self.languages)):
            where = flat == code
            self._draw[where] = np.arange(where.sum())
        self._draw = self._draw.reshape(picks.shape)
        self._permutations: dict[tuple[int, int], np.ndarray] = {}

    def drawn(self) -> dict[str, int]:
        """Examples drawn per language over all steps: the mixture the stage actually trained on."""
        counts = np.bincount(self._picks.reshape(-1), minlength=len(self.languages))
        return {lang: int(count) for lang, count in zip(self.languages, counts)}

    def batch(self, step: int) -> list[tuple[str, int]]:
        return [self._example(int(code), int(draw)) for code, draw in zip(self._picks[step], self._draw[step])]

    def _example(self, code: int, draw: int) -> tuple[str, int]:
        lang = self.languages[code]
        epoch, position = divmod(draw, self.sizes[lang])
        key = (code, epoch)
        if key not in self._permutations:
            self._permutations[key] = np.random.default_rng([self.seed, 1, code, epoch]).permutation(self.sizes[lang])
        return lang, int(self._permutations[key][position])
