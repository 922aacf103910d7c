"""Every adaptation method: what trains, what stays frozen, input lengths, checkpoints and transfer."""

from __future__ import annotations

import copy

import pytest
import torch
from safetensors.torch import save_file
from torch import nn
from transformers import XLMRobertaConfig, XLMRobertaModel

from xlt.methods import METHODS, get_method
from xlt.model import WEIGHTS, TaskModel, load_trainable, save_trainable

torch.set_num_threads(2)

ALL = list(METHODS)  # every registered method follows the contract; a new one is tested by being registered
# what each shipped method trains (a method registered later is held to the contract without this entry)
TRAINABLE = {
    "finetune": lambda names: set(names),
    "deep_prompt": lambda names: {"prompts.table"},
    "shallow_prompt": lambda names: {"prompts"},
    "lora": lambda names: {name for name in names if ".lora_" in name},
}


class MeanPoolHead(nn.Module):
    """A stand-in task head: mean over real tokens, then a linear classifier."""

    def __init__(self, hidden: int, classes: int = 3):
        super().__init__()
        self.linear = nn.Linear(hidden, classes)

    def forward(self, encoder, batch):
        states = encoder(batch["input_ids"], batch["attention_mask"]).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
        return self.linear((states * mask).sum(1) / mask.sum(1))


def build(backbone, method: str, seed: int = 0, classes: int = 3, **options) -> TaskModel:
    torch.manual_seed(seed)
    cls = get_method(method)
    encoder = cls().adapt(copy.deepcopy(backbone), cls.Options(**options))
    return TaskModel(encoder, MeanPoolHead(backbone.config.hidden_size, classes))


def make_batch(vocab_size: int, seed: int = 0, classes: int = 3) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(5, vocab_size, (4, 8), generator=generator)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 5:] = 0
    return {
        "input_ids": input_ids.masked_fill(attention_mask == 0, 1),
        "attention_mask": attention_mask,
        "labels": torch.randint(0, classes, (4,), generator=generator),
    }


