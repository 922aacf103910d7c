"""`xlt score` on the official evaluator's mock submission: the golden averages, to the digits it prints."""

from __future__ import annotations

import re

import pytest

from test_scoring import GOLDEN
from xlt.tasks import get_task

pytestmark = pytest.mark.slow


def printed_averages(log: str) -> dict[str, dict[str, str]]:
    """Each task's `avg` row, by metric, as printed under its header and column names."""
    averages = {}
    for task, columns, avg in re.findall(
        r"^(\w+) \(mean over \d+ languages\)\n  lang +(.+)\n(?:  .+\n)*?  avg +(.+)$", log, re.M
    ):
        averages[task] = dict(zip(columns.split(), avg.split()))
    return averages


def test_score_prints_the_official_evaluators_golden_averages(installed, shared_dir, tmp_path):
    mock = shared_dir / "data/xtreme-mock"
    ended = installed.run(
        "score", "--predictions", str(mock / "predictions"), "--labels", str(mock / "labels"), "--benchmark", "xtreme",
        cwd=tmp_path, log=tmp_path / "log",
    )  # fmt: skip
    assert ended.code == 0, ended.log[-3000:]
    averages = printed_averages(ended.log)
    assert set(averages) == set(GOLDEN)
    for task, golden in GOLDEN.items():
        assert {metric: averages[task][metric] for metric in golden} == {m: f"{v:.2f}" for m, v in golden.items()}
    task_scores = dict(
        re.findall(r"^  (\w+) +([\d.]+)$", ended.log.split("task scores")[1].split("xtreme group")[0], re.M)
    )
    qa = {task: (g["exact_match"] + g["f1"]) / 2 for task, g in GOLDEN.items() if "exact_match" in g}
    assert task_scores == {task: f"{qa.get(task, g[get_task(task).primary_metric]):.2f}" for task, g in GOLDEN.items()}
