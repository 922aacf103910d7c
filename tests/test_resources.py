"""Loading stays real (from_pretrained on local files) and fails offline at once with what to do."""

from __future__ import annotations

import dataclasses
import time

import pytest

from xlt.errors import XltError
from xlt.pipeline.plan.resources import Resources
from xlt.pipeline.stage.build import load_backbone, load_tokenizer


def resources(path: str) -> Resources:
    return Resources(path, None, False, None, {})


def test_local_checkpoint_loads_with_the_auto_classes(tiny_model_dir, tiny_backbone):
    import torch

    backbone = load_backbone(resources(str(tiny_model_dir)))
    tokenizer = load_tokenizer(resources(str(tiny_model_dir)))
    ids = tokenizer(["the cat sat"], return_tensors="pt")
    with torch.no_grad():
        expected = tiny_backbone(**ids).last_hidden_state
        assert torch.equal(backbone.eval()(**ids).last_hidden_state, expected)


def test_hub_model_offline_fails_at_once_with_advice(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    started = time.monotonic()
    with pytest.raises(XltError) as err:
        load_backbone(resources("FacebookAI/xlm-roberta-large-not-cached"))
    assert time.monotonic() - started < 10
    assert "\n" not in str(err.value) and "xlm-roberta-large-not-cached" in str(err.value)


def test_study_with_missing_data_dir_fails_before_writing(tmp_path):
    from xlt.config import validate_study
    from xlt.pipeline.plan.resources import resolve

    study = validate_study(
        {
            "model": {"name_or_path": str(tmp_path)},
            "data": {"dir": str(tmp_path / "nowhere")},
            "methods": [{"name": "finetune"}],
            "targets": [{"task": "xnli", "training": {"steps": 1}}],
            "output_dir": str(tmp_path / "out"),
        },
        "study.yaml",
    )
    with pytest.raises(XltError, match="no such directory"):
        resolve(study)
    assert not (tmp_path / "out").exists()


def test_hub_model_without_network_fails_at_once_with_advice(monkeypatch):
    import socket

    from xlt.pipeline.plan.resources import ensure_hub_reachable

    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)

    def unreachable(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    started = time.monotonic()
    with pytest.raises(XltError) as err:
        ensure_hub_reachable("model 'FacebookAI/xlm-roberta-large'")
    assert time.monotonic() - started < 5  # one failed connection, no retries
    assert "\n" not in str(err.value) and "HF_HUB_OFFLINE=1" in str(err.value)


def test_the_encoders_token_types_come_from_its_config_and_travel_in_the_manifest(tmp_path):
    """Two token types (BERT) mark its pair tasks' stage hashes; one, or a config not there yet (a dry run before
    pretraining or downloading), do not. A cluster job's plan reads the driver's answer from the manifest."""
    from transformers import BertConfig, XLMRobertaConfig

    from small_study import quick_demo_manifest
    from xlt.pipeline.plan.resources import _token_types
    from xlt.pipeline.run.manifest import load_manifest, save_manifest

    BertConfig(type_vocab_size=2).save_pretrained(tmp_path / "bert")
    XLMRobertaConfig(type_vocab_size=1).save_pretrained(tmp_path / "xlmr")
    assert _token_types(str(tmp_path / "bert"), None, False, local_only=True)
    assert not _token_types(str(tmp_path / "xlmr"), None, False, local_only=True)
    assert not _token_types(str(tmp_path / "not-yet"), None, False, local_only=True)

    quick_demo_manifest(tmp_path / "study")
    manifest = load_manifest(tmp_path / "study")
    assert manifest.resources.token_types is False
    typed = dataclasses.replace(manifest.resources, token_types=True)
    save_manifest(tmp_path / "study", manifest.study, typed, manifest.cache_root, 0.0)
    assert load_manifest(tmp_path / "study").resources.token_types is True
