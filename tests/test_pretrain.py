"""Masked-LM pretraining: loadable output, falling loss, determinism, one-line errors on bad files, and
resumption: stopped (SIGTERM, Ctrl-C) or killed, the same command ends with the weights of a run that never
stopped."""

from __future__ import annotations

import json
import os
import random
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from in_process import run_xlt
from small_study import small_study, write_config
from xlt.data.synthetic_grammar import Realiser, build_lexicons
from xlt.data.synthetic_tasks import text_lines
from xlt.errors import XltError
from xlt.pretrain import PretrainOptions, mask_tokens, pack_blocks, pretrain, token_ids, work_dir
from xlt.runtime import faults

torch.set_num_threads(2)
TINY = PretrainOptions(vocab_size=400, hidden_size=32, layers=2, heads=2, ffn=64, max_length=32, max_positions=64,
                       lr=5e-3, warmup_steps=5, batch_size=16, max_steps=40, log_every=5, dropout=0.1,
                       attention_dropout=0.0)  # fmt: skip


@pytest.fixture(scope="module")
def text_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    lexicons = build_lexicons(0)
    paths = []
    for lang in ("base", "cyrl"):
        lines = text_lines(random.Random(lang), Realiser(lang, lexicons[lang]), 300)
        (root / f"{lang}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(root / f"{lang}.txt")
    return paths


@pytest.fixture(scope="module")
def pretrained(text_files, tmp_path_factory):
    return pretrain(text_files, tmp_path_factory.mktemp("runs") / "enc", TINY, progress=False)


def test_output_loads_with_auto_classes_and_loss_falls(pretrained):
    from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(pretrained)
    mlm = AutoModelForMaskedLM.from_pretrained(pretrained)
    encoder = AutoModel.from_pretrained(pretrained)
    batch = tokenizer(["Anna ke 5 ."], return_tensors="pt")
    assert mlm(**batch).logits.shape[-1] == len(tokenizer)
    assert encoder(**batch).last_hidden_state.shape[-1] == TINY.hidden_size
    assert (pretrained / "model.safetensors").exists()
    curve = json.loads((pretrained / "loss.json").read_text())
    assert len(curve) == TINY.max_steps // TINY.log_every
    assert curve[-1]["loss"] < curve[0]["loss"] - 0.5
    assert (pretrained / "loss.csv").read_text().startswith("step,loss\n")


def test_the_saved_config_carries_each_dropout_and_the_fast_ids_are_the_tokenizers(pretrained, text_files):
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(pretrained)
    assert (config.hidden_dropout_prob, config.attention_probs_dropout_prob) == (TINY.dropout, TINY.attention_dropout)
    tokenizer = AutoTokenizer.from_pretrained(pretrained)
    lines = text_files[1].read_text(encoding="utf-8").splitlines()
    assert token_ids(tokenizer, lines) == tokenizer(lines, add_special_tokens=False)["input_ids"]


@pytest.mark.slow  # pretrains twice
def test_pretraining_is_deterministic(pretrained, text_files, tmp_path):
    again = pretrain(text_files, tmp_path / "again", TINY, progress=False)
    assert_same_weights(again, pretrained)


def assert_same_weights(encoder: Path, reference: Path) -> None:
    """Every tensor equal (torch.equal), and the same loss curve."""
    mine, theirs = load_file(encoder / "model.safetensors"), load_file(reference / "model.safetensors")
    assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)
    assert (encoder / "loss.json").read_text() == (reference / "loss.json").read_text()


def test_existing_output_is_refused(pretrained, text_files):
    with pytest.raises(XltError, match="already exists"):
        pretrain(text_files, pretrained, TINY, progress=False)


@pytest.mark.parametrize(
    "content, problem",
    [(None, "no such"), (b"", "empty"), (b"\n  \n", "empty"), (b"\xff\xfe\xfa bad", "not UTF-8")],
)
def test_bad_text_file_gives_one_line(tmp_path, text_files, content, problem):
    bad = tmp_path / "bad.txt"
    if content is not None:
        bad.write_bytes(content)
    with pytest.raises(XltError, match=problem) as err:
        pretrain([text_files[0], bad], tmp_path / "out", TINY, progress=False)
    assert "\n" not in str(err.value) and str(bad) in str(err.value)
    assert not (tmp_path / "out").exists()


