"""False-positive rate and power of contrast intervals on simulated studies: `xlt.report.contrasts` against the
one-level example bootstrap (the report's gains before it, the baseline) and the other candidates.

    python bench/contrast_calibration.py [--studies 4000] [--replicates 1000]

Each regime simulates studies (tests/simulated_units.py) with no true difference, except the power rows,
and counts how often each method's 95% interval excludes 0. All methods see the same bootstrap replicates
(example indices shared by every run; the 25 studies of a batch share one draw of them):
  one-level   percentile interval of the seed-mean difference, seeds fixed
  two-level   seeds resampled with replacement (each side), then examples; percentile interval
  corrected   as two-level, the resampled seeds' deviation rescaled by sqrt(S / (S - 1)); D +- t(S - 1) * sd
  naive sum   between-seed variance / S + the whole one-level variance; Satterthwaite's df
  plain df    xlt.report.contrasts' variance with Satterthwaite's df from the seed terms themselves
  contrasts   xlt.report.contrasts: df from the seed terms' 80% upper confidence bounds
Then the exact rates of the last two over the ratio of seed to test-set variance (`exact_rate`).
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from pathlib import Path
from unittest import mock

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' simulator: one model
from simulated_units import exact_rate, simulate
from xlt.report import contrasts

BATCH = 25
THREE = ["0", "1", "2"]
REGIMES = {  # name: (seeds of a, seeds of b, languages, delta, simulate's noise keywords)
    "1 seed, tokens, test set": (["0"], ["0"], 1, 0.0, {"seed_sd": 0.0, "example_sd": 1.0}),
    "2 seeds, tokens, seeds": (["0", "1"], ["0", "1"], 1, 0.0, {"seed_sd": 0.3, "example_sd": 0.3}),
    "3 seeds, tokens, seeds": (THREE, THREE, 1, 0.0, {"seed_sd": 0.3, "example_sd": 0.3}),
    "5 seeds, tokens, seeds": ([*THREE, "3", "4"], [*THREE, "3", "4"], 1, 0.0, {"seed_sd": 0.3, "example_sd": 0.3}),
    "3 seeds, gaussian, test set": (
        THREE,
        THREE,
        1,
        0.0,
        {"kind": "gaussian", "seed_sd": 0.0, "example_sd": 1.0, "within_sd": 0.1},
    ),
    "2 seeds, gaussian, both": (
        ["0", "1"],
        ["0", "1"],
        1,
        0.0,
        {"kind": "gaussian", "seed_sd": 0.015, "example_sd": 0.15, "within_sd": 0.1},
    ),
    "3 seeds, gaussian, both": (
        THREE,
        THREE,
        1,
        0.0,
        {"kind": "gaussian", "seed_sd": 0.015, "example_sd": 0.15, "within_sd": 0.1},
    ),
    "5 seeds, gaussian, both": (
        [*THREE, "3", "4"],
        [*THREE, "3", "4"],
        1,
        0.0,
        {"kind": "gaussian", "seed_sd": 0.015, "example_sd": 0.15, "within_sd": 0.1},
    ),
    "3 seeds, tokens, both": (THREE, THREE, 1, 0.0, {"seed_sd": 0.1, "example_sd": 1.0}),
    "3+3 unpaired, tokens, seeds": (THREE, ["3", "4", "5"], 1, 0.0, {"seed_sd": 0.3, "example_sd": 0.3}),
    "3 seeds, tokens, seeds, mean of 4": (THREE, THREE, 4, 0.0, {"seed_sd": 0.3, "example_sd": 0.3}),
    "power: 3 seeds, tokens, seeds": (THREE, THREE, 1, 0.6, {"seed_sd": 0.3, "example_sd": 0.3}),
    "power: 3 seeds, tokens, both": (THREE, THREE, 1, 0.15, {"seed_sd": 0.1, "example_sd": 1.0}),
}
METHODS = ("one-level", "two-level", "corrected", "naive sum", "plain df", "contrasts")


def plain_satterthwaite(seed_terms: list[float], dfs: list[int], shared: float) -> float:
    spread = sum(term**2 / df for term, df in zip(seed_terms, dfs))
    return (sum(seed_terms) + shared) ** 2 / spread if spread > 0 else np.inf


def sides(draws: list, a: str, b: str) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """(observed, replicates, sign) per side, averaged over languages: paired differences, or a's seeds and b's."""

    def columns(d, recipe):
        return [i for (r, _), i in d.columns.items() if r == recipe]

    def side(pick, sign):
        return (
            np.mean([pick(d, d.observed) for d in draws], axis=0),
            np.mean([pick(d, d.replicates.T).T for d in draws], axis=0),
            sign,
        )

    seeds_a = [s for (r, s) in draws[0].columns if r == a]
    if seeds_a == [s for (r, s) in draws[0].columns if r == b]:
        return [side(lambda d, x: x[columns(d, a)] - x[columns(d, b)], 1.0)]
    return [side(lambda d, x: x[columns(d, a)], 1.0), side(lambda d, x: x[columns(d, b)], -1.0)]


def rejects(parts, rng) -> dict[str, bool]:
    """Whether each candidate built from the per-seed values and replicates excludes 0."""
    difference = sum(sign * obs.mean() for obs, _, sign in parts)
    one_level = sum(sign * rep.mean(axis=1) for _, rep, sign in parts)
    two_level, corrected = 0.0, 0.0
    for _, rep, sign in parts:
        s = rep.shape[1]
        picked = rep[np.arange(len(rep))[:, None], rng.integers(0, s, rep.shape)].mean(axis=1)
        two_level = two_level + sign * picked
        corrected = corrected + sign * (rep.mean(axis=1) + np.sqrt(s / max(s - 1, 1)) * (picked - rep.mean(axis=1)))
    out = {
        name: not (np.percentile(draws, 2.5) <= 0 <= np.percentile(draws, 97.5))
        for name, draws in (("one-level", one_level), ("two-level", two_level))
    }
    k = min(rep.shape[1] for _, rep, _ in parts) - 1
    if k > 0:
        out["corrected"] = abs(difference) > stats.t.ppf(0.975, k) * corrected.std(ddof=1)
        terms = [obs.var(ddof=1) / len(obs) for obs, _, _ in parts]
        variance = sum(terms) + one_level.var(ddof=1)
        df = plain_satterthwaite(terms, [len(obs) - 1 for obs, _, _ in parts], one_level.var(ddof=1))
        out["naive sum"] = abs(difference) > stats.t.ppf(0.975, df) * np.sqrt(variance)
    return out


def rates(name: str, studies: int, replicates: int) -> dict[str, float]:
    seeds_a, seeds_b, languages, delta, noise = REGIMES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    counts = dict.fromkeys(METHODS, 0)
    for batch in range(studies // BATCH):
        simulated = [
            simulate(rng, examples=300, seeds_a=seeds_a, seeds_b=seeds_b, delta=delta, languages=languages, **noise)
            for _ in range(BATCH)
        ]
        draws = [
            contrasts.resample(
                {(f"{r}{j}", s): u for j, study in enumerate(simulated) for (r, s), u in study[lang].items()},
                (name, str(batch), str(lang)),
                replicates,
            )
            for lang in range(languages)
        ]
        for j in range(BATCH):
            a, b = f"a{j}", f"b{j}"
            found = rejects(sides(draws, a, b), rng)
            found["contrasts"] = contrasts.contrast_average(draws, a, b).p_value < 0.05
            with mock.patch.object(contrasts, "_degrees_of_freedom", plain_satterthwaite):
                found["plain df"] = contrasts.contrast_average(draws, a, b).p_value < 0.05
            for method, rejected in found.items():
                counts[method] += rejected
    batches = studies // BATCH * BATCH
    return {
        m: 100 * c / batches if len(seeds_a) > 1 or m in ("one-level", "two-level", "contrasts") else np.nan
        for m, c in counts.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--studies", type=int, default=4000)
    parser.add_argument("--replicates", type=int, default=1000)
    args = parser.parse_args()
    low, high = (100 * x / args.studies for x in stats.binom.interval(0.99, args.studies, 0.05))
    print(
        f"{args.studies} studies per regime, {args.replicates} replicates, 300 examples; "
        f"99% binomial band around 5%: {low:.1f}-{high:.1f}%"
    )
    print(f"{'regime':<36}" + "".join(f"{m:>11}" for m in METHODS))
    started = time.perf_counter()
    for name in REGIMES:
        found = rates(name, args.studies, args.replicates)
        print(f"{name:<36}" + "".join(f"{found[m]:>10.1f}%" for m in METHODS), flush=True)
    print(f"{time.perf_counter() - started:.0f} s")
    print("exact false-positive rate over seed / test-set variance ratios 1e-3..1e5, min-max, by seeds:")
    ratios = np.logspace(-3, 5, 50)
    for seeds in range(2, 22):
        ranges = [
            [100 * exact_rate(seeds, ratio, 1.0, bound=bound) for ratio in ratios]
            for bound in (contrasts.SEED_BOUND, None)
        ]
        print(
            f"  {seeds:>2} seeds: this module {min(ranges[0]):.2f}-{max(ranges[0]):.2f}%, "
            f"plain df {min(ranges[1]):.2f}-{max(ranges[1]):.2f}%"
        )


if __name__ == "__main__":
    main()
