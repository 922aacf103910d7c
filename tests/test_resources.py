"""Loading stays real (from_pretrained on local files) and fails offline at once with what to do."""

from __future__ import annotations

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
