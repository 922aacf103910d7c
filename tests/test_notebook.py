"""The notebook API: `xlt.load_study` gives typed DataFrames, `xlt.run` runs a study from Python (path or dict,
keyword overrides), and the README's example runs as printed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import xlt
from test_pipeline import tiny_study

README = Path(__file__).resolve().parents[1] / "README.md"
pytestmark = pytest.mark.slow


def readme_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    [example] = [block for block in blocks if "xlt.run(" in block]
    return example


def test_the_readme_example_runs_on_the_quick_demo(quick_demo, monkeypatch):
    example = readme_example()
    assert len([line for line in example.splitlines() if line.strip()]) == 7  # seven lines of code (ruff adds a blank)
    markers = {path: path.stat().st_mtime_ns for path in quick_demo.glob("stages/*/COMPLETED")}
    monkeypatch.chdir(quick_demo.parents[1])  # where `xlt demo --quick` wrote runs/demo-quick
    namespace: dict = {}
    exec(compile(example, "README.md", "exec"), namespace)  # noqa: S102 (the README's own code)
    study = namespace["study"]
    assert isinstance(study, xlt.StudyResults) and study.directory.resolve() == quick_demo.resolve()
    assert {path: path.stat().st_mtime_ns for path in quick_demo.glob("stages/*/COMPLETED")} == markers  # reused
    assert len(study.provenance) == 14 and set(study.provenance["role"]) == {"intermediate", "target"}


def test_load_study_types_every_column(quick_demo):
    study = xlt.load_study(quick_demo)
    results, contrasts = study.results, study.contrasts
    assert results["value"].dtype == "float64" and results["seed"].dtype == "int64"
    assert results["primary"].dtype == bool and results["method"].dtype == "string"
    assert {"finetune", "deep_prompt", "majority", "random_init"} == set(results["method"])
    assert contrasts["difference"].dtype == "float64" and contrasts["examples"].dtype == "Int64"
    assert set(contrasts.query("language == 'average' and group == 'all'")["task"]) == {"synth-nli", "synth-pos"}
    assert study.provenance["steps"].dtype == "Int64" and study.provenance.index.name == "hash"
    assert study.languages.loc["cyrl", "script"] == "Cyrillic" and study.languages.loc["base", "family"] == "synthetic"
    assert study.config["name"] == "demo-quick"


def test_run_takes_a_dict_and_keyword_overrides(tmp_path):
    raw = tiny_study(tmp_path / "study", intermediate=[], methods=[{"name": "finetune", "options": {"lr": 1e-3}}])
    raw["targets"] = [raw["targets"][1] | {"intermediate": ["none"]}]  # synth-pos alone
    study = xlt.run(raw, seeds=[3], methods__finetune__options__lr=2e-3, **{"targets.synth-pos.training.steps": 2})
    assert raw["seeds"] == [0]  # the caller's dict is left as it was
    [stage] = study.provenance.itertuples()
    assert (stage.steps, stage.seed) == (2, 3) and study.config["methods"][0]["options"]["lr"] == 2e-3
    assert study.results.equals(xlt.load_study(tmp_path / "study").results)
    assert set(study.results["seed"]) == {3}