def test_masking_rates_and_labels():
    ids = torch.randint(5, 100, (64, 64))
    ids[:, 0] = 0
    inputs, labels = mask_tokens(ids, PretrainOptions(), mask_id=4, special_max=4, vocab=100,
                                 gen=torch.Generator().manual_seed(0))  # fmt: skip
    chosen = labels != -100
    assert abs(chosen[:, 1:].float().mean().item() - 0.4) < 0.02 and not chosen[:, 0].any()
    assert torch.equal(labels[chosen], ids[chosen])
    assert abs((inputs[chosen] == 4).float().mean().item() - 0.8) < 0.03
    assert torch.equal(inputs[~chosen], ids[~chosen])


def test_blocks_pack_whole_sentences_from_a_row_start():
    blocks = pack_blocks([[5, 6, 7], [8, 9], [10, 11, 12, 13]], length=8, bos=0, eos=2, pad=1)
    assert blocks.tolist() == [[0, 5, 6, 7, 2, 8, 9, 2], [0, 10, 11, 12, 13, 2, 1, 1]]


# --- resumption ---


def pretrain_args(files, out: Path, options: PretrainOptions, checkpoint_every: int) -> list[str]:
    """`xlt pretrain` arguments for these options."""
    fields = options.weights_options()
    sets = [arg for key, value in fields.items() for arg in ("--set", f"{key}={json.dumps(value)}")]
    return ["pretrain", *map(str, files), "--out", str(out), "--checkpoint-every", str(checkpoint_every), *sets]


def fault_at(monkeypatch, n: int, match: str, signal_name: str) -> None:
    """The fault hook (`xlt.runtime.faults`) sends this process `signal_name` at the n-th point matching `match`."""
    monkeypatch.setattr(faults, "_passed", {"all": 0, "matching": 0})
    for name, value in {"XLT_FAULT_AT": str(n), "XLT_FAULT_MATCH": match, "XLT_FAULT_SIGNAL": signal_name}.items():
        monkeypatch.setenv(name, value)


def resume_step(out: Path) -> int:
    return torch.load(work_dir(out) / "resume" / "state.pt", weights_only=True)["step"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda signum: signum.name)
def test_a_stopped_xlt_pretrain_says_how_to_resume_and_resuming_gives_the_uninterrupted_weights(
    pretrained, text_files, tmp_path, monkeypatch, capsys, signum
):
    """A stop signal at step 13 (checkpoints every 1000 steps: the signal's is the only one): exit 128 + signal,
    one line naming the command; that command resumes at step 13 and ends with every tensor of a run that never
    stopped, the output appearing only then."""
    out = tmp_path / "encoder"
    args = pretrain_args(text_files, out, TINY, checkpoint_every=1000)
    name = signal.Signals(signum).name
    fault_at(monkeypatch, 13, "^pretraining step ", name)
    code, stderr = run_xlt(capsys, *args)
    assert code == 128 + signum
    assert stderr.strip().splitlines()[-1] == (
        f"error: stopped by {name} after step 13 of {TINY.max_steps} of pretraining (checkpoint saved);"
        f" run `xlt {shlex.join(args)}` again to resume"
    )
    assert not out.exists() and resume_step(out) == 13
    monkeypatch.delenv("XLT_FAULT_AT")
    code, stderr = run_xlt(capsys, *args)
    assert code == 0, stderr
    assert f"pretraining: resuming from step 13 of {TINY.max_steps}" in stderr
    assert_same_weights(out, pretrained)
    assert not work_dir(out).exists()


def test_an_unfinished_pretraining_is_not_resumed_with_other_options(text_files, tmp_path, monkeypatch, capsys):
    out = tmp_path / "encoder"
    fault_at(monkeypatch, 5, "^pretraining step ", "SIGTERM")
    assert run_xlt(capsys, *pretrain_args(text_files, out, TINY, checkpoint_every=1000))[0] == 128 + signal.SIGTERM
    monkeypatch.delenv("XLT_FAULT_AT")
    other = TINY.model_copy(update={"lr": TINY.lr / 2})
    code, stderr = run_xlt(capsys, *pretrain_args(text_files, out, other, checkpoint_every=1000))
    assert code == 2
    (line,) = stderr.strip().splitlines()[-1:]
    assert line == (
        f"error: {work_dir(out)} holds an unfinished pretraining of other options or text files; run the command"
        f" that started it to finish it, or delete {work_dir(out)} to start this one"
    )
    assert resume_step(out) == 5 and not out.exists()


