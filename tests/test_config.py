"""Config validation: every bad field gives one line naming file, field, found and allowed; nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from in_process import run_xlt
from xlt.config import apply_override, load_study
from xlt.errors import XltError

DEMO = Path(__file__).resolve().parents[1] / "configs" / "demo.yaml"


def demo_raw() -> dict:
    return yaml.safe_load(DEMO.read_text())


def write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_demo_config_is_valid():
    study = load_study(DEMO)
    assert [m.name for m in study.methods] == ["finetune", "deep_prompt"]
    assert {c.name for c in study.intermediate} == {"monolingual", "multilingual"}
    assert study.targets[0].intermediate == ["none", "monolingual", "multilingual"]


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda r: r["methods"][0].update(options={"lr": "fast"}), "methods.0.options.lr: found 'fast'"),
        (lambda r: r["methods"][0].update(name="finetun"), "did you mean 'finetune'"),
        (lambda r: r["targets"][0].update(task="synth-nl"), "unknown task 'synth-nl'"),
        (lambda r: r["targets"][0].update(intermediate=["none", "bilingual"]), "'bilingual' is not a defined"),
        (lambda r: r["targets"][0]["training"].update(steps=-3), "targets.0.training.steps: found -3"),
        (lambda r: r["targets"][0]["training"].update(epochs=2), "exactly one of steps and epochs"),
        (lambda r: r.update(seeds="zero"), "seeds: found 'zero'"),
        (lambda r: r.update(colour="blue"), "colour: unknown field"),
        (lambda r: r.update(references=["oracle"]), "references.0: found 'oracle'"),
        (lambda r: r["intermediate"][0].update(name="none"), "'none' is reserved"),
        (lambda r: r["model"].update(name_or_path="xlm-roberta-large"), "exactly one of model.name_or_path"),
        (
            lambda r: r["targets"][0].update(task="tatoeba", train_languages=["de"]),  # trains on English SQuAD
            "targets.0.train_languages: found 'de'; squad has languages en",
        ),
        (
            lambda r: r["targets"][0].update(task="tatoeba", train_languages=["en"], eval_languages=["xx"]),
            "targets.0.eval_languages: found 'xx'",
        ),
    ],
)
def test_bad_field_gives_one_line_naming_file_and_field(tmp_path, mutate, expected):
    raw = demo_raw()
    mutate(raw)
    path = write(tmp_path, raw)
    with pytest.raises(XltError) as err:
        load_study(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert expected in message


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text(f"name: !!python/object/apply:os.system ['touch {tmp_path / 'PWNED'}']\n")
    with pytest.raises(XltError, match="not valid YAML"):
        load_study(path)
    assert not (tmp_path / "PWNED").exists()


def test_overrides_address_fields_by_index_or_name():
    raw = demo_raw()
    apply_override(raw, "methods.finetune.options.lr=3e-5")
    apply_override(raw, "targets.1.training.steps=7")
    apply_override(raw, "seeds=[1, 2]")
    study = load_study_from(raw)
    assert study.methods[0].options["lr"] == 3e-5
    assert study.targets[1].training.steps == 7
    assert study.seeds == [1, 2]
    with pytest.raises(XltError, match="no list item 'lora'"):
        apply_override(raw, "methods.lora.options.r=4")


def load_study_from(raw):
    from xlt.config import validate_study

    return validate_study(raw, "test")


def test_cli_bad_config_exits_nonzero_with_one_line_and_writes_nothing(tmp_path, capsys):
    raw = demo_raw()
    raw["methods"][1]["options"] = {"prompt_length": "long"}
    raw["output_dir"] = str(tmp_path / "out")
    path = write(tmp_path, raw)
    code, stderr = run_xlt(capsys, "run", str(path))
    assert code == 2
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "methods.1.options.prompt_length" in lines[0], stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists()
