"""The mixture sampler: temperature rates, epochs without repeats, length-grouped batches, shares by process."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from xlt.data.mixing import GROUP, MixtureSampler, language_rates

RNG = np.random.default_rng(0)
LENGTHS = {"en": RNG.integers(5, 120, 400).tolist(), "de": RNG.integers(5, 120, 100).tolist()}
STEPS, BATCH = 2 * GROUP + 7, 16  # two whole groups and a partial one


def sampler(**changes) -> MixtureSampler:
    args = {"lengths": LENGTHS, "temperature": 2.0, "batch_size": BATCH, "steps": STEPS, "seed": 3} | changes
    return MixtureSampler(**args)


def test_rates_follow_sizes_at_temperature_one_and_flatten_above():
    assert language_rates({"en": 300, "de": 100}, 1.0) == pytest.approx({"en": 0.75, "de": 0.25})
    assert language_rates({"en": 300, "de": 100}, 1e9)["de"] == pytest.approx(0.5)


def test_rates_leave_out_empty_languages_only():
    assert language_rates({"en": 3, "sw": 1, "yo": 0}, 1.0) == pytest.approx({"en": 0.75, "sw": 0.25})


def test_the_drawn_mixture_follows_the_temperature_rates():
    for temperature in (1.0, 4.0):
        drawn = sampler(temperature=temperature).drawn()
        rates = language_rates({lang: len(lengths) for lang, lengths in LENGTHS.items()}, temperature)
        for lang, count in drawn.items():  # 1,712 draws: a standard error of about 0.012
            assert count / (STEPS * BATCH) == pytest.approx(rates[lang], abs=0.05)


def test_batches_are_a_pure_function_of_seed_and_step():
    first = sampler()
    forward = [first.batch(step) for step in range(STEPS)]
    backward = [sampler().batch(step) for step in reversed(range(STEPS))]  # a resumed run starts anywhere
    assert forward == backward[::-1]
    assert all(len(batch) == BATCH for batch in forward)
    assert forward != [sampler(seed=4).batch(step) for step in range(STEPS)]


def test_every_example_trains_as_often_as_any_other_of_its_language():
    drawn = Counter(example for step in range(STEPS) for example in sampler().batch(step))
    for lang, lengths in LENGTHS.items():
        counts = [drawn[(lang, i)] for i in range(len(lengths))]
        assert max(counts) - min(counts) <= 1 and max(counts) >= 1  # a fresh permutation each epoch


def test_with_three_languages_every_example_trains_as_often_as_any_other_of_its_language():
    lengths = {"en": LENGTHS["en"][:60], "de": LENGTHS["de"][:40], "sw": LENGTHS["de"][40:70]}
    mixed = sampler(lengths=lengths, temperature=1.0)
    drawn = Counter(example for step in range(STEPS) for example in mixed.batch(step))
    for lang, values in lengths.items():
        counts = [drawn[(lang, i)] for i in range(len(values))]
        assert max(counts) - min(counts) <= 1 and max(counts) >= 1


def test_grouping_keeps_each_groups_examples_and_cuts_padding():
    grouped = sampler()

    def padded(batches):
        return sum(BATCH * max(LENGTHS[lang][i] for lang, i in batch) for batch in batches)

    batches = [grouped.batch(step) for step in range(STEPS)]
    # the same draws in draw order (one batch per step), as an ungrouped sampler would give them
    drawn = [
        [grouped._example(int(c), int(d)) for c, d in zip(grouped._picks[s], grouped._draw[s])] for s in range(STEPS)
    ]
    for start in range(0, STEPS, GROUP):
        window = slice(start, start + GROUP)
        assert Counter(e for b in batches[window] for e in b) == Counter(e for b in drawn[window] for e in b)
    assert padded(batches) < 0.6 * padded(drawn)
    spans = [max(LENGTHS[lang][i] for lang, i in b) - min(LENGTHS[lang][i] for lang, i in b) for b in batches]
    assert np.median(spans) <= 10  # a batch holds examples of about one length
    sizes = [np.mean([LENGTHS[lang][i] for lang, i in b]) for b in batches[:GROUP]]
    assert sizes != sorted(sizes, reverse=True)  # the group's batches come in a shuffled order


def test_drawn_counts_the_examples_each_language_contributed_over_all_steps():
    mixed = sampler()
    drawn = Counter(lang for step in range(STEPS) for lang, _ in mixed.batch(step))
    assert mixed.drawn() == dict(drawn)
    assert sum(drawn.values()) == STEPS * BATCH and set(drawn) == set(LENGTHS)


def test_drawn_names_a_language_never_drawn_with_zero():
    rare = sampler(lengths={"en": [5] * 1000, "yo": [5]}, temperature=1.0, batch_size=4, steps=2)
    assert rare.drawn() == {"en": 8, "yo": 0}  # yo's rate is 1 / 1001


def test_processes_take_disjoint_shares_of_the_same_global_batch():
    whole = sampler()
    for step in (0, 1, GROUP + 3, STEPS - 1):
        shares = [whole.batch(step, rank, 4) for rank in range(4)]
        assert all(len(share) == BATCH // 4 for share in shares)
        assert sorted(e for share in shares for e in share) == sorted(whole.batch(step))
        longest = [max(LENGTHS[lang][i] for lang, i in share) for share in shares]
        assert max(longest) - min(longest) <= 10  # dealt from a length-sorted batch: every share pads alike
