"""Tasks, methods and kinds from another distribution plug in through entry points (`xlt.tasks`, `xlt.methods`,
`xlt.kinds`): a plugin distribution on the path (a `.dist-info` with `entry_points.txt` is what pip would leave)
registers test_extending's toy kind, method and task, and the installed `xlt` command runs a study with them."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from test_extending import toy_study

pytestmark = pytest.mark.slow  # a study in a process of its own

TESTS = Path(__file__).resolve().parent
PLUGIN = {
    "kind": "from test_extending import ToyKind\nfrom xlt.kinds import register\n\nregister(ToyKind())\n",
    "method": "from test_extending import BitFit\nfrom xlt.methods import register\n\nregister(BitFit)\n",
    "task": (
        "from test_extending import toy_examples\nfrom xlt.tasks import TaskSpec, register\n\n"
        "register(TaskSpec(name='toy-task', kind='toy_labels', languages={'toy': ('en', 'de')},"
        " labels=('other', 'animal'), load=toy_examples))\n"
    ),
}
ENTRY_POINTS = """[xlt.kinds]
toy_labels = xlt_toys.kind

[xlt.methods]
toy_bitfit = xlt_toys.method

[xlt.tasks]
toy-task = xlt_toys.task
"""


def install_plugin(site: Path) -> None:
    (site / "xlt_toys").mkdir(parents=True)
    (site / "xlt_toys" / "__init__.py").write_text("")
    for module, text in PLUGIN.items():
        (site / "xlt_toys" / f"{module}.py").write_text(text)
    info = site / "xlt_toys-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: xlt-toys\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)


def xlt(site: Path, *args: str, log: Path) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(TESTS), os.environ.get("PYTHONPATH", "")])}
    with open(log, "w") as out:
        return subprocess.run(
            [sys.executable, "-m", "xlt", *args], stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, timeout=600
        ).returncode


def test_a_plugins_task_and_method_run_a_study_with_no_edit_to_xlt(tiny_model_dir, tmp_path):
    site = tmp_path / "site"
    install_plugin(site)
    config = tmp_path / "toys.yaml"
    config.write_text(yaml.safe_dump(toy_study(tiny_model_dir, tmp_path)))
    assert xlt(site, "tasks", log=tmp_path / "tasks.log") == 0
    assert "toy-task" in (tmp_path / "tasks.log").read_text()
    code = xlt(site, "run", str(config), log=tmp_path / "run.log")
    assert code == 0, (tmp_path / "run.log").read_text()[-3000:]
    with open(tmp_path / "study" / "results.csv", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["primary"] == "1"]
    scores = {(row["method"], row["eval_language"]): float(row["value"]) for row in rows}
    assert set(scores) == {(m, lang) for m in ("toy_bitfit", "majority") for lang in ("en", "de")}
    assert scores[("toy_bitfit", "en")] > scores[("majority", "en")] + 10, scores


def test_a_plugin_that_fails_to_load_is_named_in_one_line(tmp_path):
    site = tmp_path / "site"
    install_plugin(site)
    (site / "xlt_toys" / "task.py").write_text("raise RuntimeError('broken plugin')\n")
    code = xlt(site, "tasks", log=tmp_path / "tasks.log")
    lines = (tmp_path / "tasks.log").read_text().strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert lines[0] == (
        "error: plugin 'toy-task' (xlt_toys.task, xlt.tasks, from xlt-toys) failed to load: "
        "RuntimeError: broken plugin; fix or uninstall it"
    )
