"""The built-in study (`xlt demo`): its config, and the overrides of `xlt demo --quick` (the same grid with tiny
budgets: mechanics only, for tests and a first look)."""

from __future__ import annotations

from pathlib import Path

DEMO_CONFIG = Path(__file__).parent / "configs" / "demo.yaml"
QUICK_DEMO = {
    "name": "demo-quick",
    "data.synthetic.sizes": {"train": 300, "dev": 60, "test": 100, "pretrain": 2000},
    "model.pretrain.options.max_steps": 40,
    "intermediate.monolingual.training.steps": 8,
    "intermediate.multilingual.training.steps": 8,
    "targets.synth-nli.training.steps": 8,
    "targets.synth-pos.training.steps": 8,
    "methods.deep_prompt.options.steps_scale": 1,
}
