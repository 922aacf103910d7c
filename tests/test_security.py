"""Security rules, one test each: configs are data, weights are not code, names stay inside the study,
remote code stays off, and nothing xlt writes is world-writable."""

from __future__ import annotations

import ast
import functools
import os
import pickle
import stat
from pathlib import Path

import pytest
import yaml

from in_process import run_xlt
from small_study import small_study, write_config
from xlt.config import load_study, validate_study
from xlt.errors import XltError

SOURCE = Path(__file__).resolve().parents[1] / "src" / "xlt"
DEMO = SOURCE / "configs" / "demo.yaml"


@functools.cache
def source_calls() -> tuple[tuple[str, str, ast.Call], ...]:
    """(file, called name, node) for every call in xlt's source, parsed once."""
    found = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                found.append((path.relative_to(SOURCE).as_posix(), called, node))
    return tuple(found)


def calls(name: str):
    """(file, call node) for every call of `name` (a function or a method) in xlt's source."""
    return [(file, node) for file, called, node in source_calls() if called == name]


def keyword(node: ast.Call, name: str):
    value = next((k.value for k in node.keywords if k.arg == name), None)
    return value.value if isinstance(value, ast.Constant) else value


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch PWNED']",
        "!!python/name:os.system",
        "!!python/object/new:subprocess.Popen [['touch', 'PWNED']]",
    ],
)
def test_configs_are_read_as_data_only(tmp_path, tag, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.yaml"
    path.write_text(DEMO.read_text() + f"\nname: {tag}\n")
    with pytest.raises(XltError, match="not valid YAML"):
        load_study(path)
    assert not (tmp_path / "PWNED").exists()


def test_no_config_value_is_evaluated_or_imported():
    builtins = [
        f
        for name in ("eval", "exec", "__import__", "compile")
        for f, node in calls(name)
        if isinstance(node.func, ast.Name)
    ]  # the builtins, not model.eval() or re.compile()
    assert not builtins
    imports = {f for f, _ in calls("import_module")}
    # the registries their packages' own modules (names from the file system, not from a config); the package
    # imports xlt.api / xlt.demo by fixed name on first use
    assert imports <= {"registry.py", "__init__.py"}
    raw = yaml.safe_load(DEMO.read_text())
    raw["methods"][0]["type"] = "os.system"  # a component is a registry name, never an import path
    with pytest.raises(XltError, match="unknown method 'os.system'"):
        validate_study(raw, "demo")


def test_weights_load_only_from_safetensors_or_weights_only_torch_load():
    loads = list(calls("load"))
    torch_loads = [
        (f, node)
        for f, node in loads
        if isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "torch"
    ]
    assert torch_loads and all(keyword(node, "weights_only") is True for _, node in torch_loads), torch_loads
    models = [(f, node) for f, node in calls("from_pretrained") if "Model" in ast.unparse(node.func)]
    assert models and all(keyword(node, "use_safetensors") is True for _, node in models), models


class Payload:
    def __reduce__(self):
        return (open, (os.environ["PAYLOAD_TARGET"], "w"))


def test_a_pickle_that_runs_code_is_refused_as_a_resume_state(tmp_path, monkeypatch, capfd):
    import torch

    from xlt.resume import STATE, load_point

    monkeypatch.setenv("PAYLOAD_TARGET", str(tmp_path / "PWNED"))
    torch.save({"step": 1, "payload": Payload()}, tmp_path / STATE, pickle_module=pickle)
    assert load_point(tmp_path, model=None) is None
    assert not (tmp_path / "PWNED").exists()
    assert "cannot be read" in capfd.readouterr().err


def test_remote_code_is_off_unless_the_config_turns_it_on():
    from xlt.pipeline.plan.resources import Resources
    from xlt.pipeline.stage.build import _source_kwargs

    study = load_study(DEMO)
    assert study.model.trust_remote_code is False
    off = Resources("m", None, study.model.trust_remote_code, None, {})
    assert _source_kwargs(off)["trust_remote_code"] is False
    raw = yaml.safe_load(DEMO.read_text())
    raw["model"] = {"name_or_path": "org/model", "trust_remote_code": True}
    assert validate_study(raw, "demo").model.trust_remote_code is True  # only when set


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "../../x"),
        ("name", "/etc"),
        ("methods.0.name", "../finetune"),
        ("intermediate.0.name", "a/b"),
        ("methods.0.name", ".hidden"),
        ("name", "a..b"),
    ],
)
def test_names_cannot_leave_the_study_directory(field, value):
    from xlt.config import apply_override

    raw = yaml.safe_load(DEMO.read_text())
    apply_override(raw, f"{field}={value}")
    with pytest.raises(XltError) as error:
        validate_study(raw, "demo.yaml")
    assert f"{field}: found {value!r}; a name is used in file names" in str(error.value)


@pytest.mark.slow
def test_nothing_xlt_writes_is_world_writable_even_with_umask_0(tmp_path, monkeypatch, capsys):
    raw = small_study(tmp_path / "study")
    raw["targets"][0].update(intermediate=["none"], eval_languages=["base"])
    config = write_config(tmp_path / "study.yaml", raw)
    monkeypatch.setenv("XLT_CACHE", str(tmp_path / "cache"))
    umask = os.umask(0)  # as a user with umask 0 starts `xlt run`
    try:
        code, stderr = run_xlt(capsys, "run", str(config))
    finally:
        os.umask(umask)
    assert code == 0, stderr[-2000:]
    written = [p for root in (tmp_path / "study", tmp_path / "cache") for p in [root, *root.rglob("*")]]
    assert len(written) > 50
    writable = [p for p in written if not p.is_symlink() and p.stat().st_mode & stat.S_IWOTH]
    assert not writable, writable[:5]
