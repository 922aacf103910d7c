"""Damaged files are detected, never loaded half-way: sealed directories, resume points, checkpoints, caches."""

from __future__ import annotations

import copy
import errno
import json
import os
import stat

import pytest
import torch

from xlt.errors import XltError
from xlt.methods import get_method
from xlt.model import WEIGHTS, TaskModel, load_trainable, save_trainable
from xlt.resume import STATE, load_point, save_point
from xlt.runtime import integrity, io


@pytest.fixture()
def sealed(tmp_path):
    directory = tmp_path / "stage"
    io.atomic_write_bytes(directory / "checkpoint" / "trainable.safetensors", b"x" * 1000)
    io.atomic_write_json(directory / "stage.json", {"steps": 6})
    io.atomic_write_bytes(directory / "resume" / "state.pt", b"mutable")
    integrity.seal(directory, skip=("resume",))
    return directory


def test_a_sealed_directory_is_complete_until_a_file_is_damaged(sealed):
    assert integrity.is_complete(sealed) and integrity.damage(sealed) is None
    (sealed / "resume" / "state.pt").write_bytes(b"changed")  # not sealed: resume points keep changing
    (sealed / ".lock").write_text("held")  # hidden: locks and temporary files
    assert integrity.is_complete(sealed)
    (sealed / "checkpoint" / "trainable.safetensors").write_bytes(b"y" * 1000)  # a sealed file changes
    assert not integrity.is_complete(sealed) and integrity.damage(sealed)


@pytest.mark.parametrize(
    "damage, reason",
    [
        (
            lambda d: (d / "checkpoint" / "trainable.safetensors").write_bytes(b"x" * 600),
            "checkpoint/trainable.safetensors has 600 bytes where 1000 were written",
        ),
        (
            lambda d: (d / "checkpoint" / "trainable.safetensors").write_bytes(b"y" * 1000),
            "checkpoint/trainable.safetensors does not match the content written",
        ),
        (lambda d: (d / "stage.json").unlink(), "stage.json is missing"),  # a marker without its record
        (lambda d: (d / "COMPLETED").write_text(""), "marker is unreadable"),  # an older xlt's empty marker
    ],
)
def test_each_kind_of_damage_is_named(sealed, damage, reason):
    damage(sealed)
    assert not integrity.is_complete(sealed)
    assert reason in integrity.damage(sealed)
    integrity.unseal(sealed)
    assert not integrity.is_marked(sealed) and integrity.damage(sealed) is None


def test_an_unmarked_directory_is_not_complete_and_not_damaged(tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "rows.json").write_text("[")
    assert not integrity.is_complete(tmp_path / "half") and integrity.damage(tmp_path / "half") is None


# ---- resume points --------------------------------------------------------------------------------------


def tiny_model(backbone) -> TaskModel:
    from xlt.kinds import get_kind
    from xlt.tasks import get_task

    method = get_method("deep_prompt")
    encoder = method().adapt(copy.deepcopy(backbone), method.Options(prompt_length=4))
    spec = get_task("synth-nli")
    return TaskModel(encoder, get_kind(spec.kind).build_head(encoder, spec, get_kind(spec.kind).HeadOptions()))


def state(step: int) -> dict:
    return {"step": step, "losses": [0.5] * step, "optimizer": {}, "scheduler": {}, "elapsed": 1.0}


def test_a_resume_point_restores_its_tensors(tiny_backbone, tmp_path):
    model = tiny_model(tiny_backbone)
    save_point(tmp_path, model.trainable_state(), state(4))
    other = tiny_model(tiny_backbone)
    with torch.no_grad():
        for p in other.parameters():
            p.zero_()
    restored = load_point(tmp_path, other)
    assert restored["step"] == 4
    assert all(torch.equal(a, b) for a, b in zip(model.trainable_state().values(), other.trainable_state().values()))
    assert [p.name for p in tmp_path.glob("step-*")] == ["step-00000004"]  # older points are removed


