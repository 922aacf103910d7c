"""Deep prompt tuning: parameter counts, masking, padding, an independent reference, PEFT parity."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from transformers import XLMRobertaConfig, XLMRobertaModel

from xlt.methods import get_method

torch.set_num_threads(2)

DeepPrompt = get_method("deep_prompt")


def adapt(backbone, **options):
    torch.manual_seed(0)
    return DeepPrompt().adapt(copy.deepcopy(backbone), DeepPrompt.Options(**options)).eval()


def padded_batch(vocab_size: int, lengths=(9, 5, 7), pad_id: int = 1):
    generator = torch.Generator().manual_seed(0)
    input_ids = torch.randint(5, vocab_size, (len(lengths), max(lengths)), generator=generator)
    attention_mask = torch.zeros_like(input_ids)
    for row, length in enumerate(lengths):
        attention_mask[row, :length] = 1
    return input_ids.masked_fill(attention_mask == 0, pad_id), attention_mask


def trainable_count(module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def xlmr_large_on_meta() -> XLMRobertaModel:
    config = XLMRobertaConfig(
        vocab_size=250_002,
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
        max_position_embeddings=514,
        pad_token_id=1,
    )
    with torch.device("meta"):
        return XLMRobertaModel(config)


@pytest.mark.parametrize("length, expected", [(16, 786_432), (32, 1_572_864)])
def test_trainable_count_on_xlmr_large_shape(length, expected):
    with torch.device("meta"):
        encoder = DeepPrompt().adapt(xlmr_large_on_meta(), DeepPrompt.Options(prompt_length=length))
    total = sum(p.numel() for p in encoder.parameters())
    assert trainable_count(encoder) == expected == 2 * 24 * length * 1024
    assert 550e6 < total < 570e6
    assert trainable_count(encoder) / total == pytest.approx(0.0014 * length / 16, abs=1e-4)


def test_reparameterized_count_on_xlmr_large_shape():
    """The P x hidden embedding, then Linear(hidden, m) + tanh + Linear(m, 2 x layers x hidden), biases included."""
    options = DeepPrompt.Options(prompt_length=16, reparameterize=True, reparam_hidden_size=512)
    with torch.device("meta"):
        encoder = DeepPrompt().adapt(xlmr_large_on_meta(), options)
    width = 2 * 24 * 1024
    assert trainable_count(encoder) == 16 * 1024 + (1024 * 512 + 512) + (512 * width + width)


def test_reparameterized_count_is_embedding_plus_mlp(tiny_backbone):
    encoder = adapt(tiny_backbone, prompt_length=8, reparameterize=True, reparam_hidden_size=20)
    hidden, layers, mlp = 32, 2, 20
    expected = 8 * hidden + (hidden * mlp + mlp) + (mlp * 2 * layers * hidden + 2 * layers * hidden)
    assert trainable_count(encoder) == expected
    assert encoder.prompts().shape == (layers, 2, 8, hidden)


@pytest.mark.parametrize("shift", [False, True])
def test_masked_prompts_give_the_plain_backbone(tiny_backbone, shift):
    input_ids, attention_mask = padded_batch(tiny_backbone.config.vocab_size)
    encoder = adapt(tiny_backbone, prompt_length=4, shift_positions=shift)
    prompted = encoder(input_ids, attention_mask).last_hidden_state

    def hide_prompts(mask):
        return torch.cat([torch.zeros(mask.shape[0], 4, dtype=torch.bool), mask.bool()], dim=1)

    encoder.prompt_key_mask = hide_prompts
    masked = encoder(input_ids, attention_mask, output_hidden_states=True)
    positions = torch.cumsum(attention_mask, 1) * attention_mask + 1 + (4 * attention_mask if shift else 0)
    plain = tiny_backbone(
        input_ids=input_ids, attention_mask=attention_mask, position_ids=positions, output_hidden_states=True
    )
    real = attention_mask.bool()
    for ours, theirs in zip(masked.hidden_states, plain.hidden_states, strict=True):
        torch.testing.assert_close(ours[real], theirs[real], atol=1e-5, rtol=0)
    assert (prompted[real] - plain.last_hidden_state[real]).abs().max() > 1e-3


def test_padding_does_not_change_real_tokens(tiny_backbone):
    input_ids, attention_mask = padded_batch(tiny_backbone.config.vocab_size)
    encoder = adapt(tiny_backbone)
    batched = encoder(input_ids, attention_mask).last_hidden_state
    for row, length in enumerate(attention_mask.sum(1).tolist()):
        alone = encoder(input_ids[row : row + 1, :length], attention_mask[row : row + 1, :length])
        torch.testing.assert_close(batched[row, :length], alone.last_hidden_state[0], atol=1e-5, rtol=0)


def reference_forward(backbone, table, input_ids, attention_mask, shift: bool) -> torch.Tensor:
    """P-tuning v2 written out with plain tensor ops: prefix keys/values concatenated in every layer."""
    config = backbone.config
    heads, prompt_length = config.num_attention_heads, table.shape[2]
    head_size = config.hidden_size // heads
    batch, length = input_ids.shape
    first = config.pad_token_id + 1 + (prompt_length if shift else 0)
    positions = torch.where(attention_mask.bool(), torch.arange(length) + first, config.pad_token_id)
    emb = backbone.embeddings
    x = emb.word_embeddings.weight[input_ids] + emb.position_embeddings.weight[positions]
    x = x + emb.token_type_embeddings.weight[0]
    x = F.layer_norm(x, (config.hidden_size,), emb.LayerNorm.weight, emb.LayerNorm.bias, config.layer_norm_eps)
    keep = torch.cat([torch.ones(batch, prompt_length, dtype=torch.bool), attention_mask.bool()], dim=1)
    additive = torch.zeros(keep.shape).masked_fill(~keep, float("-inf"))[:, None, None, :]

    def heads_of(t):  # [batch, n, hidden] -> [batch, heads, n, head_size]
        return t.reshape(t.shape[0], t.shape[1], heads, head_size).permute(0, 2, 1, 3)

    def norm(t, module):
        return F.layer_norm(t, (config.hidden_size,), module.weight, module.bias, config.layer_norm_eps)

    for index, layer in enumerate(backbone.encoder.layer):
        attention = layer.attention.self
        q = heads_of(x @ attention.query.weight.T + attention.query.bias)
        prefix_k, prefix_v = (heads_of(table[index, j].expand(batch, -1, -1)) for j in (0, 1))
        k = torch.cat([prefix_k, heads_of(x @ attention.key.weight.T + attention.key.bias)], dim=2)
        v = torch.cat([prefix_v, heads_of(x @ attention.value.weight.T + attention.value.bias)], dim=2)
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(head_size) + additive, dim=-1)
        context = (probs @ v).permute(0, 2, 1, 3).reshape(batch, length, config.hidden_size)
        out = layer.attention.output
        a = norm(context @ out.dense.weight.T + out.dense.bias + x, out.LayerNorm)
        inner = F.gelu(a @ layer.intermediate.dense.weight.T + layer.intermediate.dense.bias)
        x = norm(inner @ layer.output.dense.weight.T + layer.output.dense.bias + a, layer.output.LayerNorm)
    return x


@pytest.mark.parametrize("shift", [False, True])
def test_matches_reference_computation(tiny_backbone, shift):
    input_ids, attention_mask = padded_batch(tiny_backbone.config.vocab_size)
    encoder = adapt(tiny_backbone, prompt_length=6, shift_positions=shift)
    with torch.no_grad():
        ours = encoder(input_ids, attention_mask).last_hidden_state
        theirs = reference_forward(tiny_backbone, encoder.prompts(), input_ids, attention_mask, shift)
    real = attention_mask.bool()
    torch.testing.assert_close(ours[real], theirs[real], atol=1e-5, rtol=0)


def test_reparameterized_prompts_match_reference(tiny_backbone):
    input_ids, attention_mask = padded_batch(tiny_backbone.config.vocab_size)
    encoder = adapt(tiny_backbone, prompt_length=3, reparameterize=True, reparam_hidden_size=16)
    with torch.no_grad():
        ours = encoder(input_ids, attention_mask).last_hidden_state
        theirs = reference_forward(tiny_backbone, encoder.prompts(), input_ids, attention_mask, shift=True)
    real = attention_mask.bool()
    torch.testing.assert_close(ours[real], theirs[real], atol=1e-5, rtol=0)


def test_same_outputs_as_peft_prefix_tuning(tiny_backbone):
    from peft import PrefixTuningConfig, get_peft_model

    input_ids, attention_mask = padded_batch(tiny_backbone.config.vocab_size)
    encoder = adapt(tiny_backbone, prompt_length=5, shift_positions=True)  # PEFT shifts positions by P
    table = encoder.prompts().detach()  # [layers, 2, P, hidden]
    try:
        peft_model = get_peft_model(
            copy.deepcopy(tiny_backbone), PrefixTuningConfig(task_type="FEATURE_EXTRACTION", num_virtual_tokens=5)
        ).eval()
        with torch.no_grad():  # PEFT's row p holds [layer0 key, layer0 value, layer1 key, ...]
            peft_model.prompt_encoder["default"].embedding.weight.copy_(table.permute(2, 0, 1, 3).reshape(5, -1))
            theirs = peft_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    except Exception as error:  # noqa: BLE001 - any failure inside PEFT means "does not run here"
        pytest.skip(f"PEFT prefix tuning does not run on this transformers: {error}")
    ours = encoder(input_ids, attention_mask).last_hidden_state
    real = attention_mask.bool()
    torch.testing.assert_close(ours[real], theirs[real], atol=1e-5, rtol=0)


def test_max_input_length_accounts_for_shifted_positions(tiny_backbone):
    pretrained_length = tiny_backbone.config.max_position_embeddings - 2
    shifted = adapt(tiny_backbone, prompt_length=16)
    assert shifted.max_input_length == pretrained_length - 16
    assert adapt(tiny_backbone, shift_positions=False).max_input_length == pretrained_length
    too_long = torch.full((1, shifted.max_input_length + 1), 7)
    with pytest.raises(ValueError, match="max_input_length"):
        shifted(too_long, torch.ones_like(too_long))


def test_frozen_backbone_stays_in_eval_mode_unless_asked(tiny_backbone):
    quiet = adapt(tiny_backbone).train()
    assert not quiet.backbone.training and quiet.prompt_dropout.training
    noisy = adapt(tiny_backbone, encoder_dropout=True).train()
    assert noisy.backbone.training and noisy.prompt_dropout.training
    assert not adapt(tiny_backbone, encoder_dropout=True).train().eval().backbone.training


def test_prompt_dropout_applies_in_training_only(tiny_backbone):
    input_ids, attention_mask = padded_batch(tiny_backbone.config.vocab_size)
    encoder = adapt(tiny_backbone, prompt_dropout=0.5)
    eval_out = [encoder(input_ids, attention_mask).last_hidden_state for _ in range(2)]
    assert torch.equal(*eval_out)
    encoder.train()
    train_out = [encoder(input_ids, attention_mask).last_hidden_state for _ in range(2)]
    assert not torch.equal(*train_out)


def test_hidden_states_are_returned_only_when_asked(tiny_backbone):
    input_ids, attention_mask = padded_batch(tiny_backbone.config.vocab_size)
    encoder = adapt(tiny_backbone)
    assert encoder(input_ids, attention_mask).hidden_states is None
    states = encoder(input_ids, attention_mask, output_hidden_states=True).hidden_states
    assert len(states) == tiny_backbone.config.num_hidden_layers + 1 and states[0].shape[1] == input_ids.shape[1]
