"""Temperature-based mixing of languages (or tasks), as in XLM-R, mT5 and seqio mixtures.

A language with n examples is drawn with probability proportional to n ** (1 / T): T = 1 follows
the data sizes, large T tends to uniform. Within a language, examples are visited in a fresh
seeded permutation per epoch (no example repeats before all were seen).

Batches are grouped by length, as transformers' `group_by_length`: the examples drawn for `GROUP`
consecutive steps are sorted by length and cut into that many batches, dealt to those steps in a
seeded order, so a batch pads little and every example still trains in the step range it was drawn
for. Every batch is a pure function of (seed, step), so a resumed run sees exactly the batches an
uninterrupted one would; under several processes, each takes its share of the same global batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

GROUP = 50  # steps whose examples are sorted together (transformers' LengthGroupedSampler: 50 batches)


def language_rates(sizes: dict[str, int], temperature: float) -> dict[str, float]:
    weights = {lang: n ** (1.0 / temperature) for lang, n in sizes.items() if n > 0}
    total = sum(weights.values())
    return {lang: w / total for lang, w in weights.items()}


class MixtureSampler:
    """`lengths`: each language's example lengths (padded tokens a batch needs for it), in example order."""

    def __init__(
        self, lengths: Mapping[str, Sequence[int]], temperature: float, batch_size: int, steps: int, seed: int
    ):
        self.lengths = lengths
        self.sizes = {lang: len(values) for lang, values in lengths.items()}
        self.seed = seed
        self.steps = steps
        self.batch_size = batch_size
        rates = language_rates(self.sizes, temperature)
        self.languages = sorted(rates)
        rng = np.random.default_rng([seed, 0])
        picks = rng.choice(len(self.languages), size=(steps, batch_size), p=[rates[lang] for lang in self.languages])
        self._picks = picks
        # The c-th draw of a language (counted over all earlier steps) selects its c-th shuffled example.
        flat = picks.reshape(-1)
        self._draw: np.ndarray = np.zeros_like(flat)
        for code in range(len(self.languages)):
            where = flat == code
            self._draw[where] = np.arange(where.sum())
        self._draw = self._draw.reshape(picks.shape)
        self._permutations: dict[tuple[int, int], np.ndarray] = {}
        self._group: tuple[int, list[list[tuple[str, int]]]] = (-1, [])  # the last group's batches

    def drawn(self) -> dict[str, int]:
        """Examples drawn per language over all steps: the mixture the stage actually trained on."""
        counts = np.bincount(self._picks.reshape(-1), minlength=len(self.languages))
        return {lang: int(count) for lang, count in zip(self.languages, counts)}

    def batch(self, step: int, rank: int = 0, world: int = 1) -> list[tuple[str, int]]:
        """This process's share of the step's global batch: every `world`-th example from `rank` on (a batch is
        sorted by length, so each share pads to about the same length)."""
        group = step // GROUP
        if self._group[0] != group:
            self._group = (group, self._grouped(group))
        return self._group[1][step % GROUP][rank::world]

    def _grouped(self, group: int) -> list[list[tuple[str, int]]]:
        steps = range(group * GROUP, min((group + 1) * GROUP, self.steps))
        drawn = [
            self._example(int(code), int(draw))
            for step in steps
            for code, draw in zip(self._picks[step], self._draw[step])
        ]
        by_length = sorted(drawn, key=lambda example: -self.lengths[example[0]][example[1]])  # ties keep draw order
        batches = [by_length[i : i + self.batch_size] for i in range(0, len(by_length), self.batch_size)]
        order = np.random.default_rng([self.seed, 2, group]).permutation(len(batches))
        return [batches[i] for i in order]

    def _example(self, code: int, draw: int) -> tuple[str, int]:
        lang = self.languages[code]
        epoch, position = divmod(draw, self.sizes[lang])
        key = (code, epoch)
        if key not in self._permutations:
            self._permutations[key] = np.random.default_rng([self.seed, 1, code, epoch]).permutation(self.sizes[lang])
        return lang, int(self._permutations[key][position])