def test_a_kill_between_the_tensors_and_the_state_resumes_from_the_previous_point(tiny_backbone, tmp_path):
    model = tiny_model(tiny_backbone)
    save_point(tmp_path, model.trainable_state(), state(3))
    before = {k: v.clone() for k, v in model.trainable_state().items()}
    with torch.no_grad():
        next(p for p in model.parameters() if p.requires_grad).add_(1.0)
    save_trainable(model, tmp_path / "step-00000006")  # the new tensors were written, the new state was not
    restored_into = tiny_model(tiny_backbone)
    assert load_point(tmp_path, restored_into)["step"] == 3
    assert all(torch.equal(before[k], v) for k, v in restored_into.trainable_state().items())


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda d: (d / "step-00000003" / WEIGHTS).write_bytes(b"\0" * 64), "does not match its tensors"),
        (lambda d: (d / STATE).write_bytes((d / STATE).read_bytes()[:100]), "cannot be read"),
        (lambda d: torch.save({"step": 3, "losses": []}, d / STATE), "is not a resume state of this xlt version"),
    ],
)
def test_a_damaged_resume_point_starts_the_stage_again_with_one_warning(
    tiny_backbone, tmp_path, capfd, damage, message
):
    model = tiny_model(tiny_backbone)
    save_point(tmp_path, model.trainable_state(), state(3))
    damage(tmp_path)
    assert load_point(tmp_path, tiny_model(tiny_backbone)) is None
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].endswith("the stage starts again from step 0")


# ---- checkpoints ----------------------------------------------------------------------------------------


def test_a_prompt_saved_for_another_hidden_size_is_one_line(tiny_backbone, tiny_tokenizer, tmp_path):
    from transformers import XLMRobertaModel

    from conftest import tiny_config

    save_trainable(tiny_model(tiny_backbone), tmp_path)
    wider = XLMRobertaModel(tiny_config(tiny_tokenizer, hidden_size=48)).eval()
    with pytest.raises(XltError) as error:
        load_trainable(tiny_model(wider), tmp_path)
    message = str(error.value)
    assert "\n" not in message and str(tmp_path / WEIGHTS) in message
    assert "has shape" in message and "48" in message and "an encoder of another size" in message


def test_a_truncated_checkpoint_is_one_line(tiny_backbone, tmp_path):
    save_trainable(tiny_model(tiny_backbone), tmp_path)
    weights = tmp_path / WEIGHTS
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(XltError, match="cannot read the checkpoint .*trainable.safetensors"):
        load_trainable(tiny_model(tiny_backbone), tmp_path)
    (tmp_path / WEIGHTS).unlink()
    with pytest.raises(XltError, match="cannot read the checkpoint"):
        load_trainable(tiny_model(tiny_backbone), tmp_path)


# ---- the feature cache ----------------------------------------------------------------------------------


def test_a_damaged_feature_cache_entry_is_made_again(tiny_tokenizer, tmp_path):
    from test_features_cache import EXAMPLES, SPEC, CountingKind
    from xlt.data.features import cached_features

    kind = CountingKind()
    first = cached_features(kind, SPEC, EXAMPLES, tiny_tokenizer, 64, tmp_path, {"split": "test"})
    (entry,) = (tmp_path / "features").iterdir()
    arrow = next(entry.glob("*.arrow"))
    arrow.write_bytes(arrow.read_bytes()[:50])
    again = cached_features(kind, SPEC, EXAMPLES, tiny_tokenizer, 64, tmp_path, {"split": "test"})
    assert kind.calls == 2 and again == first and integrity.is_complete(entry)
    from_cache = cached_features(kind, SPEC, EXAMPLES, tiny_tokenizer, 64, tmp_path, {"split": "test"})
    assert kind.calls == 2 and [f["input_ids"] for f in from_cache] == [f["input_ids"] for f in first]


# ---- writes -----------------------------------------------------------------------------------------------


def test_a_full_disk_is_one_line_naming_the_file_and_the_target_is_kept(tmp_path, monkeypatch):
    target = tmp_path / "results.csv"
    io.atomic_write_text(target, "complete\n")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(XltError) as error:
        io.atomic_write_text(target, "half")
    message = str(error.value)
    assert message.startswith(f"cannot write {target}: no space left on the device") and "\n" not in message
    assert "run the same command again" in message
    assert target.read_text() == "complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"], "a temporary file was left behind"


def test_written_files_and_folders_are_never_world_writable(tmp_path):
    old = os.umask(0)
    try:
        io.atomic_write_json(tmp_path / "new" / "deeper" / "file.json", {"a": 1})
        (tmp_path / "old.log").write_text("from an earlier run")
        (tmp_path / "old.log").chmod(0o666)
        for name in ("new.log", "old.log"):  # the workers' logs (xlt.pipeline.run.workers)
            with io.open_log(tmp_path / name) as log:
                log.write("worker 1\n")
    finally:
        os.umask(old)
    written = ("new", "new/deeper", "new/deeper/file.json", "new.log", "old.log")
    for path in (tmp_path / name for name in written):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert not mode & stat.S_IWOTH and mode & stat.S_IRGRP, (path, oct(mode))
    assert json.loads((tmp_path / "new" / "deeper" / "file.json").read_text()) == {"a": 1}
    assert (tmp_path / "old.log").read_text() == "worker 1\n"
