"""Masked-LM pretraining: loadable output, falling loss, determinism, one-line errors on bad files."""

from __future__ import annotations

import json
import random

import pytest
import torch
from safetensors.torch import load_file

from xlt.data.synthetic_grammar import Realiser, build_lexicons
from xlt.data.synthetic_tasks import text_lines
from xlt.errors import XltError
from xlt.pretrain import PretrainOptions, mask_tokens, pack_blocks, pretrain, token_ids

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
    first, second = load_file(pretrained / "model.safetensors"), load_file(again / "model.safetensors")
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


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
