"""The report of a SIB-200-sized language-pair study: how long `xlt report` takes on 5 sources x 205 targets x 6
recipes x 3 seeds, 204 test examples per language (units simulated: tests/simulated_pairs.py), against the goal
of 60 s on 2 CPU cores (wall time, and the CPU seconds of the process, which other jobs inflate less).

    python bench/pairs_report.py [--sources 5] [--targets 205] [--seeds 3] [--examples 204] [--keep DIR]

Writing the simulated study directory is not timed; the report is, from reading results.csv to the last figure,
contrasts.csv included: per source its 205-language section (scores, 9 contrast tables, transfer vs distance),
then the "Language pairs" section (the source x target matrices, p_pairs, the replicability counts).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' simulator: one model

from simulated_pairs import write_pair_study  # noqa: E402
from xlt.report import build_report  # noqa: E402

RECIPES = [(method, condition) for method in ("finetune", "deep_prompt") for condition in ("none", "english", "multi")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=5)
    parser.add_argument("--targets", type=int, default=205)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--examples", type=int, default=204)
    parser.add_argument(
        "--keep",
        type=Path,
        help="write the study here and keep it, or reuse the one there (default: a temporary folder)",
    )
    args = parser.parse_args()
    targets = [f"l{i:03d}" for i in range(args.targets)]
    sources = targets[: args.sources]
    # the multilingual stage gains in a third of the pairs: the counts have something to find
    gains = {
        ((method, "multi"), source, target): 0.4
        for method in ("finetune", "deep_prompt")
        for source in sources
        for target in targets[::3]
    }
    root = args.keep or Path(tempfile.mkdtemp(prefix="xlt-pairs-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        if not (root / "results.csv").is_file():  # a kept study is reused as it is
            write_pair_study(root, sources, targets, RECIPES, [str(s) for s in range(args.seeds)], args.examples, gains)
        written = time.perf_counter() - start
        start, cpu = time.perf_counter(), time.process_time()
        files = build_report(root)
        report, report_cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        if args.keep is None:
            shutil.rmtree(root)
    cells = args.sources * args.targets
    print(
        f"study: {args.sources} sources x {args.targets} targets x {len(RECIPES)} recipes x {args.seeds} seeds, "
        f"{args.examples} examples a language ({cells} pairs; written in {written:.1f} s)"
    )
    # CPU seconds: what a shared machine's other jobs do not inflate (the report runs on one thread)
    print(f"report: {report:.1f} s wall, {report_cpu:.1f} s CPU, {len(files)} files")
    print(f"pairs_report_s={report:.1f} pairs_report_cpu_s={report_cpu:.1f} goal_s=60")


if __name__ == "__main__":
    main()