def train_steps(model: TaskModel, batch, steps: int = 3) -> None:
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-2, weight_decay=0.01)
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(batch), batch["labels"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()


def test_the_four_methods_are_registered():
    assert set(TRAINABLE) <= set(METHODS)


@pytest.mark.parametrize("method", ALL)
def test_gradients_reach_exactly_the_trainable_parameters(tiny_backbone, method):
    model = build(tiny_backbone, method)
    batch = make_batch(tiny_backbone.config.vocab_size)
    nn.functional.cross_entropy(model(batch), batch["labels"]).backward()
    for name, parameter in model.named_parameters():
        # the mean-pool head never reads the pooler; lora_A gets no gradient while lora_B is still zero
        if parameter.requires_grad and "pooler" not in name:
            assert parameter.grad is not None, name
            assert parameter.grad.abs().sum() > 0 or ".lora_A." in name, name
        if not parameter.requires_grad:
            assert parameter.grad is None, name
    trainable = {name for name, p in model.encoder.named_parameters() if p.requires_grad}
    assert trainable
    if method in TRAINABLE:
        assert trainable == TRAINABLE[method]([name for name, _ in model.encoder.named_parameters()])


@pytest.mark.parametrize("method", ALL)
def test_frozen_weights_stay_bit_identical_while_the_method_trains(tiny_backbone, method):
    model = build(tiny_backbone, method)
    frozen_before = {n: p.clone() for n, p in model.encoder.named_parameters() if not p.requires_grad}
    if not frozen_before:
        pytest.skip(f"{method} trains every weight: nothing is frozen")
    trained_before = {n: p.clone() for n, p in model.encoder.named_parameters() if p.requires_grad}
    train_steps(model, make_batch(tiny_backbone.config.vocab_size))
    params = dict(model.encoder.named_parameters())
    assert all(torch.equal(params[n], before) for n, before in frozen_before.items())
    assert all(not torch.equal(params[n], before) for n, before in trained_before.items())
    original = dict(tiny_backbone.named_parameters())
    for name, parameter in params.items():  # and they are the pretrained weights themselves
        if ".lora_" not in name and not name.startswith("prompts"):
            assert torch.equal(parameter, original[name.removeprefix("backbone.").replace(".base_layer", "")])


@pytest.mark.parametrize("method", ALL)
def test_input_at_max_length_runs(tiny_backbone, method):
    encoder = build(tiny_backbone, method).encoder.eval()
    input_ids = torch.full((2, encoder.max_input_length), 7)
    out = encoder(input_ids, torch.ones_like(input_ids), output_hidden_states=True)
    assert out.last_hidden_state.shape == (2, encoder.max_input_length, encoder.hidden_size)
    assert len(out.hidden_states) == tiny_backbone.config.num_hidden_layers + 1
    assert all(state.shape == out.last_hidden_state.shape for state in out.hidden_states)


@pytest.mark.parametrize("method", ALL)
def test_checkpoint_reloads_onto_a_fresh_base_exactly(tiny_backbone, method, tmp_path):
    batch = make_batch(tiny_backbone.config.vocab_size)
    trained = build(tiny_backbone, method)
    train_steps(trained, batch)
    save_trainable(trained, tmp_path)
    fresh = build(tiny_backbone, method, seed=1).eval()
    assert not torch.equal(fresh(batch), trained(batch))
    loaded = load_trainable(fresh, tmp_path)
    assert loaded == sorted(trained.trainable_state())
    assert torch.equal(fresh(batch), trained(batch))


@pytest.mark.parametrize("method", ALL)
def test_encoder_carries_over_to_a_new_task(tiny_backbone, method, tmp_path):
    """Intermediate stage -> target stage: load "encoder." tensors only; the new head keeps its own init."""
    source = build(tiny_backbone, method)
    train_steps(source, make_batch(tiny_backbone.config.vocab_size))
    save_trainable(source, tmp_path)
    target = build(tiny_backbone, method, seed=1, classes=5).eval()
    head_before = copy.deepcopy(target.head.state_dict())
    load_trainable(target, tmp_path, prefix="encoder.")
    source_encoder = {n: p for n, p in source.trainable_state().items() if n.startswith("encoder.")}
    target_state = target.trainable_state()
    assert source_encoder and all(torch.equal(target_state[n], t) for n, t in source_encoder.items())
    assert all(torch.equal(target.head.state_dict()[k], v) for k, v in head_before.items())
    ids, mask = make_batch(tiny_backbone.config.vocab_size, seed=2)["input_ids"], torch.ones(4, 8, dtype=torch.long)
    assert torch.equal(target.encoder(ids, mask).last_hidden_state, source.encoder(ids, mask).last_hidden_state)


@pytest.mark.parametrize("method", ["deep_prompt", "shallow_prompt"])
def test_prompt_checkpoint_is_a_small_fraction_of_the_model(method, tmp_path):
    """On XLM-R-like proportions (the vocabulary dominates), a prompt stage stays far under 2%."""
    config = XLMRobertaConfig(
        vocab_size=8000,
        hidden_size=128,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=512,
        max_position_embeddings=130,
        pad_token_id=1,
    )
    torch.manual_seed(0)
    backbone = XLMRobertaModel(config)
    model = build(backbone, method)
    save_trainable(model, tmp_path / "stage")
    full = tmp_path / "full.safetensors"
    save_file({n: t.contiguous() for n, t in model.state_dict().items()}, str(full))
    ratio = (tmp_path / "stage" / WEIGHTS).stat().st_size / full.stat().st_size
    assert ratio < 0.02


def test_random_init_reference_is_fresh_and_seeded(tiny_backbone):
    first, second = (build(tiny_backbone, "finetune", seed=3, init="random") for _ in range(2))
    pretrained = dict(tiny_backbone.named_parameters())
    for name, parameter in first.encoder.backbone.named_parameters():
        assert torch.equal(parameter, dict(second.encoder.backbone.named_parameters())[name])
        assert parameter.shape == pretrained[name].shape
    query = "encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(dict(first.encoder.backbone.named_parameters())[query], pretrained[query])
    assert first.encoder.backbone.pooler is not None


def test_shallow_prompts_keep_rows_aligned_with_input_tokens(tiny_backbone):
    encoder = build(tiny_backbone, "shallow_prompt", prompt_length=5).encoder.eval()
    batch = make_batch(tiny_backbone.config.vocab_size)
    out = encoder(batch["input_ids"], batch["attention_mask"]).last_hidden_state
    assert out.shape == (*batch["input_ids"].shape, tiny_backbone.config.hidden_size)
    alone = encoder(batch["input_ids"][1:2, :5], batch["attention_mask"][1:2, :5]).last_hidden_state
    torch.testing.assert_close(out[1, :5], alone[0], atol=1e-5, rtol=0)  # padding changes no real row


def test_lora_starts_at_the_backbone_and_moves_away(tiny_backbone):
    model = build(tiny_backbone, "lora", r=4, alpha=8, dropout=0.0)
    batch = make_batch(tiny_backbone.config.vocab_size)
    plain = tiny_backbone(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    before = model.encoder(batch["input_ids"], batch["attention_mask"]).last_hidden_state
    torch.testing.assert_close(before, plain, atol=1e-6, rtol=0)  # lora_B starts at zero
    train_steps(model, batch)
    after = model.encoder(batch["input_ids"], batch["attention_mask"]).last_hidden_state
    assert (after - plain).abs().max() > 1e-3
    assert model.count_parameters()["trainable"] == 2 * 2 * (32 * 4 + 4 * 32) + 32 * 3 + 3


def test_fine_tuning_encodes_with_the_backbones_forward_and_its_hidden_states_only_when_asked(tiny_backbone):
    encoder = build(tiny_backbone, "finetune").encoder.eval()
    batch = make_batch(tiny_backbone.config.vocab_size)
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    theirs = copy.deepcopy(tiny_backbone).eval()(**inputs, output_hidden_states=True)
    plain = encoder(*inputs.values())
    assert plain.hidden_states is None and torch.equal(plain.last_hidden_state, theirs.last_hidden_state)
    full = encoder(*inputs.values(), output_hidden_states=True)
    assert len(full.hidden_states) == len(theirs.hidden_states)
    assert all(torch.equal(ours, real) for ours, real in zip(full.hidden_states, theirs.hidden_states))
