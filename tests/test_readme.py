"""The README's study example is a valid config, and its commands exist."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from xlt.config import validate_study
from xlt.pipeline.plan.graph import build_plan

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_study_example_validates_and_plans():
    block = re.search(r"```yaml\n(.*?)```", README.read_text(), re.S).group(1)
    study = validate_study(yaml.safe_load(block), "README.md")
    plan = build_plan(study, {"model": {"hub": study.model.name_or_path}, "data": {"dir": "/data"}})
    # 2 methods x 3 seeds x (1 multilingual intermediate stage + 2 target conditions)
    assert plan.training_runs == 2 * 3 * 3
    assert {ev.task for ev in plan.evals} == {"xnli"} and len(plan.evals[0].languages) == 15


def test_readme_retrieval_targets_plan_their_training_tasks():
    study_block, targets_block = re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)[:2]
    raw = {**yaml.safe_load(study_block), **yaml.safe_load(targets_block), "seeds": [1]}
    plan = build_plan(validate_study(raw, "README.md"), {"model": {"hub": "x"}, "data": {"dir": "/data"}})
    stages = sorted((s.task, s.training.steps == 0) for s in plan.train.values())
    # per method: SQuAD for tatoeba, SQuAD retrieval for lareqa, mewslix's own, BUCC's untrained SQuAD stage
    assert stages == sorted([("mewslix", False), ("squad", False), ("squad-retrieval", False), ("squad", True)] * 2)
    assert {ev.task for ev in plan.evals} == {"tatoeba", "lareqa", "mewslix", "bucc2018"}


def test_readme_commands_are_real():
    from typer.main import get_command

    from xlt.cli import app

    commands = set(get_command(app).commands)
    mentioned = set(re.findall(r"(?:`|^\s+|&& )xlt (\w+)", README.read_text(), re.M))
    assert mentioned and mentioned <= commands, mentioned - commands
    assert {"demo", "run", "report", "score", "tasks", "pretrain"} <= commands


def test_readme_data_files_table_is_the_registrys():
    from xlt.tasks.table import data_files_markdown

    text = README.read_text(encoding="utf-8")
    shown = text.split("<!-- data-files:start -->\n", 1)[1].split("\n<!-- data-files:end -->", 1)[0]
    assert shown == data_files_markdown(), "regenerate the README table with xlt.tasks.table.data_files_markdown()"