def xlt_command(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m xlt ARGS` in a process of its own (one a SIGKILL can end)."""
    environment = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "xlt", *args], capture_output=True, text=True, env=environment)


@pytest.mark.slow  # three processes: each imports torch
def test_a_kill_while_a_resume_point_is_written_resumes_from_the_one_before(text_files, tmp_path):
    """SIGKILL at the worst moment of the second resume point (its state written, not yet renamed into place):
    the rerun resumes from the first (step 5) and ends with the weights of an uninterrupted process."""
    reference, out = tmp_path / "reference", tmp_path / "encoder"
    assert xlt_command(pretrain_args(text_files, reference, TINY, checkpoint_every=5)).returncode == 0
    args = pretrain_args(text_files, out, TINY, checkpoint_every=5)
    kill = {"XLT_FAULT_AT": "2", "XLT_FAULT_MATCH": r"^write .*/resume/state\.pt$"}
    assert xlt_command(args, kill).returncode == -signal.SIGKILL
    assert resume_step(out) == 5 and not out.exists()
    resumed = xlt_command(args)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"pretraining: resuming from step 5 of {TINY.max_steps}" in resumed.stderr
    assert_same_weights(out, reference)


@pytest.mark.slow  # a study's start, twice, on an empty cache
def test_a_study_stopped_while_it_pretrains_resumes_its_encoder_when_run_again(tmp_path, monkeypatch, capsys):
    """`model.pretrain`: SIGTERM at step 5 of 12 stops the study with the line saying to run it again; run again,
    it resumes at step 5 and its cached encoder has the weights of one pretrained without a stop."""
    from xlt.config import load_study
    from xlt.data.synthetic import pretraining_files
    from xlt.pipeline.plan.resources import resolve

    monkeypatch.setenv("XLT_CACHE", str(tmp_path / "cache"))  # an empty cache: the study pretrains
    config = write_config(tmp_path / "study.yaml", small_study(tmp_path / "study"))
    fault_at(monkeypatch, 5, "^pretraining step ", "SIGTERM")
    code, stderr = run_xlt(capsys, "run", str(config))
    assert code == 128 + signal.SIGTERM
    assert stderr.strip().splitlines()[-1] == (
        "error: stopped by SIGTERM after step 5 of 12 of pretraining (checkpoint saved);"
        f" run `xlt {shlex.join(['run', str(config)])}` again to resume"
    )
    fault_at(monkeypatch, 1, "^step ", "SIGTERM")  # the rerun stops at the first step after pretraining
    code, stderr = run_xlt(capsys, "run", str(config))
    assert code == 128 + signal.SIGTERM and "pretraining: resuming from step 5 of 12" in stderr
    resources = resolve(load_study(config, []), progress=False, build=False)
    reference = pretrain(
        pretraining_files(resources.data_dir), tmp_path / "reference", load_study(config, []).model.pretrain.resolved,
        progress=False,
    )  # fmt: skip
    assert_same_weights(Path(resources.model_path), reference)


@pytest.mark.slow  # a process of its own: whether a library's bar shows depends on what the process set up
def test_xlt_pretrain_logs_its_own_lines_and_no_library_bar(text_files, tmp_path):
    out = tmp_path / "encoder"
    args = pretrain_args(text_files, out, TINY.model_copy(update={"max_steps": 5}), checkpoint_every=1000)
    with open(tmp_path / "stdout", "w") as stdout, open(tmp_path / "stderr", "w") as stderr:
        done = subprocess.run([sys.executable, "-m", "xlt", *args], stdout=stdout, stderr=stderr, timeout=300)
    logged = (tmp_path / "stdout").read_text() + (tmp_path / "stderr").read_text()
    assert done.returncode == 0, logged[-2000:]
    assert f"encoder and tokenizer saved in {out}" in logged
    assert "Writing model shards" not in logged  # transformers' save_pretrained bar
