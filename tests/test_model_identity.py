"""An encoder's identity, which every stage hash holds: a local directory is named by its content (each file's
digest cached, so a large checkpoint is read once), a Hub id by the commit its revision resolves to."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
from pathlib import Path
from types import SimpleNamespace

import huggingface_hub
import pytest
from safetensors.torch import load_file, save_file

from xlt.config import validate_study
from xlt.errors import XltError
from xlt.pipeline.plan import identity
from xlt.pipeline.plan.graph import study_plan
from xlt.pipeline.plan.identity import local_identity
from xlt.pipeline.plan.resources import resolve


def study_on(model: str, data_dir: Path, revision: str | None = None):
    raw = {
        "model": {"name_or_path": model, "revision": revision},
        "data": {"dir": str(data_dir)},
        "methods": [{"name": "finetune"}],
        "targets": [{"task": "xnli", "training": {"steps": 1}}],
        "references": ["majority"],
        "output_dir": str(data_dir / "out"),
    }
    return validate_study(raw, "study.yaml")


def stages(study) -> tuple[set[str], dict]:
    """The hashes of every stage of the study's plan, and the model identity they were made with."""
    resources = resolve(study, progress=False)
    plan = study_plan(study, resources)
    return set(plan.train) | {ev.hash for ev in plan.evals}, resources.identity["model"]


def add_one(path: Path) -> None:
    """Other weights of the same shapes: the same size, only the values differ."""
    weights = load_file(path)
    first = sorted(weights)[0]
    weights[first] = weights[first] + 1
    save_file(weights, path, metadata={"format": "pt"})


def reindent(path: Path) -> None:
    path.write_text(json.dumps(json.loads(path.read_text()), indent=1))


@pytest.mark.parametrize("changed, change", [("model.safetensors", add_one), ("tokenizer.json", reindent)])
def test_other_weights_or_tokenizer_written_to_a_local_encoder_give_new_stage_hashes(
    tiny_model_dir, tmp_path, changed, change
):
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    study = study_on(str(model), tmp_path)
    before, named_before = stages(study)
    change(model / changed)
    after, named_after = stages(study)
    assert named_before["path"] == named_after["path"] == str(model.resolve())
    assert named_before["content"] != named_after["content"]
    assert before.isdisjoint(after)
    assert stages(study) == (after, named_after)  # unchanged since: the same stages


def test_an_unchanged_encoder_directory_is_read_once_and_named_by_its_content_alone(
    tiny_model_dir, tmp_path, monkeypatch
):
    model, digests = tmp_path / "model", tmp_path / "digests"
    shutil.copytree(tiny_model_dir, model)
    reads: list[str] = []
    real = identity.file_digest
    monkeypatch.setattr(identity, "file_digest", lambda path: reads.append(Path(path).name) or real(path))
    first = local_identity(model, digests)
    assert sorted(reads) == sorted(path.name for path in model.iterdir())  # every file of a saved encoder, once
    reads.clear()
    (model / "loss.csv").write_text("step,loss\n")  # not part of the model
    assert local_identity(model, digests) == first and reads == []  # every digest from the cache
    weights = model / "model.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))  # touched, same bytes
    assert local_identity(model, digests) == first and reads == ["model.safetensors"]


def commit_of(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def hub_cache(root: Path, repo: str, refs: dict[str, str]) -> None:
    """A Hugging Face cache holding `repo` as huggingface_hub lays it out: refs/<name> holds a commit, whose files
    are under snapshots/<commit>/."""
    folder = root / f"models--{repo.replace('/', '--')}"
    for ref, commit in refs.items():
        (folder / "refs").mkdir(parents=True, exist_ok=True)
        (folder / "refs" / ref).write_text(commit)
        (folder / "snapshots" / commit).mkdir(parents=True, exist_ok=True)
        (folder / "snapshots" / commit / "config.json").write_text("{}")


@pytest.fixture
def offline_cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def test_a_hub_id_records_the_commit_its_revision_names_in_the_local_cache(offline_cache, tmp_path):
    main, tagged = commit_of("main"), commit_of("v1")
    hub_cache(offline_cache, "org/encoder", {"main": main, "v1": tagged})
    on_main, named_main = stages(study_on("org/encoder", tmp_path))
    on_tag, named_tag = stages(study_on("org/encoder", tmp_path, revision="v1"))
    assert named_main == {"hub": "org/encoder", "revision": None, "commit": main}
    assert named_tag == {"hub": "org/encoder", "revision": "v1", "commit": tagged}
    assert on_main.isdisjoint(on_tag)
    # not in the cache, offline: nothing to resolve nor load, and xlt says so in its own line
    with pytest.raises(XltError, match="'org/absent' is not in the local Hugging Face cache and HF_HUB_OFFLINE=1"):
        stages(study_on("org/absent", tmp_path))


def online(monkeypatch, repo_info) -> None:
    """The Hub reachable, answering the repository query with `repo_info`."""
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: SimpleNamespace(close=lambda: None))
    monkeypatch.setattr(huggingface_hub.HfApi, "repo_info", repo_info)


def test_online_the_hubs_commit_is_named_and_recorded_so_an_offline_rerun_names_the_same_stages(
    offline_cache, tmp_path, monkeypatch
):
    """The cache names an old commit of main; the Hub a newer one, which from_pretrained would download."""
    old, new = commit_of("old"), commit_of("new")
    hub_cache(offline_cache, "org/encoder", {"main": old})
    study = study_on("org/encoder", tmp_path)
    with monkeypatch.context() as patch:
        online(patch, lambda self, repo_id, **kwargs: SimpleNamespace(sha=new))
        online_stages, named = stages(study)
    assert named["commit"] == new
    assert stages(study) == (online_stages, named)  # offline again: the cache now names the new commit


def test_a_hub_id_the_hub_does_not_know_is_one_line(offline_cache, tmp_path, monkeypatch):
    from huggingface_hub.errors import RepositoryNotFoundError

    def unknown(self, repo_id, **kwargs):
        answer = SimpleNamespace(status_code=404, headers={}, request=None)  # what the error reads of the response
        raise RepositoryNotFoundError("404 Client Error: Repository Not Found", response=answer)

    online(monkeypatch, unknown)
    with pytest.raises(XltError) as err:
        resolve(study_on("org/typo", tmp_path), progress=False)
    assert str(err.value) == (
        "model 'org/typo' at revision main: 404 Client Error: Repository Not Found; check the name, the revision"
        " and your access (HF_TOKEN), or set HF_HUB_OFFLINE=1 to use the local cache"
    )


def test_how_often_pretraining_checkpoints_is_not_part_of_its_encoders_identity(tmp_path):
    """A study's `model.pretrain` encoder is named by the options that make its weights: `checkpoint_every`
    (resume points only) leaves it and every stage hash as they were; another budget does not."""
    from small_study import small_study

    def named(**options) -> tuple[set[str], dict]:
        raw = small_study(tmp_path / "study")
        raw["model"]["pretrain"]["options"].update(options)
        study = validate_study(raw, "study.yaml")
        resources = resolve(study, progress=False, build=False)
        plan = study_plan(study, resources)
        return set(plan.train) | {ev.hash for ev in plan.evals}, resources.identity["model"]

    assert named(checkpoint_every=5) == named()
    assert named(max_steps=13)[1] != named()[1]
