"""BUCC margin mining: the mining kind's torch k-NN against the numpy exhaustive search (the baseline).

    python bench/bucc_mining.py [--size 20000] [--hidden 768]

Random unit vectors on both sides; prints each search's wall time and whether both mine the same
candidate pairs (scores agree to float32 rounding). On a GPU machine the torch search runs on the GPU.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from xlt.kinds.margin import BitextSide, bucc_candidates, exhaustive_knn
from xlt.kinds.mining import torch_knn


def side(prefix: str, vectors: np.ndarray) -> BitextSide:
    return BitextSide(
        [f"{prefix}-{i}" for i in range(len(vectors))], [f"{prefix}{i}" for i in range(len(vectors))], vectors
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--hidden", type=int, default=768)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    src, trg = (side(p, rng.standard_normal((args.size, args.hidden)).astype(np.float32)) for p in ("de", "en"))
    results = {}
    for name, knn in (("numpy exhaustive (baseline)", exhaustive_knn), ("torch", torch_knn)):
        started = time.perf_counter()
        results[name] = bucc_candidates(src, trg, knn=knn)
        print(f"{name:<28} {time.perf_counter() - started:8.1f} s  {len(results[name])} candidates")
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else f"CPU, {torch.get_num_threads()} threads"
    baseline, torch_result = results.values()
    same = set(baseline) == set(torch_result)
    gap = max(abs(baseline[pair] - torch_result[pair]) for pair in baseline) if same else float("nan")
    print(
        f"{args.size} x {args.size} sentences, hidden {args.hidden}, {device}; same pairs: {same}, "
        f"largest score difference {gap:.1e}"
    )


if __name__ == "__main__":
    main()
