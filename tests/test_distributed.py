"""Two CPU processes (torchrun, gloo) against one: disjoint halves of every global batch, the same trained tensors,
every file written by the main process alone, and a killed two-process run that resumes to the same results.
Then two processes under the shipped FSDP config (configs/accelerate/fsdp.yaml, sharded over gloo), killed and
resumed: the single-process tensors, checkpoints and results again, and the second process writes nothing.

Dropout is off (encoder, head), so one process and two compute the same thing: each process draws its own
dropout masks, which would otherwise make the two runs equally good but different. The workers compute in
float64: Adam's normalisation turns float32 rounding in a near-zero gradient (a token that appears once, an
attention key bias) into a step of about the learning rate, which would swamp the 1e-6 allowed between runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

WORKER = Path(__file__).with_name("distributed_worker.py")
FSDP_CONFIG = Path(__file__).parents[1] / "configs" / "accelerate" / "fsdp.yaml"
TRAINING = {"steps": 6, "batch_size": 8, "max_length": 48, "checkpoint_every": 2, "eval_batch_size": 16}
STUDY = {
    "name": "ddp",
    "benchmark": "synthetic",
    "data": {"synthetic": {"seed": 0, "sizes": {"train": 60, "dev": 10, "test": 30, "pretrain": 300}}},
    "model": {
        "pretrain": {
            "options": {
                "max_steps": 8,
                "hidden_size": 32,
                "layers": 2,
                "heads": 2,
                "ffn": 64,
                "batch_size": 16,
                "warmup_steps": 2,
                "vocab_size": 300,
                "dropout": 0.0,
                "attention_dropout": 0.0,
            }
        }
    },
    "methods": [{"name": "finetune", "options": {"lr": 1e-3}}],
    # tagging first (a per-token loss: the processes' shares hold different numbers of tokens), in every language
    "intermediate": [
        {
            "name": "multilingual",
            "task": "synth-pos",
            "languages": "all",
            "training": TRAINING,
            "head": {"dropout": 0.0},
        }
    ],
    "targets": [
        {
            "task": "synth-nli",
            "train_languages": ["base"],
            "intermediate": ["multilingual"],
            "training": TRAINING,
            # through the backbone's pooler: this stage's loss reaches every trainable tensor (the tagging stage's
            # leaves the pooler out), so DDP is not asked to look for unused ones
            "head": {"pooling": "cls_pooler", "dropout": 0.0},
        }
    ],
    "references": [],
    "seeds": [0],
}

pytestmark = pytest.mark.slow


def launch(root: Path, processes: int, cache: Path, fsdp: bool = False, env: dict | None = None) -> subprocess.Popen:
    """`xlt run` of the study in `root` under torchrun (or `accelerate launch` with the FSDP config); each
    process records into root/record/rank{r}."""
    config = root / "study.yaml"
    if not config.exists():
        root.mkdir(parents=True)
        config.write_text(yaml.safe_dump({**STUDY, "output_dir": str(root / "out")}))
    launcher = (
        ["accelerate.commands.launch", "--config_file", str(FSDP_CONFIG), "--num_processes", str(processes)]
        + ["--main_process_port", "0"]  # a free port: other launches may run beside it
        if fsdp
        else ["torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
    )
    command = [sys.executable, "-m", *launcher, str(WORKER), str(config), str(root / "record")]
    env = {**os.environ, **(env or {}), "XLT_CACHE": str(cache), "OMP_NUM_THREADS": "1", "PYTHONPATH": _pythonpath()}
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _pythonpath() -> str:
    import xlt

    return os.pathsep.join(filter(None, [str(Path(xlt.__file__).parents[1]), os.environ.get("PYTHONPATH")]))


def finish(process: subprocess.Popen) -> str:
    """Wait for a launch to succeed; returns its stderr, where every process of it wrote."""
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr.decode()[-3000:]
    return stderr.decode()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("ddp")
    one, two = launch(base / "one", 1, base / "cache-one"), launch(base / "two", 2, base / "cache-two")
    finish(one)
    (base / "two" / "stderr.log").write_text(finish(two))
    return base


def record(root: Path, rank: int) -> Path:
    return root / "record" / f"rank{rank}"


def drawn(root: Path, rank: int) -> dict[tuple[int, int], list[tuple]]:
    entries = json.loads((record(root, rank) / "drawn.json").read_text())
    return {(e["stage"], e["step"]): [tuple(x) for x in e["examples"]] for e in entries}


def tensors(root: Path, rank: int) -> dict[str, dict[str, torch.Tensor]]:
    return {path.stem: load_file(path) for path in sorted(record(root, rank).glob("*.safetensors"))}


def test_each_process_trains_on_a_disjoint_half_of_every_global_batch(runs):
    single, first, second = drawn(runs / "one", 0), drawn(runs / "two", 0), drawn(runs / "two", 1)
    assert len(single) == 12 and single.keys() == first.keys() == second.keys()  # 2 stages x 6 steps
    for key, batch in single.items():
        assert len(first[key]) == len(second[key]) == len(batch) // 2
        assert Counter(first[key]) + Counter(second[key]) == Counter(batch)
    assert len({lang for batch in single.values() for lang, _ in batch}) == 7  # the multilingual stage mixes all


def test_both_processes_end_with_the_single_process_tensors(runs):
    single, first, second = tensors(runs / "one", 0), tensors(runs / "two", 0), tensors(runs / "two", 1)
    assert len(single) == 2 and single.keys() == first.keys() == second.keys()  # same stage hashes
    for stage in single:
        assert first[stage].keys() == single[stage].keys()
        for name, tensor in single[stage].items():
            assert torch.equal(first[stage][name], second[stage][name]), name
            assert torch.allclose(first[stage][name], tensor, atol=1e-6, rtol=0), name
    pretrained = load_file(next((runs / "cache-one" / "encoders").glob("*/model.safetensors")))
    moved = [
        (state[name] - pretrained[name.replace("encoder.backbone.", "roberta.")]).abs().max()
        for state in single.values()
        for name in state
        if name.startswith("encoder.backbone.encoder.") and not name.endswith("key.bias")
    ]  # a softmax ignores what a key bias adds: it has no gradient
    assert min(moved) > 1e-3, "every encoder tensor trained, far more than the processes differ"


def written(root: Path, rank: int) -> Counter:
    paths = json.loads((record(root, rank) / "writes.json").read_text())
    prefixes = {os.path.realpath(root / "out"): "out", os.path.realpath(root.parent / f"cache-{root.name}"): "cache"}
    kept = Counter()
    for path in paths:
        if os.path.exists(path):  # temporary files were renamed into place or removed
            prefix = next(p for p in prefixes if path.startswith(p))
            kept[prefixes[prefix] + path[len(prefix) :]] += 1
    return kept


def test_the_main_process_writes_what_a_single_process_writes_and_the_other_process_nothing(runs):
    single, main, other = written(runs / "one", 0), written(runs / "two", 0), written(runs / "two", 1)
    assert not other, f"the second process wrote {sorted(other)[:5]}"
    assert main == single
    assert {"out/results.csv", "out/report.md", "out/provenance.json"} <= set(main)
    assert any(path.startswith("cache/features/") for path in main) and any("/checkpoint/" in p for p in main)


def test_no_process_warns_that_ddp_looked_for_unused_tensors_in_vain(runs):
    """DDP looks for tensors a loss left out only where a stage leaves one out (the pooler under the tagging head),
    so no process warns that `find_unused_parameters=True` found none (the target stage uses every tensor)."""
    log = (runs / "two" / "stderr.log").read_text()
    assert "find_unused_parameters" not in log and "unused parameters" not in log, log[-3000:]


def test_killed_two_process_run_resumes_to_the_uninterrupted_results(runs):
    root = runs / "killed"
    process = launch(root, 2, runs / "cache-two")
    deadline = time.monotonic() + 300
    while not list((root / "out" / "stages").glob("*/resume/state.pt")) and process.poll() is None:
        assert time.monotonic() < deadline, "no checkpoint was written"
        time.sleep(0.02)
    assert process.poll() is None, "the run finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (root / "out" / "results.csv").exists()
    finish(launch(root, 2, runs / "cache-two"))
    assert (root / "out" / "results.csv").read_text() == (runs / "two" / "out" / "results.csv").read_text()
    resumed, uninterrupted = tensors(root, 0), tensors(runs / "two", 0)
    assert resumed.keys() == uninterrupted.keys()
    for stage, state in uninterrupted.items():
        assert all(torch.equal(resumed[stage][name], tensor) for name, tensor in state.items()), stage


@pytest.fixture(scope="module")
def sharded(runs):
    """Two processes under the FSDP config, SIGKILLed by the fault hook at the first stage's third step (after its
    step-2 resume point), then launched again to resume and finish."""
    root, cache = runs / "fsdp", runs / "cache-two"
    killed = launch(root, 2, cache, fsdp=True, env={"XLT_FAULT_MATCH": "^step 3 of", "XLT_FAULT_AT": "1"})
    _, stderr = killed.communicate(timeout=600)
    assert killed.returncode != 0 and b"SIGKILL at point 1" in stderr
    assert list((root / "out" / "stages").glob("*/resume/state.pt")) and not (root / "out" / "results.csv").exists()
    finish(launch(root, 2, cache, fsdp=True))
    return root


def test_fsdp_resumes_to_the_single_process_tensors_checkpoints_and_results(runs, sharded):
    single, main, other = tensors(runs / "one", 0), tensors(sharded, 0), tensors(sharded, 1)
    assert main.keys() == single.keys() and all(not state for state in other.values())  # sharded: rank 1 holds slices
    for stage, state in single.items():
        saved = load_file(sharded / "out" / "stages" / stage / "checkpoint" / "trainable.safetensors")
        assert main[stage].keys() == saved.keys() == state.keys()
        for name, tensor in state.items():  # a resume that lost the optimizer state would be off by about lr
            assert torch.allclose(main[stage][name], tensor, atol=1e-6, rtol=0), name
            assert torch.equal(saved[name], main[stage][name]), name  # the checkpoint: whole tensors
    # each evaluation loaded the checkpoint into a plain, unsharded model
    assert (sharded / "out" / "results.csv").read_text() == (runs / "one" / "out" / "results.csv").read_text()


def test_under_fsdp_only_the_main_process_writes(runs, sharded):
    main = json.loads((record(sharded, 0) / "writes.json").read_text())  # the resumed launch's writes
    other = json.loads((record(sharded, 1) / "writes.json").read_text())
    assert all(path.endswith(".lock") for path in other), other  # a lock taken to read the cache it shares
    single = {path for path in written(runs / "one", 0) if path.startswith("out/")}
    out = os.path.realpath(sharded / "out")
    kept = {"out" + path[len(out) :] for path in main if path.startswith(out) and os.path.exists(path)}
    assert kept and kept <= single and "out/results.csv" in kept
